package dashboard_test

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
)

func init() { gin.SetMode(gin.TestMode) }

var ctx = context.Background()

// testKey is the harness's dashboard API key.
const testKey = "test-dashboard-key-0123456789"

// base is the dashboard's path with the default API base path.
const base = "/auth/dashboard"

// harness is an Auth with emailpassword, userroles, usermetadata,
// emailverification and the dashboard on a fresh database, behind a real
// gin engine.
type harness struct {
	t      *testing.T
	db     *gorm.DB
	auth   *ginauth.Auth
	ep     *emailpassword.Recipe
	roles  *userroles.Recipe
	meta   *usermetadata.Recipe
	ev     *emailverification.Recipe
	dash   *dashboard.Recipe
	clock  *ginauthtest.Clock
	events *recipetest.Events
	r      *gin.Engine
}

type setup struct {
	dash           dashboard.Config
	rateLimit      *ginauth.RateLimitConfig
	apiDomain      string
	extra          []ginauth.Recipe
	registerRoutes bool
	cors           bool
	origins        []string // AppInfo.WebsiteOrigins
}

type option func(*setup)

func withConfig(cfg dashboard.Config) option { return func(s *setup) { s.dash = cfg } }
func withRateLimit(rl ginauth.RateLimitConfig) option {
	return func(s *setup) { s.rateLimit = &rl }
}
func withAPIDomain(d string) option           { return func(s *setup) { s.apiDomain = d } }
func withRecipes(rs ...ginauth.Recipe) option { return func(s *setup) { s.extra = rs } }
func withRegisterRoutes() option              { return func(s *setup) { s.registerRoutes = true } }
func withOrigins(o ...string) option          { return func(s *setup) { s.origins = o } }

// withCORS puts the documented CORS setup, cors.New(CORSConfig()), in
// front of the middleware.
func withCORS() option { return func(s *setup) { s.cors = true } }

// newEmailPassword accepts any e-mail address, so that tests can store
// hostile ones, and hashes fast.
func newEmailPassword() *emailpassword.Recipe {
	return emailpassword.New(emailpassword.Config{
		Argon2:        emailpassword.Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1},
		ValidateEmail: func(context.Context, string, string) string { return "" },
	})
}

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	s := setup{dash: dashboard.Config{APIKeys: []string{testKey}}, apiDomain: "http://localhost:3001"}
	for _, o := range opts {
		o(&s)
	}
	db := ginauthtest.OpenDB(t)
	h := &harness{t: t, db: db, ep: newEmailPassword(), roles: userroles.New(), meta: usermetadata.New(),
		ev: emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional}), dash: dashboard.New(s.dash),
		clock: ginauthtest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)), events: &recipetest.Events{}, r: gin.New()}
	rl := recipetest.GenerousLimits()
	if s.rateLimit != nil {
		rl = *s.rateLimit
	}
	recipes := append([]ginauth.Recipe{h.ep, h.roles, h.meta, h.ev, h.dash}, s.extra...)
	a, err := ginauth.New(ginauth.Config{
		DB:        db,
		AppInfo:   ginauth.AppInfo{AppName: "Todos", APIDomain: s.apiDomain, WebsiteDomain: "http://localhost:3000", WebsiteOrigins: s.origins},
		Recipes:   recipes,
		Now:       h.clock.Now,
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		RateLimit: rl,
		Hooks:     ginauth.Hooks{OnEvent: h.events.Hook},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	if s.cors {
		h.r.Use(cors.New(a.CORSConfig()))
	}
	if s.registerRoutes {
		a.RegisterRoutes(h.r)
	} else {
		h.r.Use(a.Middleware())
	}
	return h
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// signUp creates an e-mail and password user, one minute after the last.
func (h *harness) signUp(email string) string {
	return h.signUpIn(ginauth.DefaultTenant, email)
}

func (h *harness) signUpIn(tenant, email string) string {
	h.t.Helper()
	h.clock.Advance(time.Minute)
	u, err := h.ep.SignUp(ctx, tenant, email, "correct-horse-1")
	h.must(err)
	return u.ID
}

// session creates a session for userID and returns its handle.
func (h *harness) session(userID string) string {
	h.t.Helper()
	s, _, err := h.auth.CreateSessionTokens(ctx, ginauth.NewSession{UserID: userID})
	h.must(err)
	return s.Handle()
}

func (h *harness) sessionCount(userID string) int {
	h.t.Helper()
	ss, err := h.auth.ListSessions(ctx, userID)
	h.must(err)
	return len(ss)
}

func (h *harness) rolesOf(userID string) []string {
	h.t.Helper()
	roles, err := h.roles.GetRolesForUser(ctx, ginauth.DefaultTenant, userID)
	h.must(err)
	return roles
}

func (h *harness) userExists(userID string) bool {
	h.t.Helper()
	_, err := h.auth.GetUser(ctx, userID)
	return err == nil
}

// browser is an admin's browser: it keeps cookies and never follows
// redirects on its own.
type browser struct {
	h       *harness
	cookies map[string]*http.Cookie
	header  http.Header
}

func (h *harness) browser() *browser {
	return &browser{h: h, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

// page is a response.
type page struct {
	*httptest.ResponseRecorder
	body string
}

func (p page) location() string { return p.Header().Get("Location") }

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token in the page's forms.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

func (b *browser) do(method, path string, form url.Values) page {
	b.h.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.h.r.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
	return page{ResponseRecorder: w, body: w.Body.String()}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, path, form)
}

// signIn signs the browser in with key and returns the list page.
func (b *browser) signIn(key string) page {
	b.h.t.Helper()
	p := b.post(base+"/signin", url.Values{"key": {key}})
	if p.Code != http.StatusSeeOther || p.location() != base {
		b.h.t.Fatalf("sign-in: %d %q\n%s", p.Code, p.location(), p.body)
	}
	return b.get(base)
}

// admin returns a signed-in browser and its CSRF token.
func (h *harness) admin() (*browser, string) {
	h.t.Helper()
	b := h.browser()
	p := b.signIn(testKey)
	if p.Code != http.StatusOK {
		h.t.Fatalf("list after sign-in: %d\n%s", p.Code, p.body)
	}
	return b, p.csrf(h.t)
}

func userPath(id string) string { return base + "/user?" + url.Values{"id": {id}}.Encode() }

func expectCode(t *testing.T, p page, code int) {
	t.Helper()
	if p.Code != code {
		t.Fatalf("status %d, want %d; Location %q\n%s", p.Code, code, p.location(), p.body)
	}
}

func expectContains(t *testing.T, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Fatalf("the page lacks %q:\n%s", s, p.body)
		}
	}
}

func expectLacks(t *testing.T, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.body, s) {
			t.Fatalf("the page holds %q:\n%s", s, p.body)
		}
	}
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func htmlEscape(s string) string { return template.HTMLEscapeString(s) }
