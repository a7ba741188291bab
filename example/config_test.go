package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfa}, 32)
	for _, v := range []string{
		hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
	} {
		got, err := parseKey(v)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("parseKey(%q) = %x, %v; want %x", v, got, err, key)
		}
	}
	for _, v := range []string{"short", base64.StdEncoding.EncodeToString(key[:16]), hex.EncodeToString(key[:31]) + "zz"} {
		if got, err := parseKey(v); err == nil {
			t.Errorf("parseKey(%q) = %x, want an error", v, got)
		}
	}
}

// DASHBOARD_API_KEY turns the dashboard on; a short key is a start-up
// error that says how long it must be, rather than ginauth.New's.
func TestDashboardAPIKey(t *testing.T) {
	t.Setenv("DASHBOARD_API_KEY", "")
	c, err := loadConfig()
	if err != nil || c.DashboardAPIKey != "" {
		t.Fatalf("unset: %q, %v", c.DashboardAPIKey, err)
	}
	t.Setenv("DASHBOARD_API_KEY", "too-short-key")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "DASHBOARD_API_KEY is 13 characters: it must be at least 20") {
		t.Fatalf("short key: %v", err)
	}
	t.Setenv("DASHBOARD_API_KEY", " dashboard-key-0123456789 ")
	c, err = loadConfig()
	if err != nil || c.DashboardAPIKey != "dashboard-key-0123456789" {
		t.Fatalf("good key: %q, %v", c.DashboardAPIKey, err)
	}
	d, err := newDemoAuth(c, slog.New(slog.DiscardHandler), nil)
	if err != nil || d.dashboard == nil || d.recipes[len(d.recipes)-1] != d.dashboard {
		t.Fatalf("the dashboard recipe is not set up: %v", err)
	}
}
