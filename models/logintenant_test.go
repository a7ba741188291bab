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
		must(models.AutoMigrate(db))
		var rows []models.LoginTenant
		must(db.Order("tenant_id, method, account").Find(&rows).Error)
		want := []models.LoginTenant{
			{TenantID: "acme", Method: models.LoginEmailPassword, Account: "a@x.io", UserID: ""}, // u1 or u2: checked below
			{TenantID: "beta", Method: models.LoginThirdParty + "google", Account: "g1", UserID: "u3"},
			{TenantID: "public", Method: models.LoginEmailPassword, Account: "a@x.io", UserID: "u1"},
			{TenantID: "public", Method: models.LoginPasswordlessPhone, Account: phone, UserID: "u4"},
			{TenantID: "public", Method: models.LoginThirdParty + "google", Account: "g1", UserID: "u3"},
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
