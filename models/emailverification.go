package models

import "time"

// Tables of the e-mail verification recipe.
const (
	TableEmailVerificationTokens = "ginauth_emailverification_tokens"
	TableVerifiedEmails          = "ginauth_emailverification_verified"
)

func init() { register(&EmailVerificationToken{}, &VerifiedEmail{}) }

// EmailVerificationTables lists the tables the e-mail verification recipe
// needs.
func EmailVerificationTables() []string {
	return []string{TableEmailVerificationTokens, TableVerifiedEmails}
}

// EmailVerificationToken is one e-mail verification link that has been sent
// and not used yet. The token itself is never stored: TokenHash is its
// SHA-256 (hex). A token is single-use: verifying deletes it.
type EmailVerificationToken struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey;size:64"`
	UserID    string    `gorm:"column:user_id;not null;size:64;index:idx_ginauth_ev_tokens_user,priority:1"`
	Email     string    `gorm:"column:email;not null;size:320;index:idx_ginauth_ev_tokens_user,priority:2"`
	TenantID  string    `gorm:"column:tenant_id;not null;size:64"`
	CreatedAt time.Time `gorm:"column:created_at;not null"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TableEmailVerificationTokens.
func (EmailVerificationToken) TableName() string { return TableEmailVerificationTokens }

// VerifiedEmail records that a user has verified an e-mail address. Email
// is stored normalised (trimmed, lower case).
type VerifiedEmail struct {
	UserID     string    `gorm:"column:user_id;primaryKey;size:64"`
	Email      string    `gorm:"column:email;primaryKey;size:320"`
	VerifiedAt time.Time `gorm:"column:verified_at;not null"`
}

// TableName returns TableVerifiedEmails.
func (VerifiedEmail) TableName() string { return TableVerifiedEmails }
