package models

import "time"

// MailedToken is the row of a token mailed to a user to act on their
// account once (PasswordResetToken, WebAuthnRecoverToken): hashed,
// expiring and single-use. Only the SHA-256 (hex) of the token is stored,
// as the primary key; the token itself exists only in the e-mail. The row
// is deleted when the token is used. Email is the address it was sent to,
// so that the token stops working if the account's address changes.
// Embedded, its columns and indexes are the embedding table's own.
type MailedToken struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey;size:64"`
	UserID    string    `gorm:"column:user_id;not null;size:64;index"`
	TenantID  string    `gorm:"column:tenant_id;not null;size:64"`
	Email     string    `gorm:"column:email;not null;size:256"`
	CreatedAt time.Time `gorm:"column:created_at;not null"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index"`
}
