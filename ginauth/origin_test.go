package ginauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/testdb"
)

func TestNormaliseOrigin(t *testing.T) {
	good := map[string]string{
		"https://Staging.Example.com/": "https://staging.example.com",
		"staging.example.com":          "https://staging.example.com",
		"localhost:3000":               "http://localhost:3000",
		"com.example.app://":           "com.example.app://",
		"Com.Example.App://":           "com.example.app://",
		"capacitor://localhost":        "capacitor://localhost",
		"myapp://Example.com:8/":       "myapp://example.com:8",
	}
	for in, want := range good {
		if got, err := normaliseOrigin(in); err != nil || got != want {
			t.Errorf("normaliseOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "javascript://x", "data://x", "file://", "ftp:x", "1app://x", "com.example.app://host/path",
		"myapp://user@host", "https://x.com/path", "myapp://x?q", "ht tp://x"} {
		if got, err := normaliseOrigin(bad); err == nil {
			t.Errorf("normaliseOrigin(%q) = %q, want an error", bad, got)
		}
	}
}

func TestWebsiteOriginsValidation(t *testing.T) {
	db := testdb.Open(t)
	for name, tc := range map[string]struct {
		info AppInfo
		want string
	}{
		"bad origin":  {AppInfo{APIDomain: "https://api.example.com", WebsiteDomain: "https://example.com", WebsiteOrigins: []string{"https://ok.example.com", "javascript://x"}}, "AppInfo.WebsiteOrigins[1]"},
		"with a path": {AppInfo{APIDomain: "https://api.example.com", WebsiteDomain: "https://example.com", WebsiteOrigins: []string{"https://example.org/app"}}, "has a path"},
		// SameSite=None needs Secure for every listed origin, not only the default.
		"none without secure": {AppInfo{APIDomain: "http://api.example.com", WebsiteDomain: "http://www.example.com", WebsiteOrigins: []string{"http://example.org"}}, "needed for the website origin http://example.org"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{DB: db, AppInfo: tc.info}
			if _, err := cfg.validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate: %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// Each listed origin gets SuperTokens' cookieSameSite and antiCsrf
// defaults (supertokens-node's session utils validateAndNormaliseUserInput,
// functions of the request's origin); a fixed Session.CookieSameSite or
// AntiCSRF applies to all of them.
func TestPerOriginDefaults(t *testing.T) {
	db := testdb.Open(t)
	info := AppInfo{APIDomain: "https://api.example.com", WebsiteDomain: "https://www.example.com",
		WebsiteOrigins: []string{"https://example.org", "com.example.app://", "https://WWW.example.com"}}
	cfg := Config{DB: db, AppInfo: info}
	s, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.origins) != 3 || !s.multiOrigin {
		t.Fatalf("origins %v (the WebsiteDomain listed again counts once)", s.origins)
	}
	for origin, want := range map[string][2]any{
		"https://www.example.com": {http.SameSiteLaxMode, AntiCSRFNone},
		"https://example.org":     {http.SameSiteNoneMode, AntiCSRFViaCustomHeader},
		"com.example.app://":      {http.SameSiteNoneMode, AntiCSRFViaCustomHeader},
	} {
		o := s.listedOrigin(origin)
		if o == nil || o.sameSite != want[0] || o.antiCSRF != want[1] {
			t.Errorf("%s: %+v, want %v", origin, o, want)
		}
	}
	if s.antiCSRF != AntiCSRFViaCustomHeader || s.sameSite != http.SameSiteLaxMode {
		t.Errorf("strictest anti-CSRF %s, default SameSite %v", s.antiCSRF, s.sameSite)
	}
	cfg.Session = SessionConfig{CookieSameSite: http.SameSiteStrictMode, AntiCSRF: AntiCSRFViaToken}
	if s, err = cfg.validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range s.origins {
		if o.sameSite != http.SameSiteStrictMode || o.antiCSRF != AntiCSRFViaToken {
			t.Errorf("fixed settings not applied to %+v", o)
		}
	}
}

// One origin only: nothing is stored per request and everything is the
// WebsiteDomain's, as before several origins existed.
func TestSingleOriginIsUnchanged(t *testing.T) {
	h := newHarness(t, nil)
	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("Origin", "https://evil.example")
	if got := h.auth.RequestOrigin(req); got != "http://localhost:3000" {
		t.Fatalf("RequestOrigin %q", got)
	}
	ctx, err := h.auth.WithWebsiteOrigin(context.Background(), "http://localhost:3000")
	if err != nil || ctx != context.Background() || h.auth.WebsiteOrigin(ctx) != "http://localhost:3000" {
		t.Fatalf("single origin: the context was changed (%v)", err)
	}
	if _, err := h.auth.WithWebsiteOrigin(context.Background(), "https://evil.example"); err == nil {
		t.Fatal("WithWebsiteOrigin accepted an unlisted origin")
	}
	if info := h.auth.AppInfo(); info.WebsiteOrigins != nil || info.Origin != nil {
		t.Fatalf("AppInfo %+v", info)
	}
}

// CORS admits each listed origin (an app scheme too, which gin-contrib/cors
// cannot hold in AllowOrigins) and still refuses others.
func TestCORSAdmitsEveryListedOrigin(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.AppInfo.WebsiteOrigins = []string{"https://staging.example.com", "com.example.app://", "capacitor://localhost"}
	})
	if got := h.auth.WebsiteOrigins(); strings.Join(got, " ") != "http://localhost:3000 capacitor://localhost com.example.app:// https://staging.example.com" {
		t.Fatalf("WebsiteOrigins %v", got)
	}
	r := gin.New()
	r.Use(cors.New(h.auth.CORSConfig()))
	r.Use(h.auth.Middleware())
	r.POST("/form", func(c *gin.Context) { c.String(http.StatusOK, "done") })
	for origin, want := range map[string]int{
		"http://localhost:3000":       http.StatusNoContent,
		"https://staging.example.com": http.StatusNoContent,
		"com.example.app://":          http.StatusNoContent,
		"capacitor://localhost":       http.StatusNoContent,
		"http://localhost:3001":       http.StatusNoContent, // the API's own pages
		"https://evil.example":        http.StatusForbidden,
		"com.example.evil://":         http.StatusForbidden,
		"capacitor://evil":            http.StatusForbidden,
	} {
		w := corsRequest(r, http.MethodOptions, origin, "api.internal")
		acao := w.Header().Get("Access-Control-Allow-Origin")
		if w.Code != want || (want == http.StatusNoContent) != (acao == origin) {
			t.Errorf("%s: %d %q, want %d", origin, w.Code, acao, want)
		}
	}
}

// WebsiteOrigin finds the origin from a *gin.Context passed as the context
// (an app handler's c), from a context WithWebsiteOrigin made, and gives
// the default otherwise, or for another instance's value.
func TestWebsiteOriginFromContexts(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AppInfo.WebsiteOrigins = []string{"https://staging.example.com"} })
	other := newHarness(t, func(c *Config) { c.AppInfo.WebsiteOrigins = []string{"https://staging.example.com"} })
	req := httptest.NewRequest("POST", "/x", nil)
	req.Header.Set("Origin", "https://staging.example.com")
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = req
	if got := h.auth.WebsiteOrigin(c); got != "https://staging.example.com" {
		t.Fatalf("from a *gin.Context: %q", got)
	}
	if got := h.auth.WebsiteOrigin(req.Context()); got != "http://localhost:3000" {
		t.Fatalf("from a bare request context: %q", got)
	}
	ctx, err := other.auth.WithWebsiteOrigin(context.Background(), "https://staging.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.auth.WebsiteOrigin(ctx); got != "http://localhost:3000" {
		t.Fatalf("another instance's origin was used: %q", got)
	}
	if got := other.auth.WebsiteOrigin(ctx); got != "https://staging.example.com" {
		t.Fatalf("WithWebsiteOrigin: %q", got)
	}
}

// TestWebsiteOriginBehindVerifySession: an app route behind VerifySession
// finds the request's resolved origin in the request's context (and in a
// context derived from it), as the auth routes do; without an Origin
// header, or with an unlisted one, it is WebsiteDomain.
func TestWebsiteOriginBehindVerifySession(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AppInfo.WebsiteOrigins = []string{"https://staging.example.com"} })
	h.r.GET("/origin", h.auth.VerifySession(), func(c *gin.Context) {
		derived, cancel := context.WithCancel(c.Request.Context())
		defer cancel()
		c.String(200, h.auth.WebsiteOrigin(c.Request.Context())+" "+h.auth.WebsiteOrigin(derived))
	})
	_, tok, err := h.auth.CreateSessionTokens(t.Context(), NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]string{
		"https://staging.example.com": "https://staging.example.com",
		"https://evil.example":        "http://localhost:3000",
		"":                            "http://localhost:3000",
	} {
		req := httptest.NewRequest("GET", "/origin", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		h.r.ServeHTTP(w, req)
		if w.Code != 200 || w.Body.String() != want+" "+want {
			t.Fatalf("Origin %q: %d %q, want %q twice", origin, w.Code, w.Body, want)
		}
	}
}
