package webauthn_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/accountlinking"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	website = "http://localhost:3000"
	rpID    = "localhost"
)

type harness struct {
	t      *testing.T
	auth   *ginauth.Auth
	clock  *ginauthtest.Clock
	r      *gin.Engine
	wa     *webauthn.Recipe
	events *recipetest.Events
	mails  *mailbox
	ev     *emailverification.Recipe
	ep     *emailpassword.Recipe
	al     *accountlinking.Recipe
	// link and requireVerification are the automatic linking decision
	// with setup.linking.
	link, requireVerification atomic.Bool
}

type setup struct {
	cfg *ginauth.Config
	wa  *webauthn.Config
	// mfa adds multifactorauth (with this config) and emailpassword.
	mfa *multifactorauth.Config
	// tenants adds the multitenancy recipe.
	tenants bool
	// ev adds the emailverification recipe (h.ev).
	ev bool
	// linking adds accountlinking (its decision from h.link and
	// h.requireVerification), emailpassword (h.ep) and emailverification.
	linking bool
}

type mailbox struct {
	mu   sync.Mutex
	sent []emaildelivery.Email
}

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, e)
	return nil
}

func (m *mailbox) all() []emaildelivery.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]emaildelivery.Email(nil), m.sent...)
}

func newHarness(t *testing.T, mod func(*setup)) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	clk := ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC))
	h := &harness{t: t, clock: clk, events: &recipetest.Events{}, mails: &mailbox{}}
	cfg := ginauth.Config{
		DB:        db,
		AppInfo:   ginauth.AppInfo{AppName: "Test App", APIDomain: "http://localhost:3001", WebsiteDomain: website},
		Now:       clk.Now,
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Logger:    slog.New(slog.DiscardHandler),
		RateLimit: recipetest.GenerousLimits(),
		Hooks:     ginauth.Hooks{OnEvent: h.events.Hook},
	}
	wc := webauthn.Config{EmailSender: h.mails}
	st := &setup{cfg: &cfg, wa: &wc}
	if mod != nil {
		mod(st)
	}
	h.wa = webauthn.New(wc)
	cfg.Recipes = append(cfg.Recipes, h.wa)
	if st.mfa != nil {
		if !st.linking { // linking brings its own (h.ep)
			cfg.Recipes = append(cfg.Recipes, emailpassword.New(emailpassword.Config{Argon2: emailpassword.Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1}}))
		}
		cfg.Recipes = append(cfg.Recipes, multifactorauth.New(*st.mfa))
	}
	if st.linking {
		st.ev = true
		h.link.Store(true)
		h.requireVerification.Store(true)
		h.ep = emailpassword.New(emailpassword.Config{Argon2: emailpassword.Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1}, EmailSender: h.mails})
		h.al = accountlinking.New(accountlinking.Config{
			ShouldDoAutomaticAccountLinking: func(context.Context, accountlinking.AccountInfo, *ginauth.User, *ginauth.Session, string) (accountlinking.Decision, error) {
				return accountlinking.Decision{Link: h.link.Load(), RequireVerification: h.requireVerification.Load()}, nil
			},
		})
		cfg.Recipes = append(cfg.Recipes, h.ep, h.al)
	}
	if st.ev {
		h.ev = emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: h.mails})
		cfg.Recipes = append(cfg.Recipes, h.ev)
	}
	if st.tenants {
		cfg.Recipes = append(cfg.Recipes, multitenancy.New(multitenancy.Config{}))
	}
	a, err := ginauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.wa.Close)
	h.auth = a
	h.r = gin.New()
	h.r.Use(a.Middleware())
	h.r.GET("/secret", a.VerifySession(), func(c *gin.Context) {
		c.JSON(200, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	return h
}

type client struct {
	h *harness
	c *ginauthtest.Client
}

func (h *harness) client() *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, RID: "webauthn"}}
}

func (cl *client) do(method, path, body string) *ginauthtest.Response {
	cl.h.t.Helper()
	return cl.c.Do(method, "/auth"+path, body)
}

// ok sends a request and fails the test unless it answers 200 with
// status OK.
func (cl *client) ok(method, path, body string) map[string]any {
	cl.h.t.Helper()
	r := cl.do(method, path, body)
	if r.Code != 200 || r.JSON["status"] != "OK" {
		cl.h.t.Fatalf("%s %s: %d %s", method, path, r.Code, r.Body)
	}
	return r.JSON
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (cl *client) registerOptions(email string) map[string]any {
	cl.h.t.Helper()
	return cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"email": email}))
}

func (cl *client) signInOptions() map[string]any {
	cl.h.t.Helper()
	return cl.ok("POST", "/webauthn/options/signin", "{}")
}

func ceremony(opts map[string]any, cred string, extra ...any) string {
	body := map[string]any{"webauthnGeneratedOptionsId": opts["webauthnGeneratedOptionsId"], "credential": json.RawMessage(cred)}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return jsonBody(body)
}

// passwordPrimary signs email up with a password in public, marks the
// address verified when verified is true, and makes the account a primary
// user: the existing account the linking tests meet a passkey with.
func (h *harness) passwordPrimary(email string, verified bool) string {
	h.t.Helper()
	ctx := context.Background()
	owner, err := h.ep.SignUp(ctx, "public", email, "correct horse 1")
	if err != nil {
		h.t.Fatal(err)
	}
	if verified {
		if err := h.ev.MarkVerified(ctx, owner.ID, email); err != nil {
			h.t.Fatal(err)
		}
	}
	if res, err := h.al.CreatePrimaryUser(ctx, owner.ID); err != nil || res.Status != "OK" {
		h.t.Fatal(res, err)
	}
	return owner.ID
}

// signUp registers a new passkey account for email and returns the
// signed-in client, its authenticator and the user id.
func (h *harness) signUp(email string) (*client, *softAuthenticator, string) {
	h.t.Helper()
	cl := h.client()
	a := newAuthenticator(h.t, website)
	opts := cl.registerOptions(email)
	res := cl.ok("POST", "/webauthn/signup", ceremony(opts, a.register(opts)))
	return cl, a, res["user"].(map[string]any)["id"].(string)
}

// signIn signs in with a's passkey on a fresh client.
func (h *harness) signIn(a *softAuthenticator) (*client, *ginauthtest.Response) {
	h.t.Helper()
	cl := h.client()
	opts := cl.signInOptions()
	return cl, cl.do("POST", "/webauthn/signin", ceremony(opts, a.signIn(opts, nil)))
}

func (cl *client) secret() int {
	cl.h.t.Helper()
	return cl.c.Do("GET", "/secret", "").Code
}

func countRows(t *testing.T, h *harness, model any) int64 {
	t.Helper()
	var n int64
	if err := kit.Of(h.auth).DB().Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func status(r *ginauthtest.Response) string {
	s, _ := r.JSON["status"].(string)
	return s
}

func mustStatus(t *testing.T, r *ginauthtest.Response, want string) {
	t.Helper()
	if r.Code != 200 || status(r) != want {
		t.Fatalf("want 200 %s, got %d %s", want, r.Code, r.Body)
	}
}

func tokenFromLink(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatalf("no token in %q", link)
	}
	return tok
}
