package models

import "time"

// User is the identity that every recipe's login method belongs to. Recipes
// keep their own rows (an e-mail and password hash, a provider account, ...)
// keyed by this ID.
type User struct {
	ID         string    `gorm:"column:id;primaryKey;size:64"`
	TimeJoined time.Time `gorm:"column:time_joined;not null;index"`
}

// TableName returns TableUsers.
func (User) TableName() string { return TableUsers }

// UserTenant records that a user belongs to a tenant. Every user belongs to
// at least one tenant ("public" by default).
type UserTenant struct {
	UserID   string `gorm:"column:user_id;primaryKey;size:64"`
	TenantID string `gorm:"column:tenant_id;primaryKey;size:64;index"`
}

// TableName returns TableUserTenants.
func (UserTenant) TableName() string { return TableUserTenants }
