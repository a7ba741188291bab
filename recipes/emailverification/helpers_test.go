package emailverification_test

import (
	"context"
	"encoding/json"
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

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
)

func init() { gin.SetMode(gin.TestMode) }

// accounts is a test-only recipe standing in for emailpassword: it keeps
// e-mail login methods in memory and serves POST /test/signup {"email"}
// (an empty e-mail makes a user without one) and POST /test/signin
// {"userId"}, both of which create a session.
type accounts struct {
	auth   *ginauth.Auth
	mu     sync.Mutex
	emails map[string]string
	joined map[string]time.Time
}

func (a *accounts) ID() string { return "testaccounts" }

func (a *accounts) Setup(reg *ginauth.Registrar) error {
	a.auth = reg.Auth()
	a.emails, a.joined = map[string]string{}, map[string]time.Time{}
	reg.AddLoginMethods(func(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		joined, ok := a.joined[userID]
		if !ok {
			return nil, nil
		}
		return []ginauth.LoginMethod{{RecipeID: "emailpassword", RecipeUserID: userID, TimeJoined: joined.UnixMilli(),
			Email: a.emails[userID]}}, nil
	})
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		a.mu.Lock()
		delete(a.emails, userID)
		delete(a.joined, userID)
		a.mu.Unlock()
		return nil
	})
	if err := reg.Handle(ginauth.Route{Method: http.MethodPost, Path: "/test/signup", Handler: func(c *gin.Context) {
		var in struct{ Email string }
		if err := c.ShouldBindJSON(&in); err != nil {
			kit.Of(a.auth).WriteError(c, ginauth.BadRequest("bad body"))
			return
		}
		id, joined, err := kit.Of(a.auth).CreateUser(c.Request.Context(), kit.Of(a.auth).DB(), ginauth.TenantID(c))
		if err != nil {
			kit.Of(a.auth).WriteError(c, err)
			return
		}
		a.mu.Lock()
		a.emails[id], a.joined[id] = in.Email, joined
		a.mu.Unlock()
		if _, err := a.auth.CreateSession(c, ginauth.NewSession{UserID: id, TenantID: ginauth.TenantID(c)}); err != nil {
			kit.Of(a.auth).WriteError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "OK", "userId": id})
	}}); err != nil {
		return err
	}
	return reg.Handle(ginauth.Route{Method: http.MethodPost, Path: "/test/signin", Handler: func(c *gin.Context) {
		var in struct{ UserID string }
		if err := c.ShouldBindJSON(&in); err != nil {
			kit.Of(a.auth).WriteError(c, ginauth.BadRequest("bad body"))
			return
		}
		if _, err := a.auth.CreateSession(c, ginauth.NewSession{UserID: in.UserID, TenantID: ginauth.TenantID(c)}); err != nil {
			kit.Of(a.auth).WriteError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "OK"})
	}})
}

// mailbox is a Sender that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []emaildelivery.Email
	fail error
}

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, e)
	return nil
}

func (m *mailbox) last(t *testing.T) emaildelivery.Email {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no e-mail was sent")
	}
	return m.sent[len(m.sent)-1]
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

type harness struct {
	t      *testing.T
	auth   *ginauth.Auth
	ev     *emailverification.Recipe
	clock  *ginauthtest.Clock
	db     *gorm.DB
	r      *gin.Engine
	mail   *mailbox
	events *recipetest.Events
}

type setup struct {
	ev        emailverification.Config
	routes    bool // RegisterRoutes instead of Middleware
	noMailbox bool
	// defaultLimits keeps ginauth's rate limits; other tests get limits
	// they never reach.
	defaultLimits bool
	modifyCore    func(*ginauth.Config)
	extraRoutes   func(h *harness)
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	h := &harness{t: t, clock: ginauthtest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)), db: db, mail: &mailbox{},
		events: &recipetest.Events{}}
	if s.ev.EmailSender == nil && !s.noMailbox {
		s.ev.EmailSender = h.mail
	}
	h.ev = emailverification.New(s.ev)
	cfg := ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{&accounts{}, h.ev, recipetest.AnyTenant()},
		Now:     h.clock.Now,
		Logger:  slog.New(slog.DiscardHandler),
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Hooks:   ginauth.Hooks{OnEvent: h.events.Hook},
	}
	if !s.defaultLimits {
		cfg.RateLimit = recipetest.GenerousLimits()
	}
	if s.modifyCore != nil {
		s.modifyCore(&cfg)
	}
	a, err := ginauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r = gin.New()
	if s.routes {
		a.RegisterRoutes(h.r)
	} else {
		h.r.Use(a.Middleware())
	}
	h.r.GET("/protected", a.VerifySession(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	h.r.GET("/needs-verified", a.VerifySession(), a.RequireClaim(emailverification.IsVerified()), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"ok": true})
	})
	if s.extraRoutes != nil {
		s.extraRoutes(h)
	}
	return h
}

// client keeps a frontend's tokens, in header or cookie mode.
type client struct {
	h *harness
	c *ginauthtest.Client
}

func (h *harness) client(mode string) *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, Mode: mode, RID: "emailverification",
		Headers: []string{"fdi-version", "3.1,4.0,4.1,4.2"}}}
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (cl *client) do(method, path, body string) *resp {
	cl.h.t.Helper()
	r := cl.c.Do(method, path, body)
	return &resp{r.ResponseRecorder, r.JSON}
}

// signup makes a user with email (none when empty) and a session.
func (cl *client) signup(email string) string {
	cl.h.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email})
	r := cl.do("POST", "/auth/test/signup", string(b))
	if r.Code != 200 {
		cl.h.t.Fatalf("signup: %d %s", r.Code, r.Body)
	}
	return r.body["userId"].(string)
}

func (cl *client) signin(userID string) {
	cl.h.t.Helper()
	b, _ := json.Marshal(map[string]string{"userId": userID})
	if r := cl.do("POST", "/auth/test/signin", string(b)); r.Code != 200 {
		cl.h.t.Fatalf("signin: %d %s", r.Code, r.Body)
	}
}

// ev returns the st-ev claim of the stored front token: value and whether
// it is there.
func (cl *client) ev() (bool, bool) {
	cl.h.t.Helper()
	e, ok := cl.c.FrontPayload(cl.h.t)["st-ev"].(map[string]any)
	if !ok {
		return false, false
	}
	v, ok := e["v"].(bool)
	return v, ok
}

func expectStatus(t *testing.T, r *resp, code int, status string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("HTTP %d, want %d; body %s", r.Code, code, r.Body)
	}
	if status != "" {
		if got, _ := r.body["status"].(string); got != status {
			t.Fatalf("status %q, want %q; body %s", got, status, r.Body)
		}
	}
}

func expectMessage(t *testing.T, r *resp, code int, message string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("HTTP %d, want %d; body %s", r.Code, code, r.Body)
	}
	if got, _ := r.body["message"].(string); !strings.Contains(got, message) {
		t.Fatalf("message %q, want it to contain %q; body %s", got, message, r.Body)
	}
}

// tokenFrom reads the token out of a verification link and checks the
// link's shape.
func tokenFrom(t *testing.T, link, tenant string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "http://localhost:3000/auth/verify-email" {
		t.Errorf("link goes to %s", got)
	}
	if got := u.Query().Get("tenantId"); got != tenant {
		t.Errorf("link tenantId = %q, want %q", got, tenant)
	}
	tok := u.Query().Get("token")
	if len(tok) < 40 {
		t.Fatalf("link token %q is too short", tok)
	}
	return tok
}

func verifyBody(token string) string {
	b, _ := json.Marshal(map[string]string{"method": "token", "token": token})
	return string(b)
}

func (h *harness) count(model any) int64 {
	h.t.Helper()
	var n int64
	if err := h.db.Model(model).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}
