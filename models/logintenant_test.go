package models_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

// TestBackfillLoginTenants: accounts stored before ginauth_login_tenants
// existed (written here without the hooks) sign in to their own tenant and
// to the tenants their users were associated with once AutoMigrate has run;
// a clash keeps the first holder, and a second run changes nothing.
func TestBackfillLoginTenants(t *testing.T) {
	db := testdb.Open(t)
	if err := db.AutoMigrate(models.All()...); err != nil {
		t.Fatal(err)
	}
	raw := db.Session(&gorm.Session{SkipHooks: true})
	now := time.Now().UTC()
	phone := "+14155550123"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(raw.Create(&models.EmailPasswordUser{UserID: "u1", TenantID: "public", Email: "a@x.io", PasswordHash: "h", TimeJoined: now}).Error)
	must(raw.Create(&models.EmailPasswordUser{UserID: "u2", TenantID: "acme", Email: "a@x.io", PasswordHash: "h", TimeJoined: now}).Error)
	must(raw.Create(&models.ThirdPartyUser{UserID: "u3", TenantID: "public", ThirdPartyID: "google", ThirdPartyUserID: "g1", TimeJoined: now}).Error)
	must(raw.Create(&models.PasswordlessUser{UserID: "u4", TenantID: "public", PhoneNumber: &phone, TimeJoined: now}).Error)
	for _, m := range []models.UserTenant{{UserID: "u1", TenantID: "public"}, {UserID: "u1", TenantID: "acme"},
		{UserID: "u2", TenantID: "acme"}, {UserID: "u3", TenantID: "beta"}, {UserID: "u4", TenantID: "public"}} {
		must(db.Create(&m).Error)
	}
	var n int64
	must(db.Model(&models.LoginTenant{}).Count(&n).Error)
	if n != 0 {
		t.Fatalf("%d login rows before the backfill", n)
	}
	for run := 0; run < 2; run++ {
		must(models.BackfillLoginTenants(db))
		var rows []models.LoginTenant
		must(db.Order("tenant_id, method, account").Find(&rows).Error)
		want := []models.LoginTenant{
			{TenantID: "acme", Method: models.LoginEmailPassword, Account: "a@x.io", UserID: ""}, // u1 or u2: checked below
			{TenantID: "beta", Method: models.LoginThirdParty + "google", Account: "g1", UserID: "u3"},
			{TenantID: "public", Method: models.LoginEmailPassword, Account: "a@x.io", UserID: "u1"},
			{TenantID: "public", Method: models.LoginPasswordlessPhone, Account: phone, UserID: "u4"},
			// u3 was made in public but belongs to beta only (disassociated
			// from public): no public row.
		}
		if len(rows) != len(want) {
			t.Fatalf("run %d: rows %+v", run, rows)
		}
		for i := range want {
			if want[i].UserID == "" {
				want[i].UserID = rows[i].UserID
			}
			if rows[i] != want[i] {
				t.Fatalf("run %d: row %d = %+v, want %+v", run, i, rows[i], want[i])
			}
		}
	}
}

// AutoMigrate fills ginauth_login_tenants when it creates the table, and
// never again: a later start must not give back a tenant a user was
// disassociated from (the backfill works from memberships, and a rerun
// would still cost a scan of every account).
func TestAutoMigrateBackfillsOnlyANewTable(t *testing.T) {
	db := testdb.Open(t)
	if err := db.AutoMigrate(models.All()...); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrator().DropTable(&models.LoginTenant{}); err != nil {
		t.Fatal(err)
	}
	raw := db.Session(&gorm.Session{SkipHooks: true})
	now := time.Now().UTC()
	if err := raw.Create(&models.EmailPasswordUser{UserID: "u1", TenantID: "public", Email: "a@x.io", PasswordHash: "h", TimeJoined: now}).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range []models.UserTenant{{UserID: "u1", TenantID: "public"}, {UserID: "u1", TenantID: "acme"}} {
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
	count := func() int64 {
		var n int64
		if err := db.Model(&models.LoginTenant{}).Where("user_id = ?", "u1").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := models.AutoMigrate(db); err != nil { // creates the table: backfills
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d login rows after the first AutoMigrate, want 2", n)
	}
	// Disassociated from public, the tenant the account was made in (what
	// multitenancy does), then a restart.
	if err := db.Where("user_id = ? AND tenant_id = ?", "u1", "public").Delete(&models.UserTenant{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Where("user_id = ? AND tenant_id = ?", "u1", "public").Delete(&models.LoginTenant{}).Error; err != nil {
		t.Fatal(err)
	}
	// An account written behind ginauth's back after the table exists: a
	// restart does not scan for it.
	if err := raw.Create(&models.EmailPasswordUser{UserID: "u2", TenantID: "public", Email: "b@x.io", PasswordHash: "h", TimeJoined: now}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.UserTenant{UserID: "u2", TenantID: "public"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	var rows []models.LoginTenant
	if err := db.Order("tenant_id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].TenantID != "acme" || rows[0].UserID != "u1" {
		t.Fatalf("login rows after a restart: %+v, want u1 in acme only", rows)
	}
}
