package models

import "time"

// TableDashboardSessions holds the dashboard recipe's admin sessions.
const TableDashboardSessions = "ginauth_dashboard_sessions"

// DashboardTables lists the tables the dashboard recipe needs.
func DashboardTables() []string { return []string{TableDashboardSessions} }

func init() { register(&DashboardSession{}) }

// DashboardSession is one admin signed in to the user-management dashboard
// with an API key. The session token itself is never stored: TokenHash is
// its SHA-256 (hex). KeyID names the API key used (a short prefix of its
// SHA-256), so that sessions of a key taken out of the configuration stop
// working at once.
type DashboardSession struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey;size:64"`
	KeyID     string    `gorm:"column:key_id;not null;size:64"`
	CreatedAt time.Time `gorm:"column:created_at;not null"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index"`
}

// TableName returns TableDashboardSessions.
func (DashboardSession) TableName() string { return TableDashboardSessions }
