package models

import "time"

// TableTOTPDevices is the table of the totp recipe. Failed code entries are
// counted by the core rate limiter (TableRateLimits).
const TableTOTPDevices = "ginauth_totp_devices"

func init() { register(&TOTPDevice{}) }

// TOTPTables lists the tables the totp recipe needs.
func TOTPTables() []string { return []string{TableTOTPDevices} }

// TOTPDevice is one authenticator app a user enrolled. The shared secret is
// never stored in the clear: SealedSecret is the secret sealed with
// AES-256-GCM under a key the application supplies (totp.Config.SecretKey),
// bound to the user id and device name.
//
// LastUsedStep is the RFC 6238 time step of the last code accepted for the
// device; a code whose step is not greater is refused, so each code works
// once.
type TOTPDevice struct {
	UserID       string    `gorm:"column:user_id;primaryKey;size:64"`
	Name         string    `gorm:"column:name;primaryKey;size:256"`
	SealedSecret string    `gorm:"column:sealed_secret;not null;type:text"`
	Algorithm    string    `gorm:"column:algorithm;not null;size:16"`
	Digits       int       `gorm:"column:digits;not null"`
	Period       int       `gorm:"column:period;not null"`
	Skew         int       `gorm:"column:skew;not null"`
	Verified     bool      `gorm:"column:verified;not null;default:false"`
	LastUsedStep int64     `gorm:"column:last_used_step;not null;default:0"`
	CreatedAt    time.Time `gorm:"column:created_at;not null"`
}

// TableName returns TableTOTPDevices.
func (TOTPDevice) TableName() string { return TableTOTPDevices }
