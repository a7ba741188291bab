package models

import "time"

// SigningKey is one access-token signing key. Keys are created and rotated
// by ginauth: a key signs until SignUntil, and verifies until VerifyUntil
// (SignUntil plus the access-token lifetime), so tokens signed just before a
// rotation stay valid until they expire.
type SigningKey struct {
	KID         string    `gorm:"column:kid;primaryKey;size:64"`
	Algorithm   string    `gorm:"column:algorithm;not null;size:16"`
	PrivateKey  string    `gorm:"column:private_key;not null;type:text"` // PKCS#8 PEM, sealed when ginauth.Config.SecretKey is set
	CreatedAt   time.Time `gorm:"column:created_at;not null"`
	SignUntil   time.Time `gorm:"column:sign_until;not null"`
	VerifyUntil time.Time `gorm:"column:verify_until;not null;index"`
}

// TableName returns TableSigningKeys.
func (SigningKey) TableName() string { return TableSigningKeys }
