package apps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/userroles"
)

func init() { gin.SetMode(gin.TestMode) }

// Both apps get the same secret key and dashboard key on purpose: what
// keeps them apart must be their data, not different configuration.
var (
	secretKey = []byte("apps-test-secret-key-32-bytes!!!")
	dashKey   = "apps-test-dashboard-key-0123456789"
	lowArgon2 = emailpassword.Argon2Params{Memory: 256, Iterations: 1, Parallelism: 1}
)

// signInLimit is the per-account sign-in rule of both apps.
const signInLimit = 3

// mailbox keeps the e-mails an app sends; gate, when set, holds each
// Send until it is closed (a slow mail server).
type mailbox struct {
	mu    sync.Mutex
	mails []emaildelivery.Email
	gate  chan struct{}
}

func (m *mailbox) Send(ctx context.Context, e emaildelivery.Email) error {
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	m.mails = append(m.mails, e)
	m.mu.Unlock()
	return nil
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mails)
}

// waitFor returns the first e-mail of kind to an address, waiting for the
// background sender.
func (m *mailbox) waitFor(t *testing.T, kind, to string) emaildelivery.Email {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		m.mu.Lock()
		for _, e := range m.mails {
			if e.Kind == kind && e.To == to {
				m.mu.Unlock()
				return e
			}
		}
		m.mu.Unlock()
	}
	t.Fatalf("no %s e-mail to %s", kind, to)
	return emaildelivery.Email{}
}

// app is one ginauth app of the process: its own database (a schema of
// the shared PostgreSQL database, or a SQLite file), recipes and mail.
type app struct {
	name  string
	db    *gorm.DB
	auth  *ginauth.Auth
	ep    *emailpassword.Recipe
	roles *userroles.Recipe
	mail  *mailbox
}

func newApp(t *testing.T, name string, mail *mailbox) *app {
	t.Helper()
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	a := &app{name: name, db: db, mail: mail}
	a.ep = emailpassword.New(emailpassword.Config{Argon2: lowArgon2, EmailSender: mail})
	a.roles = userroles.New()
	limits := map[ginauth.Action]ginauth.Limit{}
	for action := range ginauth.DefaultLimits() {
		limits[action] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
			PerAccount: ginauth.Rule{Max: 1 << 30, Window: time.Minute}}
	}
	limits[ginauth.ActionSignIn] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
		PerAccount: ginauth.Rule{Max: signInLimit, Window: time.Hour}}
	auth, err := ginauth.New(ginauth.Config{
		DB: db,
		AppInfo: ginauth.AppInfo{AppName: "app " + name, APIDomain: "http://localhost:3001",
			WebsiteDomain: "http://localhost:3000", APIBasePath: "/" + name + "/auth"},
		Recipes:   []ginauth.Recipe{a.ep, a.roles, dashboard.New(dashboard.Config{APIKeys: []string{dashKey}})},
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		SecretKey: secretKey,
		RateLimit: ginauth.RateLimitConfig{Limits: limits},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		// A loaded test machine (-race, SQLite's one writer) is slow,
		// not broken.
		DBTimeout: testdb.DBTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = auth.Close(context.Background()) })
	a.auth = auth
	return a
}

// mount adds an app's routes to r: /<name>/me and /<name>/admin, the
// latter behind the package-level RequireClaim and the package-level
// RoleClaim, which must both find this app from the request.
func (a *app) mount(r *gin.Engine) {
	r.Use(a.auth.Middleware())
	r.GET("/"+a.name+"/me", a.auth.VerifySession(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	r.GET("/"+a.name+"/admin", a.auth.VerifySession(), ginauth.RequireClaim(userroles.HasRole("admin", claims.MaxAge(0))),
		func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"userId": ginauth.MustSession(c).UserID()}) })
}

// world is two apps, a and b, in one gin engine.
type world struct {
	t    *testing.T
	a, b *app
	r    *gin.Engine
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, a: newApp(t, "a", &mailbox{}), b: newApp(t, "b", &mailbox{}), r: gin.New()}
	if err := w.r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	w.a.mount(w.r)
	w.b.mount(w.r)
	return w
}

type resp struct {
	code int
	hdr  http.Header
	body map[string]any
	raw  string
}

func (r resp) status() string { s, _ := r.body["status"].(string); return s }

// do sends a request in header mode; hdr are extra header pairs.
func (w *world) do(method, path, body string, hdr ...string) resp {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("st-auth-mode", "header")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	w.r.ServeHTTP(rec, req)
	out := resp{code: rec.Code, hdr: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &out.body)
	return out
}

func fields(kv ...string) string {
	var f []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		f = append(f, map[string]string{"id": kv[i], "value": kv[i+1]})
	}
	b, _ := json.Marshal(map[string]any{"formFields": f})
	return string(b)
}

// tokens are a signed-in user's header-mode tokens.
type tokens struct{ userID, access, refresh string }

func (w *world) signUp(a *app, email, password string) tokens {
	w.t.Helper()
	r := w.do("POST", "/"+a.name+"/auth/signup", fields("email", email, "password", password), "rid", "emailpassword")
	if r.code != http.StatusOK || r.status() != "OK" {
		w.t.Fatalf("sign-up at %s: %d %s", a.name, r.code, r.raw)
	}
	return tokensOf(r)
}

func (w *world) signIn(a *app, email, password string) resp {
	return w.do("POST", "/"+a.name+"/auth/signin", fields("email", email, "password", password), "rid", "emailpassword")
}

func tokensOf(r resp) tokens {
	u, _ := r.body["user"].(map[string]any)
	id, _ := u["id"].(string)
	return tokens{userID: id, access: r.hdr.Get("st-access-token"), refresh: r.hdr.Get("st-refresh-token")}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func countUsers(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&models.User{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwoAppsOneEngine: two apps in one gin engine on one database server
// (one PostgreSQL database, a schema each). The same e-mail signs up in
// both as two users; tokens, reset tokens, rate-limit counters, roles and
// dashboard sessions of one app are refused (never cross-read) by the
// other, and the package-level role claim on b's route reads b's
// database. A package-level claim that read the default instance (a)
// instead of the request's, or two apps sharing one schema, fail it.
func TestTwoAppsOneEngine(t *testing.T) {
	w := newWorld(t)
	ginauth.SetDefault(w.a.auth) // the fallback that must not be taken
	defer ginauth.SetDefault(nil)
	ctx := context.Background()
	const email, pw = "same@example.com", "correct horse 1"

	ta := w.signUp(w.a, email, pw)
	tb := w.signUp(w.b, email, pw)
	if ta.userID == "" || tb.userID == "" || ta.userID == tb.userID {
		t.Fatalf("user ids %q and %q", ta.userID, tb.userID)
	}
	if r := w.do("POST", "/a/auth/signup", fields("email", email, "password", pw), "rid", "emailpassword"); r.status() != "FIELD_ERROR" {
		t.Fatalf("second sign-up in a: %s", r.raw)
	}
	if na, nb := countUsers(t, w.a.db), countUsers(t, w.b.db); na != 1 || nb != 1 {
		t.Fatalf("users: a %d, b %d", na, nb)
	}

	t.Run("tokens", func(t *testing.T) {
		if r := w.do("GET", "/a/me", "", bearer(ta.access)...); r.code != http.StatusOK || r.body["userId"] != ta.userID {
			t.Fatalf("a's token at a: %d %s", r.code, r.raw)
		}
		if r := w.do("GET", "/b/me", "", bearer(ta.access)...); r.code != http.StatusUnauthorized {
			t.Fatalf("a's access token at b: %d %s", r.code, r.raw)
		}
		if r := w.do("GET", "/a/me", "", bearer(tb.access)...); r.code != http.StatusUnauthorized {
			t.Fatalf("b's access token at a: %d %s", r.code, r.raw)
		}
		if r := w.do("POST", "/b/auth/session/refresh", "", bearer(ta.refresh)...); r.code != http.StatusUnauthorized {
			t.Fatalf("a's refresh token at b: %d %s", r.code, r.raw)
		}
		if r := w.do("POST", "/a/auth/session/refresh", "", bearer(ta.refresh)...); r.code != http.StatusOK {
			t.Fatalf("a's refresh token at a: %d %s", r.code, r.raw)
		} else {
			ta.access = r.hdr.Get("st-access-token")
		}
	})

	t.Run("roles and claims", func(t *testing.T) {
		if _, err := w.a.roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := w.a.roles.AddRoleToUser(ctx, ginauth.DefaultTenant, ta.userID, "admin"); err != nil {
			t.Fatal(err)
		}
		if r := w.do("GET", "/a/admin", "", bearer(ta.access)...); r.code != http.StatusOK {
			t.Fatalf("a's admin at a: %d %s", r.code, r.raw)
		}
		// b's user has the same e-mail, and a (the default instance) says
		// "admin" for a's user: b's route must read b's roles.
		if r := w.do("GET", "/b/admin", "", bearer(tb.access)...); r.code != http.StatusForbidden {
			t.Fatalf("b's user without the role in b: %d %s", r.code, r.raw)
		}
		if r := w.do("GET", "/b/admin", "", bearer(ta.access)...); r.code != http.StatusUnauthorized {
			t.Fatalf("a's admin token at b: %d %s", r.code, r.raw)
		}
		if _, err := w.b.roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := w.b.roles.AddRoleToUser(ctx, ginauth.DefaultTenant, tb.userID, "admin"); err != nil {
			t.Fatal(err)
		}
		if r := w.do("GET", "/b/admin", "", bearer(tb.access)...); r.code != http.StatusOK {
			t.Fatalf("b's admin at b: %d %s", r.code, r.raw)
		}
		if roles, err := w.b.roles.GetRolesForUser(ctx, ginauth.DefaultTenant, ta.userID); err != nil || len(roles) != 0 {
			t.Fatalf("a's user has roles in b: %v %v", roles, err)
		}
	})

	t.Run("rate-limit counters", func(t *testing.T) {
		for i := range signInLimit {
			if r := w.signIn(w.a, email, "wrong password"); r.status() != "WRONG_CREDENTIALS_ERROR" {
				t.Fatalf("wrong password %d at a: %d %s", i, r.code, r.raw)
			}
		}
		if r := w.signIn(w.a, email, pw); r.code != http.StatusTooManyRequests {
			t.Fatalf("a's account after %d failures: %d %s", signInLimit, r.code, r.raw)
		}
		if r := w.signIn(w.b, email, pw); r.code != http.StatusOK || r.status() != "OK" {
			t.Fatalf("the same e-mail at b while a's is locked: %d %s", r.code, r.raw)
		}
	})

	t.Run("reset tokens", func(t *testing.T) {
		if r := w.do("POST", "/a/auth/user/password/reset/token", fields("email", email)); r.status() != "OK" {
			t.Fatalf("reset request at a: %d %s", r.code, r.raw)
		}
		link := w.a.mail.waitFor(t, emaildelivery.KindPasswordReset, email).Link
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"method":"token","token":%q,"formFields":[{"id":"password","value":"another pass 2"}]}`, u.Query().Get("token"))
		if r := w.do("POST", "/b/auth/user/password/reset", body); r.status() != "RESET_PASSWORD_INVALID_TOKEN_ERROR" {
			t.Fatalf("a's reset token at b: %d %s", r.code, r.raw)
		}
		if w.b.mail.count() != 0 {
			t.Fatal("b sent mail for a's request")
		}
		if r := w.do("POST", "/a/auth/user/password/reset", body); r.status() != "OK" {
			t.Fatalf("a's reset token at a: %d %s", r.code, r.raw)
		}
	})

	t.Run("dashboard sessions", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/a/auth/dashboard/signin", strings.NewReader(url.Values{"key": {dashKey}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		w.r.ServeHTTP(rec, req)
		var cookie *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "ginauth_dashboard" && c.Value != "" {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatalf("dashboard sign-in at a: %d, no session cookie", rec.Code)
		}
		get := func(path string) int {
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
			rec := httptest.NewRecorder()
			w.r.ServeHTTP(rec, req)
			return rec.Code
		}
		if code := get("/a/auth/dashboard"); code != http.StatusOK {
			t.Fatalf("a's dashboard with a's session: %d", code)
		}
		if code := get("/b/auth/dashboard"); code == http.StatusOK {
			t.Fatal("b's dashboard admitted a's dashboard session")
		}
	})
}

// TestTwoAppsConcurrentSignUps: bursts of sign-ups of the same addresses
// in both apps at once; every pair gives two users, and each token is
// accepted by its own app and refused by the other.
func TestTwoAppsConcurrentSignUps(t *testing.T) {
	w := newWorld(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		for _, a := range []*app{w.a, w.b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := fmt.Sprintf("user%d@example.com", i)
				r := w.do("POST", "/"+a.name+"/auth/signup", fields("email", email, "password", "correct horse 1"), "rid", "emailpassword")
				if r.status() != "OK" {
					errs <- fmt.Errorf("sign-up %s at %s: %d %s", email, a.name, r.code, r.raw)
					return
				}
				tok := tokensOf(r)
				other := w.a
				if a == w.a {
					other = w.b
				}
				if r := w.do("GET", "/"+a.name+"/me", "", bearer(tok.access)...); r.code != http.StatusOK || r.body["userId"] != tok.userID {
					errs <- fmt.Errorf("own token at %s: %d %s", a.name, r.code, r.raw)
				}
				if r := w.do("GET", "/"+other.name+"/me", "", bearer(tok.access)...); r.code != http.StatusUnauthorized {
					errs <- fmt.Errorf("%s's token at %s: %d %s", a.name, other.name, r.code, r.raw)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if na, nb := countUsers(t, w.a.db), countUsers(t, w.b.db); na != n || nb != n {
		t.Fatalf("users: a %d, b %d, want %d each", na, nb, n)
	}
}

// TestCloseWaitsForResetMail: Close waits for a password-reset mail that
// a slow mail server holds, and the app answers 503 from then on (run
// with -race).
func TestCloseWaitsForResetMail(t *testing.T) {
	mail := &mailbox{gate: make(chan struct{})}
	a := newApp(t, "a", mail)
	w := &world{t: t, a: a, r: gin.New()}
	a.mount(w.r)
	w.signUp(a, "slow@example.com", "correct horse 1")
	if r := w.do("POST", "/a/auth/user/password/reset/token", fields("email", "slow@example.com")); r.status() != "OK" {
		t.Fatalf("reset request: %d %s", r.code, r.raw)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.auth.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the mail was still being sent", err)
	case <-time.After(300 * time.Millisecond):
	}
	if r := w.signIn(a, "slow@example.com", "correct horse 1"); r.code != http.StatusServiceUnavailable {
		t.Fatalf("sign-in after Close: %d %s", r.code, r.raw)
	}
	close(mail.gate)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the mail was sent")
	}
	if mail.count() != 1 {
		t.Fatalf("%d mails sent, want 1", mail.count())
	}
}
