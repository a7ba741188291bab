package models

import "gorm.io/gorm"

// Table names. They are constants so that apps running their own migration
// tool can refer to them, and so that ginauth can name a missing table.
const (
	TableUsers       = "ginauth_users"
	TableUserTenants = "ginauth_user_tenants"
	TableSessions    = "ginauth_sessions"
	TableSigningKeys = "ginauth_signing_keys"
)

// CoreTables lists the tables every ginauth setup needs, whatever recipes it
// uses.
func CoreTables() []string {
	return []string{TableUsers, TableUserTenants, TableLoginTenants, TableSessions, TableSigningKeys, TableRateLimits}
}

// registered holds the models of every file in this package; each recipe's
// file adds its own in an init function, so that All stays complete.
var registered = []any{&User{}, &UserTenant{}, &LoginTenant{}, &Session{}, &SigningKey{}, &Secret{}}

func register(ms ...any) { registered = append(registered, ms...) }

// All returns one zero value of every ginauth model (core and all recipes),
// for db.AutoMigrate.
func All() []any { return append([]any(nil), registered...) }

// AutoMigrate creates or updates every ginauth table in db. When it creates
// ginauth_login_tenants it also fills it for the accounts stored before it
// existed (BackfillLoginTenants). Only then: a later run must not undo a
// disassociation, and must not scan every account at each start.
func AutoMigrate(db *gorm.DB) error {
	fresh := !db.Migrator().HasTable(&LoginTenant{})
	if err := db.AutoMigrate(All()...); err != nil {
		return err
	}
	if !fresh {
		return nil
	}
	return BackfillLoginTenants(db)
}
