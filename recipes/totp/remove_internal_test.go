package totp

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// TestRemoveUnverifiedOnly: a removal allowed only for an unverified
// device (the session has not met its MFA requirements) leaves a device
// that was verified meanwhile in place, so the handler asserts the claim
// before removing it.
func TestRemoveUnverifiedOnly(t *testing.T) {
	db := ginauthtest.OpenDB(t)
	r := New(Config{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if _, err := ginauth.New(ginauth.Config{DB: db, Recipes: []ginauth.Recipe{r}, Logger: slog.New(slog.DiscardHandler),
		AppInfo: ginauth.AppInfo{AppName: "t", APIDomain: "http://localhost:1", WebsiteDomain: "http://localhost:2"},
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, name := range []string{"a", "b"} {
		if _, err := r.CreateDevice(ctx, "u1", name); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Model(&models.TOTPDevice{}).Where("name = ?", "a").Update("verified", true).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := r.removeDevice(ctx, nil, "u1", "a", true); !errors.Is(err, errVerifiedMeanwhile) {
		t.Fatalf("verified device: %v", err)
	}
	if existed, err := r.removeDevice(ctx, nil, "u1", "b", true); err != nil || !existed {
		t.Fatalf("unverified device: %v %v", existed, err)
	}
	if devices, _ := r.ListDevices(ctx, "u1"); len(devices) != 1 || devices[0].Name != "a" {
		t.Fatalf("devices %+v", devices)
	}
}
