package thirdparty_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	clientID     = "test-app"
	clientSecret = "test-secret"
	website      = "http://localhost:3000"
	callback     = website + "/auth/callback/oidc"
)

// harness is ginauth with the thirdparty recipe behind a real gin engine,
// signing in against a local OIDC provider.
type harness struct {
	t        testing.TB
	clock    *ginauthtest.Clock
	events   *recipetest.Events
	idp      *oidctest.Server
	auth     *ginauth.Auth
	tp       *thirdparty.Recipe
	r        *gin.Engine
	verified []string // "userID email" pairs OnVerifiedEmail was told
	mu       sync.Mutex
	logs     ginauthtest.LogBuffer // log output from concurrent handlers
}

type setup struct {
	providers func(idp *oidctest.Server) []thirdparty.Provider
	cfg       func(*thirdparty.Config)
	user      *oidctest.User
	es256     bool
	// defaultLimits keeps ginauth's rate limits; other tests get limits
	// they never reach.
	defaultLimits bool
	// origins are further website origins (AppInfo.WebsiteOrigins).
	origins []string
}

func defaultProviders(idp *oidctest.Server) []thirdparty.Provider {
	return []thirdparty.Provider{thirdparty.OIDC("oidc", idp.Issuer(), thirdparty.Client{ClientID: clientID, ClientSecret: clientSecret})}
}

func newHarness(t testing.TB, s setup) *harness {
	t.Helper()
	clk := ginauthtest.NewClock(time.Now().Truncate(time.Second))
	user := oidctest.User{Subject: "user-1", Email: "Ann@Example.com", EmailVerified: true, Name: "Ann"}
	if s.user != nil {
		user = *s.user
	}
	idp := oidctest.NewServer(oidctest.Config{ClientID: clientID, ClientSecret: clientSecret, User: user, Now: clk.Now,
		RedirectURIs: []string{callback, website + "/other-callback", "http://localhost:3001/auth/callback/apple"}, ES256: s.es256})
	t.Cleanup(idp.Close)
	h := &harness{t: t, clock: clk, idp: idp, events: &recipetest.Events{}}
	if s.providers == nil {
		s.providers = defaultProviders
	}
	cfg := thirdparty.Config{
		Providers: s.providers(idp),
		OnVerifiedEmail: func(_ context.Context, userID, email string) error {
			h.mu.Lock()
			h.verified = append(h.verified, userID+" "+email)
			h.mu.Unlock()
			return nil
		},
	}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	h.tp = thirdparty.New(cfg)
	db := ginauthtest.OpenDB(t)
	limits := recipetest.GenerousLimits()
	if s.defaultLimits {
		limits = ginauth.RateLimitConfig{}
	}
	a, err := ginauth.New(ginauth.Config{
		DB:        db,
		AppInfo:   ginauth.AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: website, WebsiteOrigins: s.origins},
		Now:       clk.Now,
		Logger:    slog.New(slog.NewTextHandler(&h.logs, nil)),
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Recipes:   []ginauth.Recipe{h.tp, recipetest.AnyTenant()},
		RateLimit: limits,
		Hooks:     ginauth.Hooks{OnEvent: h.events.Hook},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r = gin.New()
	h.r.Use(a.Middleware())
	h.r.GET("/me", a.VerifySession(), func(c *gin.Context) {
		c.JSON(200, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	return h
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (h *harness) do(method, path, body string, headers ...string) *resp {
	h.t.Helper()
	return h.serve(method, path, body, headers...)
}

// serve is do without t.Helper, for fuzz targets: a request without a
// session, in header mode.
func (h *harness) serve(method, path, body string, headers ...string) *resp {
	r := (&ginauthtest.Client{Handler: h.r, RID: "thirdparty"}).Do(method, path, body, headers...)
	return &resp{r.ResponseRecorder, r.JSON}
}

func (h *harness) postJSON(path string, body any) *resp {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do("POST", path, string(b))
}

// authURL calls GET /authorisationurl and returns the URL (with a state
// appended, as web-js does) and the PKCE verifier.
func (h *harness) authURL(tpid, redirect string) (string, string) {
	h.t.Helper()
	q := url.Values{"thirdPartyId": {tpid}, "redirectURIOnProviderDashboard": {redirect}}
	r := h.do("GET", "/auth/authorisationurl?"+q.Encode(), "")
	if r.Code != 200 || r.body["status"] != "OK" {
		h.t.Fatalf("authorisationurl: %d %s", r.Code, r.Body)
	}
	u, err := url.Parse(r.body["urlWithQueryParams"].(string))
	if err != nil {
		h.t.Fatal(err)
	}
	qq := u.Query()
	qq.Set("state", webState("", ""))
	u.RawQuery = qq.Encode()
	v, _ := r.body["pkceCodeVerifier"].(string)
	return u.String(), v
}

// webState makes a state as web-js's generateStateToSendToOAuthProvider does.
func webState(state, frontendRedirectURI string) string {
	if state == "" {
		state = "a1b2c3d4e5"
	}
	m := map[string]string{"state": state}
	if frontendRedirectURI != "" {
		m["frontendRedirectURI"] = frontendRedirectURI
	}
	b, _ := json.Marshal(m)
	return base64.StdEncoding.EncodeToString(b)
}

// authorize runs the provider's consent step and returns the callback's
// query parameters (code, state, ...).
func (h *harness) authorize(authURL string) map[string]any {
	h.t.Helper()
	loc, err := h.idp.Authorize(authURL)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range loc.Query() {
		out[k] = v[0]
	}
	if out["code"] == nil {
		h.t.Fatalf("provider redirected without a code: %s", loc)
	}
	return out
}

func signInUpBody(tpid, redirect string, params map[string]any, verifier string) map[string]any {
	info := map[string]any{"redirectURIOnProviderDashboard": redirect, "redirectURIQueryParams": params}
	if verifier != "" {
		info["pkceCodeVerifier"] = verifier
	}
	return map[string]any{"thirdPartyId": tpid, "redirectURIInfo": info}
}

// signIn runs the whole browser flow and returns signinup's answer.
func (h *harness) signIn() *resp {
	h.t.Helper()
	u, v := h.authURL("oidc", callback)
	params := h.authorize(u)
	return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v))
}

func (h *harness) countAccounts() int64 {
	h.t.Helper()
	var n int64
	if err := kit.Of(h.auth).DB().Model(&models.ThirdPartyUser{}).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) countUsers() int64 {
	h.t.Helper()
	var n int64
	if err := kit.Of(h.auth).DB().Model(&models.User{}).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func expectStatus(t testing.TB, r *resp, status string) {
	t.Helper()
	if r.Code != 200 || r.body["status"] != status {
		t.Fatalf("want 200 %s, got %d %s", status, r.Code, r.Body)
	}
}

func expect400(t *testing.T, r *resp, message string) {
	t.Helper()
	expectError(t, r, 400, message)
}

// expectError checks an error answer's status code and exact message.
func expectError(t *testing.T, r *resp, code int, message string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want %d, got %d %s", code, r.Code, r.Body)
	}
	if got, _ := r.body["message"].(string); got != message {
		t.Fatalf("message %q, want %q", got, message)
	}
}
