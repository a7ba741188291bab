package totp_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/totp"
)

func init() { gin.SetMode(gin.TestMode) }

var testKey = []byte("0123456789abcdef0123456789abcdef")

type harness struct {
	t      *testing.T
	auth   *ginauth.Auth
	clock  *ginauthtest.Clock
	r      *gin.Engine
	totp   *totp.Recipe
	mfa    *multifactorauth.Recipe
	events *recipetest.Events
}

type setup struct {
	cfg   *ginauth.Config
	totp  *totp.Config
	mfa   *multifactorauth.Config
	noMFA bool
}

// newHarness builds an Auth with the totp and (unless noMFA) the
// multifactorauth recipes, a /login route that signs ?user= in with the
// emailpassword factor, and /secret behind VerifySession.
func newHarness(t *testing.T, mod func(*setup)) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	clk := ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)) // on a 30 s boundary
	events := &recipetest.Events{}
	cfg := ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Test App", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Now:     clk.Now,
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Logger:  slog.New(slog.DiscardHandler),
		// Out of the tests' way; the tests of the limits set
		// ginauth.RateLimitConfig{} (the defaults) in their setup.
		RateLimit: recipetest.GenerousLimits(),
		Hooks:     ginauth.Hooks{OnEvent: events.Hook},
	}
	tc := totp.Config{SecretKey: testKey}
	mc := multifactorauth.Config{}
	st := &setup{cfg: &cfg, totp: &tc, mfa: &mc}
	if mod != nil {
		mod(st)
	}
	h := &harness{t: t, clock: clk, totp: totp.New(tc), events: events}
	cfg.Recipes = append(cfg.Recipes, h.totp)
	if !st.noMFA {
		h.mfa = multifactorauth.New(mc)
		cfg.Recipes = append(cfg.Recipes, h.mfa)
	}
	a, err := ginauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r = gin.New()
	h.r.Use(a.Middleware())
	h.r.POST("/login", recipetest.Login(a, "emailpassword"))
	h.r.GET("/secret", a.VerifySession(), func(c *gin.Context) {
		c.JSON(200, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	return h
}

// client keeps a frontend's tokens in header mode.
type client struct {
	h *harness
	c *ginauthtest.Client
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

// client returns a frontend without a session.
func (h *harness) client() *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, RID: "totp"}}
}

func (h *harness) login(user string) *client {
	h.t.Helper()
	cl := h.client()
	if r := cl.do("POST", "/login?user="+user, ""); r.Code != 200 {
		h.t.Fatalf("login: %d %s", r.Code, r.Body)
	}
	return cl
}

func (cl *client) do(method, path, body string) *resp {
	cl.h.t.Helper()
	r := cl.c.Do(method, path, body)
	return &resp{r.ResponseRecorder, r.JSON}
}

// mfa returns st-mfa from the front token.
func (cl *client) mfa() map[string]any {
	cl.h.t.Helper()
	m, _ := cl.c.FrontPayload(cl.h.t)[multifactorauth.ClaimKey].(map[string]any)
	return m
}

func (cl *client) mfaSatisfied() bool {
	v, _ := cl.mfa()["v"].(bool)
	return v
}

func status(t *testing.T, r *resp, want string) {
	t.Helper()
	if r.Code != 200 || r.body["status"] != want {
		t.Fatalf("got %d %s, want 200 status %s", r.Code, r.Body, want)
	}
}

func code(t *testing.T, r *resp, want int) {
	t.Helper()
	if r.Code != want {
		t.Fatalf("got %d %s, want %d", r.Code, r.Body, want)
	}
}

// refTOTP is an independent RFC 6238 (SHA1, 6 digits, 30 s) implementation
// for computing what an authenticator app would show.
func refTOTP(t *testing.T, secretB32 string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secretB32)
	if err != nil {
		t.Fatalf("secret %q: %v", secretB32, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	o := sum[19] & 15
	v := (uint32(sum[o])&0x7f)<<24 | uint32(sum[o+1])<<16 | uint32(sum[o+2])<<8 | uint32(sum[o+3])
	return fmt.Sprintf("%06d", v%1000000)
}

// enrol creates and verifies a device for the client's user and returns
// its secret.
func (cl *client) enrol(name string) string {
	cl.h.t.Helper()
	r := cl.do("POST", "/auth/totp/device", fmt.Sprintf(`{"deviceName":%q}`, name))
	status(cl.h.t, r, "OK")
	secret := r.body["secret"].(string)
	status(cl.h.t, cl.do("POST", "/auth/totp/device/verify",
		fmt.Sprintf(`{"deviceName":%q,"totp":%q}`, name, refTOTP(cl.h.t, secret, cl.h.clock.Now()))), "OK")
	return secret
}

func totpBody(c string) string { return fmt.Sprintf(`{"totp":%q}`, c) }
