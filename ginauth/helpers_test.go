package ginauth

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

func init() { gin.SetMode(gin.TestMode) }

// clock is an injectable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testSecretKey is the harness's Config.SecretKey.
var testSecretKey = []byte("0123456789abcdef0123456789abcdef")

// harness is an Auth on a fresh database behind a real gin engine.
type harness struct {
	t     *testing.T
	auth  *Auth
	clock *clock
	r     *gin.Engine
}

func baseConfig(t testing.TB, clk *clock) Config {
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	return Config{
		DB:      db,
		AppInfo: AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Now:     clk.Now,
		Session: SessionConfig{SigningAlgorithm: "ES256"}, // fast keys; RS256 has its own tests
		// The production set-up; the generated fallback key has its own
		// tests (secret_test.go), and other packages run without a key.
		SecretKey: testSecretKey,
	}
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	clk := newClock()
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
			a.WriteError(c, err)
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

// client keeps a frontend's tokens the way supertokens-website does, in
// cookie or header mode.
type client struct {
	h       *harness
	mode    string // "cookie" or "header"
	cookies map[string]*http.Cookie
	access  string
	refresh string
	front   string
	csrf    string
	rid     bool
}

func (h *harness) client(mode string) *client {
	return &client{h: h, mode: mode, cookies: map[string]*http.Cookie{}, rid: true}
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (cl *client) do(method, path string, body string, extra ...string) *resp {
	cl.h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("st-auth-mode", cl.mode)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.rid {
		req.Header.Set("rid", "anti-csrf")
	}
	if cl.csrf != "" {
		req.Header.Set("anti-csrf", cl.csrf)
	}
	if cl.mode == "header" {
		tok := cl.access
		if strings.HasSuffix(path, "/session/refresh") {
			tok = cl.refresh
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	for _, c := range cl.cookies {
		if strings.HasPrefix(path, c.Path) {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	cl.h.r.ServeHTTP(w, req)
	cl.absorb(w)
	r := &resp{ResponseRecorder: w}
	_ = json.Unmarshal(w.Body.Bytes(), &r.body)
	return r
}

// absorb stores tokens from a response, as the SDK's saveTokensFromHeaders
// and the browser's cookie jar do.
func (cl *client) absorb(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Unix(1, 0))) || c.Value == "" {
			delete(cl.cookies, c.Name)
		} else {
			cl.cookies[c.Name] = c
		}
	}
	if v, ok := w.Header()["St-Access-Token"]; ok {
		cl.access = v[0]
	}
	if v, ok := w.Header()["St-Refresh-Token"]; ok {
		cl.refresh = v[0]
	}
	if v := w.Header().Get("front-token"); v != "" {
		if v == "remove" {
			cl.front, cl.access, cl.refresh, cl.csrf = "", "", "", ""
		} else {
			cl.front = v
		}
	}
	if v := w.Header().Get("anti-csrf"); v != "" {
		cl.csrf = v
	}
}

// frontPayload decodes the stored front token.
func (cl *client) frontPayload() map[string]any {
	cl.h.t.Helper()
	raw, err := base64.StdEncoding.DecodeString(cl.front)
	if err != nil {
		cl.h.t.Fatalf("front-token is not base64: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		cl.h.t.Fatalf("front-token is not JSON: %v", err)
	}
	return m
}

func (cl *client) accessToken() string {
	if cl.mode == "header" {
		return cl.access
	}
	if c := cl.cookies[CookieAccessToken]; c != nil {
		return c.Value
	}
	return ""
}

func (cl *client) refreshToken() string {
	if cl.mode == "header" {
		return cl.refresh
	}
	if c := cl.cookies[CookieRefreshToken]; c != nil {
		return c.Value
	}
	return ""
}

func (cl *client) setRefreshToken(tok string) {
	if cl.mode == "header" {
		cl.refresh = tok
		return
	}
	cl.cookies[CookieRefreshToken] = &http.Cookie{Name: CookieRefreshToken, Value: tok, Path: "/auth/session/refresh"}
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
