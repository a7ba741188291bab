package models

import "time"

// TableSecrets holds server secrets ginauth generated itself. Today that
// is only the fallback key used when Config.SecretKey is not set.
const TableSecrets = "ginauth_secrets"

// Secret is one generated server secret. A secret kept in the database
// protects nothing against someone who can read the database: it exists so
// that an app without a configured SecretKey (a demo, tests) still works
// and every instance agrees on the key. Production apps set
// ginauth.Config.SecretKey, and this table stays empty.
type Secret struct {
	Name      string    `gorm:"column:name;primaryKey;size:64"`
	Value     string    `gorm:"column:value;not null;type:text"` // base64 (standard, padded)
	CreatedAt time.Time `gorm:"column:created_at;not null"`
}

// TableName returns TableSecrets.
func (Secret) TableName() string { return TableSecrets }
