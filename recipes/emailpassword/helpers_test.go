package emailpassword

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
)

func init() { gin.SetMode(gin.TestMode) }

// fastArgon2 keeps most tests quick; TestDefaultParams uses the defaults.
var fastArgon2 = Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1}

// mailbox is a Sender that keeps what it is given.
type mailbox struct{ ch chan emaildelivery.Email }

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.ch <- e
	return nil
}

// harness is the recipe on a fresh database behind a real gin engine.
type harness struct {
	t      *testing.T
	auth   *ginauth.Auth
	ep     *Recipe
	clock  *ginauthtest.Clock
	mail   *mailbox
	r      *gin.Engine
	events *recipetest.Events

	hashes sync.Map // kind -> *atomic.Int64, counted by the hasher's test hook
}

// newHarness raises the rate limits out of the tests' way; the tests of
// the limits use newHarnessLimits with ginauth's defaults.
func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	return newHarnessLimits(t, mod, recipetest.GenerousLimits())
}

func newHarnessLimits(t *testing.T, mod func(*Config), limits ginauth.RateLimitConfig) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	h := &harness{t: t, clock: ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		mail: &mailbox{ch: make(chan emaildelivery.Email, 16)}, r: gin.New(), events: &recipetest.Events{}}
	cfg := Config{Argon2: fastArgon2, EmailSender: h.mail}
	if mod != nil {
		mod(&cfg)
	}
	h.ep = New(cfg)
	a, err := ginauth.New(ginauth.Config{
		DB:        db,
		AppInfo:   ginauth.AppInfo{AppName: "Test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes:   []ginauth.Recipe{h.ep, recipetest.AnyTenant()},
		Now:       h.clock.Now,
		Logger:    slog.New(slog.DiscardHandler),
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		RateLimit: limits,
		Hooks:     ginauth.Hooks{OnEvent: h.events.Hook},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.ep.hasher.onHash = func(kind string) { h.counter(kind).Add(1) }
	t.Cleanup(h.ep.mailWG.Wait)
	h.r.Use(a.Middleware())
	h.r.GET("/me", a.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(200, gin.H{"userId": s.UserID(), "payload": s.AccessTokenPayload()})
	})
	return h
}

func (h *harness) counter(kind string) *atomic.Int64 {
	v, _ := h.hashes.LoadOrStore(kind, new(atomic.Int64))
	return v.(*atomic.Int64)
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

// do sends a request without a session in header mode (tokens come back
// in headers) and decodes the JSON answer.
func (h *harness) do(method, path, body string, headers ...string) *resp {
	h.t.Helper()
	r := (&ginauthtest.Client{Handler: h.r, RID: "emailpassword"}).Do(method, path, body, headers...)
	return &resp{r.ResponseRecorder, r.JSON}
}

func (h *harness) signUp(email, password string) *resp {
	h.t.Helper()
	return h.do("POST", "/auth/signup", ginauthtest.Form("email", email, "password", password))
}

func (h *harness) signIn(email, password string) *resp {
	h.t.Helper()
	return h.do("POST", "/auth/signin", ginauthtest.Form("email", email, "password", password))
}

// mustSignUp signs up and returns the new user's id.
func (h *harness) mustSignUp(email, password string) string {
	h.t.Helper()
	r := h.signUp(email, password)
	if status(r) != "OK" {
		h.t.Fatalf("sign-up %s: %d %s", email, r.Code, r.Body)
	}
	return r.body["user"].(map[string]any)["id"].(string)
}

func status(r *resp) string { s, _ := r.body["status"].(string); return s }

// expectStatus checks a 200 FDI answer's status.
func expectStatus(t *testing.T, r *resp, want string) {
	t.Helper()
	if r.Code != 200 || status(r) != want {
		t.Fatalf("got %d %s, want 200 status %s", r.Code, r.Body, want)
	}
}

// expectFieldError checks a FIELD_ERROR answer with exactly these id, error pairs.
func expectFieldError(t *testing.T, r *resp, pairs ...string) {
	t.Helper()
	expectStatus(t, r, "FIELD_ERROR")
	var want []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		want = append(want, map[string]any{"id": pairs[i], "error": pairs[i+1]})
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(r.body["formFields"])
	if string(wb) != string(gb) {
		t.Fatalf("formFields %s, want %s", gb, wb)
	}
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

// noMail checks that no e-mail was sent.
func (h *harness) noMail() {
	h.t.Helper()
	h.ep.mailWG.Wait()
	select {
	case m := <-h.mail.ch:
		h.t.Fatalf("unexpected e-mail to %s", m.To)
	default:
	}
}

func (h *harness) count(model any) int64 {
	h.t.Helper()
	var n int64
	if err := kit.Of(h.auth).DB().Model(model).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) storedHash(userID string) string {
	h.t.Helper()
	var row models.EmailPasswordUser
	if err := kit.Of(h.auth).DB().Where("user_id = ?", userID).Take(&row).Error; err != nil {
		h.t.Fatal(err)
	}
	return row.PasswordHash
}
