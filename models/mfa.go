package models

import "time"

// Tables of the multifactorauth recipe.
const (
	// TableRecoveryCodes holds the hashes of users' recovery codes.
	// Failed entries are counted by the core rate limiter
	// (TableRateLimits).
	TableRecoveryCodes = "ginauth_recovery_codes"
)

func init() { register(&RecoveryCode{}) }

// MFATables lists the tables the multifactorauth recipe needs.
func MFATables() []string { return []string{TableRecoveryCodes} }

// RecoveryCode is one single-use recovery code of a user. Only the SHA-256
// (hex) of the user id and the normalised code is stored; the codes carry
// 80 random bits, so a fast hash leaves nothing to guess offline. UsedAt is
// set, atomically, the one time the code is accepted.
type RecoveryCode struct {
	UserID    string     `gorm:"column:user_id;primaryKey;size:64"`
	CodeHash  string     `gorm:"column:code_hash;primaryKey;size:64"`
	CreatedAt time.Time  `gorm:"column:created_at;not null"`
	UsedAt    *time.Time `gorm:"column:used_at"`
}

// TableName returns TableRecoveryCodes.
func (RecoveryCode) TableName() string { return TableRecoveryCodes }
