package ginauth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

func TestConfigValidation(t *testing.T) {
	db := ginauthtest.OpenDB(t)
	good := AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no db", Config{AppInfo: good}, "DB is nil"},
		{"no api domain", Config{DB: db, AppInfo: AppInfo{WebsiteDomain: "http://localhost:3000"}}, "APIDomain: required"},
		{"bad scheme", Config{DB: db, AppInfo: AppInfo{APIDomain: "ftp://x.com", WebsiteDomain: "http://localhost:3000"}}, "scheme \"ftp\""},
		{"domain with path", Config{DB: db, AppInfo: AppInfo{APIDomain: "https://x.com/api", WebsiteDomain: "https://x.com"}}, "has a path"},
		{"bad base path", Config{DB: db, AppInfo: AppInfo{APIDomain: "https://x.com", WebsiteDomain: "https://x.com", APIBasePath: "/a b"}}, "not a plain path"},
		{"bad algorithm", Config{DB: db, AppInfo: good, Session: SessionConfig{SigningAlgorithm: "HS256"}}, "HS256"},
		{"bad anti-csrf", Config{DB: db, AppInfo: good, Session: SessionConfig{AntiCSRF: "SOMETIMES"}}, "SOMETIMES"},
		{"refresh shorter than access", Config{DB: db, AppInfo: good, Session: SessionConfig{AccessTokenValidity: 100, RefreshTokenValidity: 10}}, "shorter"},
		{"none without secure", Config{DB: db, AppInfo: AppInfo{APIDomain: "http://api.example.com", WebsiteDomain: "http://example.org"}}, "SameSite=None must be Secure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCookieAndCSRFDefaults(t *testing.T) {
	cases := []struct {
		api, web string
		sameSite http.SameSite
		secure   bool
		csrf     AntiCSRFMode
	}{
		{"http://localhost:3001", "http://localhost:3000", http.SameSiteLaxMode, false, AntiCSRFNone},
		{"https://api.example.com", "https://www.example.com", http.SameSiteLaxMode, true, AntiCSRFNone},
		{"https://api.example.com", "https://example.org", http.SameSiteNoneMode, true, AntiCSRFViaCustomHeader},
		{"https://api.example.com", "http://example.com", http.SameSiteNoneMode, true, AntiCSRFViaCustomHeader},
		{"https://a.github.io", "https://b.github.io", http.SameSiteNoneMode, true, AntiCSRFViaCustomHeader}, // public suffix
	}
	for _, tc := range cases {
		cfg := Config{DB: testdb.Open(t), AppInfo: AppInfo{APIDomain: tc.api, WebsiteDomain: tc.web}}
		s, err := cfg.validate()
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.api, tc.web, err)
		}
		if s.sameSite != tc.sameSite || s.secure != tc.secure || s.antiCSRF != tc.csrf {
			t.Errorf("%s/%s: sameSite %v secure %v csrf %s; want %v %v %s", tc.api, tc.web, s.sameSite, s.secure, s.antiCSRF, tc.sameSite, tc.secure, tc.csrf)
		}
		if s.refreshTokenPath != "/auth/session/refresh" || s.issuer != tc.api+"/auth" {
			t.Errorf("refresh path %q issuer %q", s.refreshTokenPath, s.issuer)
		}
	}
}

func TestNewNamesMissingTables(t *testing.T) {
	db := testdb.Open(t)
	if err := db.AutoMigrate(&models.User{}, &models.UserTenant{}); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{DB: db, AppInfo: AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}})
	if !errors.Is(err, ErrMissingTables) {
		t.Fatalf("New: %v, want ErrMissingTables", err)
	}
	for _, name := range []string{models.TableSessions, models.TableSigningKeys} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), models.TableUsers+",") {
		t.Errorf("error %q names a table that exists", err)
	}
	// Nothing was created behind the app's back.
	if db.Migrator().HasTable(models.TableSessions) {
		t.Fatal("New migrated the database")
	}
}

// TestTypedConfigValues: the typed enums keep their wire values, parse
// configuration text, and a bad value in Config is refused by name.
func TestTypedConfigValues(t *testing.T) {
	if AntiCSRFViaToken != "VIA_TOKEN" || SigningEdDSA != "EdDSA" || EventLockout != "lockout" || ActionCodeEntry != "code-entry" {
		t.Fatal("a wire value changed")
	}
	if m, err := ParseAntiCSRFMode("VIA_CUSTOM_HEADER"); err != nil || m != AntiCSRFViaCustomHeader {
		t.Fatal(m, err)
	}
	if _, err := ParseAntiCSRFMode("via_token"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `"via_token"`) {
		t.Fatal(err)
	}
	if a, err := ParseSigningAlgorithm("ES256"); err != nil || a != SigningES256 {
		t.Fatal(a, err)
	}
	if _, err := ParseSigningAlgorithm("HS256"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `"HS256"`) {
		t.Fatal(err)
	}
	for action := range DefaultLimits() {
		if !action.Valid() {
			t.Fatalf("%q is not Valid", action)
		}
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Session.AntiCSRF = "VIA_COOKIE" }, `"VIA_COOKIE"`},
		{func(c *Config) { c.Session.SigningAlgorithm = "HS256" }, `"HS256"`},
		{func(c *Config) { c.RateLimit.Limits = map[Action]Limit{ActionSignIn: {PerAccount: Rule{Max: 3}}} }, "positive Window"},
	} {
		cfg := Config{DB: testdb.Open(t), AppInfo: AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}}
		tc.mod(&cfg)
		if _, err := cfg.validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error naming %s, got %v", tc.want, err)
		}
	}
	// A misspelt action is refused by New, once the recipes have declared
	// their own actions (Registrar.RateLimitAction); a declared one is
	// accepted.
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	base := func() Config {
		return Config{DB: db, AppInfo: AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}}
	}
	cfg := base()
	cfg.RateLimit.Limits = map[Action]Limit{"sign-in": {PerIP: Rule{Max: 1, Window: time.Minute}}}
	if _, err := New(cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `"sign-in"`) {
		t.Errorf("want an error naming \"sign-in\", got %v", err)
	}
	cfg = base()
	cfg.RateLimit.Limits = map[Action]Limit{"flags-set": {PerAccount: Rule{Max: 1, Window: time.Minute}}}
	cfg.Recipes = []Recipe{declaringRecipe{"flags-set"}}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("a declared action: %v", err)
	}
	if got := a.limiter.limits["flags-set"]; got.PerAccount.Max != 1 || got.PerIP.Max != 7 {
		t.Errorf("the app's rule and the recipe's default: %+v", got)
	}
}

// declaringRecipe declares one rate-limited action of its own.
type declaringRecipe struct{ action Action }

func (r declaringRecipe) ID() string { return "declaring" }
func (r declaringRecipe) Setup(reg *Registrar) error {
	return reg.RateLimitAction(r.action, Limit{PerIP: Rule{Max: 7, Window: time.Minute}, PerAccount: Rule{Max: 3, Window: time.Minute}})
}
