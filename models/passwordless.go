package models

import "time"

// Table names of the passwordless recipe.
const (
	TablePasswordlessUsers   = "ginauth_passwordless_users"
	TablePasswordlessDevices = "ginauth_passwordless_devices"
	TablePasswordlessCodes   = "ginauth_passwordless_codes"
)

func init() { register(&PasswordlessUser{}, &PasswordlessDevice{}, &PasswordlessCode{}) }

// PasswordlessTables lists the tables the passwordless recipe needs.
func PasswordlessTables() []string {
	return []string{TablePasswordlessUsers, TablePasswordlessDevices, TablePasswordlessCodes}
}

// PasswordlessUser is a passwordless login method: a user who signs in with
// a code or magic link sent to an e-mail address or a phone number. Its
// UserID is the core User's ID.
//
// Email and PhoneNumber are NULL when absent (a user may have either or
// both). One passwordless user per address and per number in each tenant
// is the key of ginauth_login_tenants (LoginTenant), written by the
// AfterCreate hook and by every change of contact in the same transaction;
// this table has no unique index of its own, so that a contact whose user
// was disassociated from a tenant can sign up there again. Email is stored
// normalised (trimmed, lower-case), PhoneNumber in E.164 form
// ("+14155550123").
type PasswordlessUser struct {
	UserID      string    `gorm:"column:user_id;primaryKey;size:64"`
	TenantID    string    `gorm:"column:tenant_id;not null;size:64;index:ginauth_passwordless_users_tenant"`
	Email       *string   `gorm:"column:email;size:256;index:ginauth_passwordless_users_email"`
	PhoneNumber *string   `gorm:"column:phone_number;size:32;index:ginauth_passwordless_users_phone"`
	TimeJoined  time.Time `gorm:"column:time_joined;not null"`
}

// TableName returns TablePasswordlessUsers.
func (PasswordlessUser) TableName() string { return TablePasswordlessUsers }

// PasswordlessDevice is one sign-in attempt in progress: the browser (or
// app) that asked for a code for an e-mail address or phone number.
//
// Its key is the pre-auth session id, which is the SHA-256 of the device id
// the client holds. The device id itself is never stored: it is the key
// that the device's user input codes are HMAC'd with, so the rows in
// PasswordlessCode are useless without it. FailedAttempts counts wrong
// codes; the device is deleted when it reaches the limit, when a code is
// consumed, or when its codes are revoked.
type PasswordlessDevice struct {
	PreAuthSessionID string    `gorm:"column:pre_auth_session_id;primaryKey;size:64"`
	TenantID         string    `gorm:"column:tenant_id;not null;size:64;index:ginauth_passwordless_devices_tenant_email,priority:1;index:ginauth_passwordless_devices_tenant_phone,priority:1"`
	Email            string    `gorm:"column:email;not null;default:'';size:256;index:ginauth_passwordless_devices_tenant_email,priority:2"`
	PhoneNumber      string    `gorm:"column:phone_number;not null;default:'';size:32;index:ginauth_passwordless_devices_tenant_phone,priority:2"`
	FailedAttempts   int       `gorm:"column:failed_attempts;not null;default:0"`
	CreatedAt        time.Time `gorm:"column:created_at;not null"`
}

// TableName returns TablePasswordlessDevices.
func (PasswordlessDevice) TableName() string { return TablePasswordlessDevices }

// PasswordlessCode is one code sent to a device (a resend adds another; all
// stay valid until they expire or one is used). CodeHash is the hex
// HMAC-SHA256 of the user input code keyed with the device id; LinkHash is
// the hex SHA-256 of the magic-link code. Neither code is stored.
type PasswordlessCode struct {
	ID               string    `gorm:"column:id;primaryKey;size:64"`
	PreAuthSessionID string    `gorm:"column:pre_auth_session_id;not null;size:64;index"`
	CodeHash         string    `gorm:"column:code_hash;not null;size:64"`
	LinkHash         string    `gorm:"column:link_hash;not null;size:64;index"`
	CreatedAt        time.Time `gorm:"column:created_at;not null"`
	ExpiresAt        time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TablePasswordlessCodes.
func (PasswordlessCode) TableName() string { return TablePasswordlessCodes }
