package models

import "time"

// User is the identity that every recipe's login method belongs to. Recipes
// keep their own rows (an e-mail and password hash, a provider account, ...)
// keyed by this ID.
//
// With account linking (recipes/accountlinking) a User is a "recipe user":
// one that is a primary user (IsPrimary) stands for itself and every user
// linked to it; a linked one names its primary in PrimaryUserID. Both
// columns keep their zero values for users that were never linked, so
// rows written before linking existed need no migration of data.
type User struct {
	ID         string    `gorm:"column:id;primaryKey;size:64"`
	TimeJoined time.Time `gorm:"column:time_joined;not null;index"`
	// PrimaryUserID is the primary user this user is linked to; empty
	// when it is not linked (a primary user's own is empty too).
	PrimaryUserID string `gorm:"column:primary_user_id;size:64;not null;default:'';index"`
	// IsPrimary marks a primary user.
	IsPrimary bool `gorm:"column:is_primary;not null;default:false"`
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
