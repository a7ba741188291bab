package models

import "time"

// TableThirdPartyUsers is the table of the third-party (OAuth2 / OpenID
// Connect) sign-in recipe.
const TableThirdPartyUsers = "ginauth_thirdparty_users"

func init() { register(&ThirdPartyUser{}) }

// ThirdPartyTables lists the tables the thirdparty recipe needs.
func ThirdPartyTables() []string { return []string{TableThirdPartyUsers} }

// ThirdPartyUser is a provider account ("google", "github", ...) used to sign
// in. Its UserID is the core User's ID (the recipe user id and the user id
// are the same).
//
// An account is identified by (provider id, the provider's user id) in each
// tenant it signs in to: the key of ginauth_login_tenants (LoginTenant),
// written by the AfterCreate hook in the creating transaction, is what
// makes two concurrent first sign-ins of one account yield one user. This
// table has no unique index of its own, so that an account whose user was
// disassociated from a tenant can sign up there again. Email is the address the provider
// last reported, stored normalised (trimmed, lower-case); it is not unique,
// because two providers may report the same address, and accounts are never
// merged on it.
type ThirdPartyUser struct {
	UserID           string    `gorm:"column:user_id;primaryKey;size:64"`
	TenantID         string    `gorm:"column:tenant_id;not null;size:64;index:ginauth_thirdparty_users_tenant"`
	ThirdPartyID     string    `gorm:"column:third_party_id;not null;size:64;index:ginauth_thirdparty_users_provider_account,priority:1"`
	ThirdPartyUserID string    `gorm:"column:third_party_user_id;not null;size:256;index:ginauth_thirdparty_users_provider_account,priority:2"`
	Email            string    `gorm:"column:email;not null;default:'';size:256;index:ginauth_thirdparty_users_email"`
	TimeJoined       time.Time `gorm:"column:time_joined;not null"`
}

// TableName returns TableThirdPartyUsers.
func (ThirdPartyUser) TableName() string { return TableThirdPartyUsers }
