package models

import "time"

// Session is one signed-in device. The refresh token itself is never stored:
// RefreshHash is the SHA-256 (hex) of the session's current refresh token.
// Its children and the stale tokens it replaced are recognised from the
// tokens themselves (each names its parent under a MAC keyed by the server
// secret), so no list of them is kept: see docs/sessions.md.
//
// Version is bumped by every update, which lets concurrent refreshes of the
// same session be resolved without locks (optimistic concurrency).
type Session struct {
	Handle       string `gorm:"column:handle;primaryKey;size:64"`
	UserID       string `gorm:"column:user_id;not null;size:64;index"`
	RecipeUserID string `gorm:"column:recipe_user_id;not null;size:64"`
	TenantID     string `gorm:"column:tenant_id;not null;size:64"`

	RefreshHash string `gorm:"column:refresh_hash;not null;size:64"`
	// AntiCSRFHash is the hash of the session's anti-CSRF token (VIA_TOKEN
	// mode, cookie sessions), empty otherwise. The token lasts as long as
	// the session.
	AntiCSRFHash string `gorm:"column:anti_csrf_hash;not null;default:'';size:64"`

	// AccessTokenPayload is the JSON of the custom part of the access-token
	// payload (claims and app keys); the standard fields are added when a
	// token is signed.
	AccessTokenPayload string `gorm:"column:access_token_payload;not null;type:text"`
	// SessionData is JSON the app keeps with the session; it never leaves
	// the server.
	SessionData string `gorm:"column:session_data;not null;type:text"`

	Version     int64     `gorm:"column:version;not null"`
	CreatedAt   time.Time `gorm:"column:created_at;not null"`
	RefreshedAt time.Time `gorm:"column:refreshed_at;not null"`
	ExpiresAt   time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TableSessions.
func (Session) TableName() string { return TableSessions }
