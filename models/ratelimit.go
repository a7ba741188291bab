package models

import "time"

// TableRateLimits holds the rate limiter's counters.
const TableRateLimits = "ginauth_rate_limits"

// RateLimit is one rate-limit counter: how many attempts a key (an action
// and an IP address or account, stored as a SHA-256 so that no e-mail
// address sits here) made in the window that ends at ExpiresAt. Open is
// how many of them are reserved and not yet settled (in flight).
type RateLimit struct {
	Key       string    `gorm:"column:limit_key;primaryKey;size:64"`
	Count     int64     `gorm:"column:count;not null"`
	Open      int64     `gorm:"column:open_attempts;not null;default:0"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TableRateLimits.
func (RateLimit) TableName() string { return TableRateLimits }

func init() { register(&RateLimit{}) }
