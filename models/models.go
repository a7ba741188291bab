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
// disassociation, and must not scan every account at each start. It then
// drops the recipe tables' former unique indexes (DropLegacyIndexes).
func AutoMigrate(db *gorm.DB) error {
	fresh := !db.Migrator().HasTable(&LoginTenant{})
	if err := db.AutoMigrate(All()...); err != nil {
		return err
	}
	if fresh {
		if err := BackfillLoginTenants(db); err != nil {
			return err
		}
	}
	return DropLegacyIndexes(db)
}

// legacyIndexes are the unique indexes the recipe tables had before
// ginauth_login_tenants' key became the one per-tenant uniqueness rule
// (docs/migrations.md). They keyed an account by the tenant it was made
// in, so an address disassociated from that tenant could not sign up
// there again.
var legacyIndexes = []struct {
	model any
	name  string
}{
	{&EmailPasswordUser{}, "ginauth_emailpassword_users_tenant_email"},
	{&ThirdPartyUser{}, "ginauth_thirdparty_users_account"},
	{&PasswordlessUser{}, "ginauth_passwordless_users_tenant_email"},
	{&PasswordlessUser{}, "ginauth_passwordless_users_tenant_phone"},
	{&WebAuthnUser{}, "ginauth_webauthn_users_tenant_email"},
}

// DropLegacyIndexes drops, where they exist, the unique indexes the recipe
// tables had before version 2 of the reference DDL. AutoMigrate calls it
// after creating their replacements (plain indexes for lookups); an app
// with its own migration tool runs the DROP INDEX statements of
// docs/migrations.md instead. It is idempotent.
func DropLegacyIndexes(db *gorm.DB) error {
	m := db.Migrator()
	for _, ix := range legacyIndexes {
		if !m.HasTable(ix.model) || !m.HasIndex(ix.model, ix.name) {
			continue
		}
		if err := m.DropIndex(ix.model, ix.name); err != nil {
			return err
		}
	}
	return nil
}
