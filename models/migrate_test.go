package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

// isDuplicate reports a unique violation on the dialects the tests run on.
func isDuplicate(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "23505") ||
		strings.Contains(m, "duplicate key") || strings.Contains(m, "Duplicate entry")
}

// TestAutoMigrateFromV1DDL: a database built from version 1 of the
// reference DDL (testdata/ddl-v1, docs/sql before the recipe tables lost
// their unique indexes), holding accounts, is brought to version 2 by
// models.AutoMigrate: the old (tenant, account) unique indexes are dropped,
// the lookup indexes made, the data kept, and a second run changes
// nothing. Afterwards an account whose holder left the tenant can be made
// again there, while ginauth_login_tenants still refuses a second holder.
// Defence under test: DropLegacyIndexes (remove it and the second insert
// below fails on the old index).
func TestAutoMigrateFromV1DDL(t *testing.T) {
	dialect := testdb.Dialect()
	path := filepath.Join("testdata", "ddl-v1", dialect+".sql")
	ddl, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t)
	execDDL(t, db, path, string(ddl))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	email, phone := "a@x.io", "+14155550123"
	// One account of each kind in tenant public, with its login rows.
	rows := func(user string) []any {
		return []any{
			&models.EmailPasswordUser{UserID: user + "ep", TenantID: "public", Email: email, PasswordHash: "h", TimeJoined: now},
			&models.ThirdPartyUser{UserID: user + "tp", TenantID: "public", ThirdPartyID: "google", ThirdPartyUserID: "g1", TimeJoined: now},
			&models.PasswordlessUser{UserID: user + "pl", TenantID: "public", Email: &email, PhoneNumber: &phone, TimeJoined: now},
			&models.WebAuthnUser{UserID: user + "wa", TenantID: "public", Email: email, TimeJoined: now},
		}
	}
	for _, r := range rows("old-") {
		must(db.Create(r).Error)
	}
	// Version 1 refuses a second row for the same account in the tenant,
	// even without a login row: this is what the migration removes.
	raw := db.Session(&gorm.Session{SkipHooks: true})
	if err := raw.Create(rows("new-")[0]).Error; !isDuplicate(err) {
		t.Fatalf("version 1 schema accepted a second (tenant, email) row: %v", err)
	}

	must(models.AutoMigrate(db))
	m := db.Migrator()
	for _, ix := range []struct {
		model any
		name  string
		there bool
	}{
		{&models.EmailPasswordUser{}, "ginauth_emailpassword_users_tenant_email", false},
		{&models.ThirdPartyUser{}, "ginauth_thirdparty_users_account", false},
		{&models.PasswordlessUser{}, "ginauth_passwordless_users_tenant_email", false},
		{&models.PasswordlessUser{}, "ginauth_passwordless_users_tenant_phone", false},
		{&models.WebAuthnUser{}, "ginauth_webauthn_users_tenant_email", false},
		{&models.EmailPasswordUser{}, "ginauth_emailpassword_users_email", true},
		{&models.ThirdPartyUser{}, "ginauth_thirdparty_users_provider_account", true},
		{&models.PasswordlessUser{}, "ginauth_passwordless_users_phone", true},
		{&models.WebAuthnUser{}, "ginauth_webauthn_users_email", true},
	} {
		if m.HasIndex(ix.model, ix.name) != ix.there {
			t.Errorf("index %s: there=%v, want %v", ix.name, !ix.there, ix.there)
		}
	}
	var n int64
	must(db.Model(&models.LoginTenant{}).Where("tenant_id = ?", "public").Count(&n).Error)
	if n != 5 { // ep, tp, passwordless e-mail and phone, webauthn
		t.Fatalf("%d login rows after the migration, want 5", n)
	}

	// A second run runs no DDL.
	c := &capture{}
	must(models.AutoMigrate(db.Session(&gorm.Session{Logger: c})))
	if stmts := c.take(); len(stmts) > 0 {
		t.Fatalf("second AutoMigrate ran:\n%s", strings.Join(stmts, "\n"))
	}

	// While the old holders sign in to public, new ones are refused by
	// ginauth_login_tenants' key; once their login rows are gone
	// (disassociation), the same accounts are made again.
	for _, r := range rows("new-") {
		if err := db.Transaction(func(tx *gorm.DB) error { return tx.Create(r).Error }); !isDuplicate(err) {
			t.Fatalf("second holder of an account in public: %T %v", r, err)
		}
	}
	must(db.Where("tenant_id = ?", "public").Delete(&models.LoginTenant{}).Error)
	for _, r := range rows("new-") {
		if err := db.Transaction(func(tx *gorm.DB) error { return tx.Create(r).Error }); err != nil {
			t.Fatalf("account made again after its holder left: %T %v", r, err)
		}
	}
	must(db.Model(&models.LoginTenant{}).Where("tenant_id = ? AND user_id LIKE ?", "public", "new-%").Count(&n).Error)
	if n != 5 {
		t.Fatalf("%d login rows for the new holders, want 5", n)
	}
}
