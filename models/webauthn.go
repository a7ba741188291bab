package models

import "time"

// Table names of the webauthn (passkeys) recipe.
const (
	TableWebAuthnUsers         = "ginauth_webauthn_users"
	TableWebAuthnCredentials   = "ginauth_webauthn_credentials"
	TableWebAuthnOptions       = "ginauth_webauthn_options"
	TableWebAuthnRecoverTokens = "ginauth_webauthn_recover_tokens"
)

func init() {
	register(&WebAuthnUser{}, &WebAuthnCredential{}, &WebAuthnOptions{}, &WebAuthnRecoverToken{})
}

// WebAuthnTables lists the tables the webauthn recipe needs.
func WebAuthnTables() []string {
	return []string{TableWebAuthnUsers, TableWebAuthnCredentials, TableWebAuthnOptions, TableWebAuthnRecoverTokens}
}

// WebAuthnUser is a passkey login method: the e-mail address the user
// signed up with, whose passkeys are WebAuthnCredential rows. Its UserID
// is the core User's ID. As for e-mail and password, the key of
// ginauth_login_tenants (LoginTenant, written by the AfterCreate hook)
// makes two concurrent sign-ups for one address in a tenant yield one
// account, and this table has no unique index of its own. Email is stored
// normalised.
type WebAuthnUser struct {
	UserID     string    `gorm:"column:user_id;primaryKey;size:64"`
	TenantID   string    `gorm:"column:tenant_id;not null;size:64;index:ginauth_webauthn_users_tenant"`
	Email      string    `gorm:"column:email;not null;size:256;index:ginauth_webauthn_users_email"`
	TimeJoined time.Time `gorm:"column:time_joined;not null"`
}

// TableName returns TableWebAuthnUsers.
func (WebAuthnUser) TableName() string { return TableWebAuthnUsers }

// WebAuthnCredential is one registered passkey. A credential id may be up
// to 1023 bytes, too long for a portable key, so the row is keyed by the
// SHA-256 (hex) of the raw id and CredentialID keeps the id itself
// (base64url, as the FDI sends it).
//
// SignCount is the authenticator's signature counter last seen; a sign-in
// that does not raise it (unless both are zero) is refused as coming from
// a cloned authenticator. Flags keeps the credential's backup-eligible and
// backup-state bits, which later assertions must agree with. UserHandle is
// the WebAuthn user.id the authenticator stores with the passkey
// (base64url), which a discoverable sign-in returns.
type WebAuthnCredential struct {
	IDHash          string     `gorm:"column:id_hash;primaryKey;size:64"`
	CredentialID    string     `gorm:"column:credential_id;not null;size:1400"`
	UserID          string     `gorm:"column:user_id;not null;size:64;index"`
	TenantID        string     `gorm:"column:tenant_id;not null;size:64;index"`
	RPID            string     `gorm:"column:rp_id;not null;size:256"`
	PublicKey       []byte     `gorm:"column:public_key;not null"`
	SignCount       int64      `gorm:"column:sign_count;not null;default:0"`
	Transports      string     `gorm:"column:transports;not null;size:256;default:''"`
	UserHandle      string     `gorm:"column:user_handle;not null;size:128"`
	AAGUID          []byte     `gorm:"column:aaguid"`
	AttestationType string     `gorm:"column:attestation_type;not null;size:32;default:''"`
	Flags           int        `gorm:"column:flags;not null;default:0"`
	CreatedAt       time.Time  `gorm:"column:created_at;not null"`
	LastUsedAt      *time.Time `gorm:"column:last_used_at"`
}

// TableName returns TableWebAuthnCredentials.
func (WebAuthnCredential) TableName() string { return TableWebAuthnCredentials }

// WebAuthnOptions are registration or sign-in options handed to a browser
// and not yet used. Only the SHA-256 (hex) of the options id the client
// holds is stored; a row is deleted when used, so that its challenge
// answers one ceremony only. Session is the relying party's ceremony state
// (challenge, relying party id, origin, user verification) as JSON.
type WebAuthnOptions struct {
	IDHash     string    `gorm:"column:id_hash;primaryKey;size:64"`
	TenantID   string    `gorm:"column:tenant_id;not null;size:64"`
	Kind       string    `gorm:"column:kind;not null;size:16"`
	Email      *string   `gorm:"column:email;size:256"`
	UserHandle string    `gorm:"column:user_handle;not null;size:128;default:''"`
	Session    string    `gorm:"column:session;not null;type:text"`
	CreatedAt  time.Time `gorm:"column:created_at;not null"`
	ExpiresAt  time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TableWebAuthnOptions.
func (WebAuthnOptions) TableName() string { return TableWebAuthnOptions }

// WebAuthnRecoverToken is an outstanding account-recovery token, a link
// mailed to a user who lost their passkeys (see MailedToken).
type WebAuthnRecoverToken struct{ MailedToken }

// TableName returns TableWebAuthnRecoverTokens.
func (WebAuthnRecoverToken) TableName() string { return TableWebAuthnRecoverTokens }
