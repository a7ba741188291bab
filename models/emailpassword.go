package models

import "time"

// Table names of the e-mail and password recipe.
const (
	TableEmailPasswordUsers  = "ginauth_emailpassword_users"
	TablePasswordResetTokens = "ginauth_password_reset_tokens"
)

func init() { register(&EmailPasswordUser{}, &PasswordResetToken{}) }

// EmailPasswordTables lists the tables the emailpassword recipe needs.
func EmailPasswordTables() []string {
	return []string{TableEmailPasswordUsers, TablePasswordResetTokens}
}

// EmailPasswordUser is an e-mail and password login method. Its UserID is
// the core User's ID (the recipe user id and the user id are the same).
//
// An e-mail address is unique within each tenant the account signs in to:
// the key of ginauth_login_tenants (LoginTenant), which the row's
// AfterCreate hook writes in the creating transaction, is what makes two
// concurrent sign-ups for one address yield one account. This table has no
// unique index of its own, so that an address whose user was disassociated
// from a tenant can sign up there again. Email is stored normalised
// (trimmed, lower-case).
//
// PasswordHash is a PHC string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash")
// or, for accounts imported from elsewhere, a bcrypt hash ("$2a$...",
// "$2b$...", "$2y$..."), which is replaced by an argon2id hash at the next
// successful sign-in. The password itself is never stored.
type EmailPasswordUser struct {
	UserID       string    `gorm:"column:user_id;primaryKey;size:64"`
	TenantID     string    `gorm:"column:tenant_id;not null;size:64;index:ginauth_emailpassword_users_tenant"`
	Email        string    `gorm:"column:email;not null;size:256;index:ginauth_emailpassword_users_email"`
	PasswordHash string    `gorm:"column:password_hash;not null;size:256"`
	TimeJoined   time.Time `gorm:"column:time_joined;not null"`
}

// TableName returns TableEmailPasswordUsers.
func (EmailPasswordUser) TableName() string { return TableEmailPasswordUsers }

// PasswordResetToken is an outstanding password-reset token (see
// MailedToken).
type PasswordResetToken struct{ MailedToken }

// TableName returns TablePasswordResetTokens.
func (PasswordResetToken) TableName() string { return TablePasswordResetTokens }
