package passwordless

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
)

func init() { gin.SetMode(gin.TestMode) }

// mailbox is an emaildelivery.Sender that keeps what it is given.
type mailbox struct{ ch chan emaildelivery.Email }

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.ch <- e
	return nil
}

// phone is an SMSSender that keeps what it is given.
type phone struct{ ch chan SMS }

func (p *phone) Send(_ context.Context, s SMS) error {
	p.ch <- s
	return nil
}

// harness is the recipe on a fresh database behind a real gin engine.
type harness struct {
	t     *testing.T
	auth  *ginauth.Auth
	pl    *Recipe
	clock *ginauthtest.Clock
	mail  *mailbox
	sms   *phone
	r     *gin.Engine

	mu      sync.Mutex
	factors []string // NewSession.Factor of every session created
}

type harnessOpts struct {
	cfg       func(*Config)
	rateLimit *ginauth.RateLimitConfig
	recipes   []ginauth.Recipe
	// factors, when set, are the only first factors the tenants allow.
	factors []string
	// onEvent receives the security events.
	onEvent func(context.Context, ginauth.Event)
	// noAnyTenant leaves the test tenant policy out (for a test that
	// configures the multitenancy recipe).
	noAnyTenant bool
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOpts{cfg: mod})
}

func newHarnessWith(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	h := &harness{t: t, clock: ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		mail: &mailbox{ch: make(chan emaildelivery.Email, 64)}, sms: &phone{ch: make(chan SMS, 64)}, r: gin.New()}
	cfg := Config{EmailSender: h.mail, SMSSender: h.sms}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	h.pl = New(cfg)
	acfg := ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: append([]ginauth.Recipe{h.pl}, o.recipes...),
		Now:     h.clock.Now,
		Logger:  slog.New(slog.DiscardHandler),
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		// Bursts of 20 code requests queue for SQLite's writer.
		DBTimeout: testdb.DBTimeout,
		Hooks: ginauth.Hooks{BeforeSessionCreate: func(_ context.Context, s *ginauth.NewSession) error {
			h.mu.Lock()
			h.factors = append(h.factors, s.Factor)
			h.mu.Unlock()
			return nil
		}, OnEvent: o.onEvent},
	}
	if !o.noAnyTenant {
		acfg.Recipes = append(acfg.Recipes, recipetest.AnyTenant(o.factors...))
	}
	if o.rateLimit != nil {
		acfg.RateLimit = *o.rateLimit
	}
	a, err := ginauth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r.Use(a.Middleware())
	h.r.GET("/me", a.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(200, gin.H{"userId": s.UserID(), "tenantId": s.TenantID()})
	})
	return h
}

func (h *harness) lastFactor() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.factors) == 0 {
		return ""
	}
	return h.factors[len(h.factors)-1]
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

// do sends a request without a session in header mode and decodes the
// JSON answer.
func (h *harness) do(method, path, body string, headers ...string) *resp {
	h.t.Helper()
	r := (&ginauthtest.Client{Handler: h.r, RID: "passwordless"}).Do(method, path, body, headers...)
	return &resp{r.ResponseRecorder, r.JSON}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func status(r *resp) string { s, _ := r.body["status"].(string); return s }

func str(r *resp, key string) string { s, _ := r.body[key].(string); return s }

func num(r *resp, key string) int { f, _ := r.body[key].(float64); return int(f) }

// expectStatus checks a 200 FDI answer's status.
func expectStatus(t *testing.T, r *resp, want string) {
	t.Helper()
	if r.Code != 200 || status(r) != want {
		t.Fatalf("got %d %s, want 200 status %s", r.Code, r.Body, want)
	}
}

// device is a started sign-in as the client sees it.
type device struct {
	tenant   string
	deviceID string
	pre      string
}

func (h *harness) prefix(tenant string) string {
	if tenant == "" {
		return "/auth"
	}
	return "/auth/" + tenant
}

// start posts /signinup/code for a contact ({"email": ...} or
// {"phoneNumber": ...}) and returns the device.
func (h *harness) start(tenant string, body map[string]any) device {
	h.t.Helper()
	r := h.do("POST", h.prefix(tenant)+"/signinup/code", js(body))
	expectStatus(h.t, r, "OK")
	return device{tenant: tenant, deviceID: str(r, "deviceId"), pre: str(r, "preAuthSessionId")}
}

func (h *harness) startEmail(email string) device {
	h.t.Helper()
	return h.start("", map[string]any{"email": email})
}

func (h *harness) consumeCode(d device, code string) *resp {
	h.t.Helper()
	return h.do("POST", h.prefix(d.tenant)+"/signinup/code/consume",
		js(map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID, "userInputCode": code}))
}

func (h *harness) consumeLink(tenant, pre, linkCode string) *resp {
	h.t.Helper()
	return h.do("POST", h.prefix(tenant)+"/signinup/code/consume",
		js(map[string]any{"preAuthSessionId": pre, "linkCode": linkCode}))
}

func (h *harness) resend(d device) *resp {
	h.t.Helper()
	return h.do("POST", h.prefix(d.tenant)+"/signinup/code/resend",
		js(map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID}))
}

// waitMail returns the next e-mail sent, or fails.
func (h *harness) waitMail() emaildelivery.Email {
	h.t.Helper()
	select {
	case m := <-h.mail.ch:
		return m
	case <-time.After(5 * time.Second):
		h.t.Fatal("no e-mail was sent")
	}
	return emaildelivery.Email{}
}

// waitSMS returns the next text message sent, or fails.
func (h *harness) waitSMS() SMS {
	h.t.Helper()
	select {
	case m := <-h.sms.ch:
		return m
	case <-time.After(5 * time.Second):
		h.t.Fatal("no SMS was sent")
	}
	return SMS{}
}

// codeFrom reads the user input code and link code off an e-mail.
func codeFrom(t *testing.T, m emaildelivery.Email) (code, linkCode string) {
	t.Helper()
	code = sixDigits.FindString(m.Subject)
	if i := strings.Index(m.Link, "#"); i >= 0 {
		linkCode = m.Link[i+1:]
	}
	return code, linkCode
}

func (h *harness) count(model any) int64 {
	h.t.Helper()
	var n int64
	if err := kit.Of(h.auth).DB().Model(model).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

// wrongCode returns a code of the right length that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
