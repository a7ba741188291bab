package ginauthtest_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/emailpassword"
)

func init() { gin.SetMode(gin.TestMode) }

// newApp is an app with the emailpassword recipe and a /me route behind
// VerifySession, on a fresh database and a test clock.
func newApp(t *testing.T, mod func(*ginauth.Config)) (*gin.Engine, *ginauthtest.Clock) {
	t.Helper()
	clock := ginauthtest.NewClock(time.Time{})
	cfg := ginauth.Config{
		DB:      ginauthtest.OpenDB(t),
		AppInfo: ginauth.AppInfo{AppName: "Kit", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{
			Argon2: emailpassword.Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1}})},
		Now:     clock.Now,
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Logger:  slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := ginauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(a.Middleware())
	me := func(c *gin.Context) { c.JSON(200, gin.H{"userId": ginauth.MustSession(c).UserID()}) }
	r.GET("/me", a.VerifySession(), me)
	r.POST("/me", a.VerifySession(), me)
	return r, clock
}

// TestClientSessionLifecycle walks a session through sign-up, sign-in,
// expiry, refresh, token rotation and sign-out in both transfer modes,
// against the engine in process and over a real server: the client must
// keep and send back what the server sets, exactly as the SDK does, for
// every step to answer as it should.
func TestClientSessionLifecycle(t *testing.T) {
	for _, mode := range []string{"header", "cookie"} {
		for _, transport := range []string{"handler", "server"} {
			t.Run(mode+"/"+transport, func(t *testing.T) {
				r, clock := newApp(t, nil)
				c := &ginauthtest.Client{Mode: mode, RID: "emailpassword"}
				if transport == "handler" {
					c.Handler = r
				} else {
					srv := httptest.NewServer(r)
					t.Cleanup(srv.Close)
					c.BaseURL, c.HTTPClient = srv.URL, srv.Client()
				}
				su := c.SignUp("kit@example.com", "kit-pass-123")
				if su.Err != nil || su.Code != 200 || su.Status() != "OK" || su.UserID() == "" {
					t.Fatalf("sign-up: %v %d %s", su.Err, su.Code, su.Body)
				}
				if c.AccessToken() == "" || c.RefreshToken() == "" || c.Front == "" {
					t.Fatalf("tokens not kept: access %q refresh %q front %q", c.AccessToken(), c.RefreshToken(), c.Front)
				}
				if uid := c.FrontToken(t)["uid"]; uid != su.UserID() {
					t.Fatalf("front token uid %v, want %s", uid, su.UserID())
				}
				if c.FrontPayload(t)["sub"] != su.UserID() {
					t.Fatalf("front payload %v", c.FrontPayload(t))
				}
				if r := c.Do("GET", "/me", ""); r.Code != 200 || r.Str("userId") != su.UserID() {
					t.Fatalf("/me: %d %s", r.Code, r.Body)
				}
				if r := c.SignIn("kit@example.com", "kit-pass-123"); r.Status() != "OK" {
					t.Fatalf("sign-in: %d %s", r.Code, r.Body)
				}
				clock.Advance(2 * time.Hour) // past the access token's lifetime
				if r := c.Do("GET", "/me", ""); r.Code != 401 {
					t.Fatalf("/me with an expired access token: %d %s", r.Code, r.Body)
				}
				old := c.RefreshToken()
				if r := c.RefreshSession(); r.Code != 200 {
					t.Fatalf("refresh: %d %s", r.Code, r.Body)
				}
				if c.RefreshToken() == old || c.RefreshToken() == "" {
					t.Fatal("the rotated refresh token was not kept")
				}
				if r := c.Do("GET", "/me", ""); r.Code != 200 {
					t.Fatalf("/me after refresh: %d %s", r.Code, r.Body)
				}
				if r := c.SignOut(); r.Code != 200 {
					t.Fatalf("sign-out: %d %s", r.Code, r.Body)
				}
				if c.Front != "" || c.AccessToken() != "" || c.RefreshToken() != "" {
					t.Fatalf("session kept after sign-out: front %q access %q", c.Front, c.AccessToken())
				}
				// A replayed refresh token is refused: the client sends
				// what the test sets.
				c.SetRefreshToken(old)
				if r := c.RefreshSession(); r.Code != 401 {
					t.Fatalf("replayed refresh token: %d %s", r.Code, r.Body)
				}
			})
		}
	}
}

// TestClientAntiCSRF: with VIA_TOKEN the client keeps the anti-csrf token
// the server sends and sends it back, as supertokens-website does; without
// it a cookie-mode request with a session is refused.
func TestClientAntiCSRF(t *testing.T) {
	r, _ := newApp(t, func(c *ginauth.Config) { c.Session.AntiCSRF = ginauth.AntiCSRFViaToken })
	c := &ginauthtest.Client{Handler: r, Mode: "cookie"}
	if su := c.SignUp("csrf@example.com", "kit-pass-123"); su.Status() != "OK" {
		t.Fatalf("sign-up: %d %s", su.Code, su.Body)
	}
	if c.AntiCSRF == "" {
		t.Fatal("no anti-csrf token kept")
	}
	if r := c.Do("POST", "/me", ""); r.Code != 200 {
		t.Fatalf("with the token: %d %s", r.Code, r.Body)
	}
	c.AntiCSRF = ""
	if r := c.Do("POST", "/me", ""); r.Code != 401 {
		t.Fatalf("without the token: %d %s, want 401", r.Code, r.Body)
	}
}

// TestClientTransportError: a server that is not there is an Err, not a
// panic or a failed test.
func TestClientTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	r := (&ginauthtest.Client{BaseURL: srv.URL}).Do("GET", "/", nil)
	if r.Err == nil || r.Code != 0 {
		t.Fatalf("got %d, %v; want a transport error", r.Code, r.Err)
	}
}

func TestClock(t *testing.T) {
	c := ginauthtest.NewClock(time.Time{})
	if !c.Now().Equal(ginauthtest.Start) {
		t.Fatalf("zero start: %v", c.Now())
	}
	c.Advance(time.Minute)
	if got := c.Now().Sub(ginauthtest.Start); got != time.Minute {
		t.Fatalf("advanced %v", got)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Fatalf("set: %v", c.Now())
	}
}

// TestBurstRunsTogether: every call of a burst is under way before any
// returns (each waits until all n have started), so a burst really is
// concurrent; BurstCodes counts the statuses.
func TestBurstRunsTogether(t *testing.T) {
	const n = 20
	var started atomic.Int32
	codes := ginauthtest.BurstCodes(n, func(i int) int {
		started.Add(1)
		deadline := time.Now().Add(10 * time.Second)
		for started.Load() < n {
			if time.Now().After(deadline) {
				return 0
			}
			time.Sleep(time.Millisecond)
		}
		return 200 + i%2
	})
	if codes[200] != n/2 || codes[201] != n/2 {
		t.Fatalf("codes %v", codes)
	}
}

// TestRecorder: values recorded from many goroutines are all kept, Filter
// and Wait find them (Wait also one recorded later), Clear forgets them.
func TestRecorder(t *testing.T) {
	var r ginauthtest.Recorder[int]
	ginauthtest.Burst(50, func(i int) { r.Hook(t.Context(), i) })
	if got := len(r.All()); got != 50 {
		t.Fatalf("%d recorded, want 50", got)
	}
	if got := r.Filter(func(v int) bool { return v%10 == 0 }); len(got) != 5 {
		t.Fatalf("filtered %v", got)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = r.Send(t.Context(), 100)
	}()
	if v := r.Wait(t, func(v int) bool { return v >= 100 }); v != 100 {
		t.Fatalf("waited for %d", v)
	}
	r.Clear()
	if len(r.All()) != 0 {
		t.Fatal("not cleared")
	}
	var logs ginauthtest.LogBuffer
	ginauthtest.Burst(10, func(int) { _, _ = logs.Write([]byte("x")) })
	if logs.String() != "xxxxxxxxxx" {
		t.Fatalf("log %q", logs.String())
	}
}
