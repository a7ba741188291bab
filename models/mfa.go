package models

import "time"

// Tables of the multifactorauth recipe.
const (
	// TableRecoveryCodes holds the hashes of users' recovery codes.
	TableRecoveryCodes = "ginauth_recovery_codes"
	// TableMFAAttempts counts failed code entries (TOTP codes, recovery
	// codes) per user and kind, for lockouts.
	TableMFAAttempts = "ginauth_mfa_attempts"
)

func init() { register(&RecoveryCode{}, &MFAAttempt{}) }

// MFATables lists the tables the multifactorauth recipe needs.
func MFATables() []string { return []string{TableRecoveryCodes, TableMFAAttempts} }

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

// MFAAttempt counts a user's consecutive failed entries of one kind of code
// ("totp", "recovery-code"). When FailedAttempts reaches the limit the user
// is locked out until LockedUntil; a correct code resets the row.
type MFAAttempt struct {
	UserID         string     `gorm:"column:user_id;primaryKey;size:64"`
	Kind           string     `gorm:"column:kind;primaryKey;size:32"`
	FailedAttempts int        `gorm:"column:failed_attempts;not null;default:0"`
	LockedUntil    *time.Time `gorm:"column:locked_until"`
	UpdatedAt      time.Time  `gorm:"column:updated_at;not null"`
}

// TableName returns TableMFAAttempts.
func (MFAAttempt) TableName() string { return TableMFAAttempts }
