package ginauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
)

func init() { gin.SetMode(gin.TestMode) }

// testSecretKey is the harness's Config.SecretKey.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef")

// harness is an Auth on a fresh database behind a real gin engine.
type harness struct {
	t     *testing.T
	auth  *Auth
	clock *ginauthtest.Clock
	r     *gin.Engine
}

func baseConfig(t testing.TB, clk *ginauthtest.Clock) Config {
	db := ginauthtest.OpenDB(t)
	return Config{
		DB:      db,
		AppInfo: AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Now:     clk.Now,
		Session: SessionConfig{SigningAlgorithm: "ES256"}, // fast keys; RS256 has its own tests
		// The production set-up; the generated fallback key has its own
		// tests (secret_test.go), and other packages run without a key.
		SecretKey: testSecretKey,
		// Bursts of 50 refreshes queue for SQLite's writer (testdb.DBTimeout).
		DBTimeout: testdb.DBTimeout,
	}
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, auth: a, clock: clk, r: gin.New()}
	h.r.Use(a.Middleware())
	// A route that creates a session for ?user=, in the mode st-auth-mode asks.
	h.r.POST("/login", func(c *gin.Context) {
		if _, err := a.CreateSession(c, NewSession{UserID: c.Query("user")}); err != nil {
			a.writeError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	})
	h.r.GET("/me", a.VerifySession(), func(c *gin.Context) {
		s := MustSession(c)
		c.JSON(200, gin.H{"userId": s.UserID(), "handle": s.Handle(), "payload": s.AccessTokenPayload()})
	})
	h.r.POST("/me", a.VerifySession(), func(c *gin.Context) { c.JSON(200, gin.H{"userId": MustSession(c).UserID()}) })
	h.r.GET("/strict", a.VerifySession(VerifyOptions{CheckDatabase: true}), func(c *gin.Context) { c.JSON(200, gin.H{}) })
	h.r.GET("/maybe", a.VerifySession(VerifyOptions{Optional: true}), func(c *gin.Context) {
		s, ok := SessionFrom(c)
		id := ""
		if ok {
			id = s.UserID()
		}
		c.JSON(200, gin.H{"userId": id})
	})
	return h
}

// client is a frontend of the harness's engine (ginauthtest.Client) that
// fails the test on a broken front token.
type client struct {
	*ginauthtest.Client
	h *harness
}

func (h *harness) client(mode string) *client {
	return &client{Client: &ginauthtest.Client{Handler: h.r, Mode: mode, RID: "anti-csrf",
		Cookies: map[string]*http.Cookie{}}, h: h}
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (cl *client) do(method, path string, body string, extra ...string) *resp {
	cl.h.t.Helper()
	r := cl.Do(method, path, body, extra...)
	return &resp{ResponseRecorder: r.ResponseRecorder, body: r.JSON}
}

// frontPayload decodes the stored front token.
func (cl *client) frontPayload() map[string]any {
	cl.h.t.Helper()
	return cl.FrontToken(cl.h.t)
}

func (cl *client) login(user string) {
	cl.h.t.Helper()
	if r := cl.do("POST", "/login?user="+user, ""); r.Code != 200 {
		cl.h.t.Fatalf("login: %d %s", r.Code, r.Body)
	}
}

func expect(t *testing.T, r *resp, code int, message string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d; body %s", r.Code, code, r.Body)
	}
	if message != "" {
		if got, _ := r.body["message"].(string); got != message {
			t.Fatalf("message %q, want %q; body %s", got, message, r.Body)
		}
	}
}
