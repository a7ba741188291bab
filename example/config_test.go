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

// WEBSITE_ORIGINS adds frontends beside WEBSITE_DOMAIN; a bad entry is a
// start-up error naming it.
func TestWebsiteOrigins(t *testing.T) {
	t.Setenv("WEBSITE_ORIGINS", "")
	if c, err := loadConfig(); err != nil || c.WebsiteOrigins != nil {
		t.Fatalf("unset: %v, %v", c.WebsiteOrigins, err)
	}
	t.Setenv("WEBSITE_ORIGINS", " https://Staging.example.com/ , com.example.app://")
	c, err := loadConfig()
	if err != nil || strings.Join(c.WebsiteOrigins, " ") != "https://staging.example.com com.example.app://" {
		t.Fatalf("good list: %v, %v", c.WebsiteOrigins, err)
	}
	for v, want := range map[string]string{
		"https://ok.example.com,https://x.com/app": `entry 2 "https://x.com/app"`,
		"https://ok.example.com,,":                 `entry 2 ""`,
		"javascript://x":                           `entry 1 "javascript://x"`,
	} {
		t.Setenv("WEBSITE_ORIGINS", v)
		if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "WEBSITE_ORIGINS: "+want) {
			t.Errorf("%q: %v, want an error naming %s", v, err, want)
		}
	}
}
