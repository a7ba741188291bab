package security

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/totp"
	"github.com/ginauth/ginauth/tests/internal/everyrecipe"
)

func init() { gin.SetMode(gin.TestMode) }

// lowArgon2 keeps hashing cheap in tests where its cost does not matter.
var lowArgon2 = everyrecipe.LowArgon2

// totpKey seals TOTP secrets in these tests; it must never show up anywhere.
var totpKey = []byte("security-test-totp-sealing-key!!") // 32 bytes

// mailbox is an e-mail sender that keeps what it is given.
type mailbox struct {
	ginauthtest.Recorder[emaildelivery.Email]
}

// waitFor returns the latest e-mail of a kind sent to an address, waiting
// for background senders.
func (m *mailbox) waitFor(t testing.TB, kind, to string) emaildelivery.Email {
	t.Helper()
	return m.Wait(t, func(e emaildelivery.Email) bool { return e.Kind == kind && strings.EqualFold(e.To, to) })
}

// tokenFromLink reads the token query parameter of an e-mail's link.
func tokenFromLink(t testing.TB, link string) string {
	t.Helper()
	_, q, ok := strings.Cut(link, "token=")
	if !ok {
		t.Fatalf("no token in link %q", link)
	}
	tok, _, _ := strings.Cut(q, "&")
	return tok
}

// eventLog records security events.
type eventLog struct {
	ginauthtest.Recorder[ginauth.Event]
}

func (e *eventLog) of(typ ginauth.EventType) []ginauth.Event {
	return e.Filter(func(ev ginauth.Event) bool { return ev.Type == typ })
}

// appOptions change what newApp builds.
type appOptions struct {
	db        *gorm.DB // default: a fresh testdb database
	argon2    *emailpassword.Argon2Params
	rateLimit *ginauth.RateLimitConfig // default: testlimits.Generous()
	totp      bool                     // add the totp and multifactorauth recipes
	mod       func(*ginauth.Config)
	epMod     func(*emailpassword.Config)
	hashers   int
}

// app is a full ginauth application (emailpassword, emailverification,
// optionally totp) behind a real HTTP server, with its logs, events and
// mail captured.
type app struct {
	t      testing.TB
	db     *gorm.DB
	auth   *ginauth.Auth
	ep     *emailpassword.Recipe
	ev     *emailverification.Recipe
	totp   *totp.Recipe
	engine *gin.Engine
	srv    *httptest.Server
	logs   *ginauthtest.LogBuffer
	events *eventLog
	mail   *mailbox
	panics atomic.Int64
}

func newApp(t testing.TB, o appOptions) *app {
	t.Helper()
	a := &app{t: t, db: o.db, logs: &ginauthtest.LogBuffer{}, events: &eventLog{}, mail: &mailbox{}}
	if a.db == nil {
		a.db = ginauthtest.OpenDB(t)
	}
	params := lowArgon2
	if o.argon2 != nil {
		params = *o.argon2
	}
	rl := testlimits.Generous()
	if o.rateLimit != nil {
		rl = *o.rateLimit
	}
	epCfg := emailpassword.Config{Argon2: params, EmailSender: a.mail, MaxConcurrentHashes: o.hashers}
	if o.epMod != nil {
		o.epMod(&epCfg)
	}
	a.ep = emailpassword.New(epCfg)
	a.ev = emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: a.mail})
	cfg := ginauth.Config{
		DB: a.db,
		AppInfo: ginauth.AppInfo{AppName: "Security Tests", APIDomain: "http://localhost:3001",
			WebsiteDomain: "http://localhost:3000"},
		Recipes:   []ginauth.Recipe{a.ep, a.ev},
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Hooks:     ginauth.Hooks{OnEvent: a.events.Hook},
		RateLimit: rl,
		Logger:    slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DBTimeout: testdb.DBTimeout, // bursts of 40-60 queue for SQLite's writer
	}
	if o.totp {
		a.totp = totp.New(totp.Config{SecretKey: totpKey})
		cfg.Recipes = append(cfg.Recipes, a.totp, multifactorauth.New())
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	auth, err := ginauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.auth = auth

	r := gin.New()
	// As docs/security.md tells apps: trust no proxy headers unless a
	// proxy is configured, so that c.ClientIP() (the rate limiter's key)
	// cannot be chosen by the client.
	if err := r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	r.Use(gin.LoggerWithWriter(a.logs))
	r.Use(gin.CustomRecoveryWithWriter(a.logs, func(c *gin.Context, err any) {
		a.panics.Add(1)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"message": fmt.Sprint("panic: ", err)})
	}))
	r.Use(auth.Middleware())
	r.GET("/me", auth.VerifySession(), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(200, gin.H{"userId": s.UserID(), "handle": s.Handle()})
	})
	r.GET("/strict", auth.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), func(c *gin.Context) {
		c.JSON(200, gin.H{"userId": ginauth.MustSession(c).UserID()})
	})
	// The app's own change-password route, as the docs show it.
	r.POST("/me/password", auth.VerifySession(), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		var in struct{ Password string }
		if err := c.BindJSON(&in); err != nil {
			return
		}
		if err := a.ep.UpdateEmailOrPassword(c.Request.Context(), s.UserID(), nil, &in.Password, s.Handle()); err != nil {
			kit.Of(auth).WriteError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	})
	a.engine = r
	a.srv = httptest.NewServer(r)
	t.Cleanup(func() {
		a.srv.Close()
		if n := a.panics.Load(); n > 0 {
			t.Errorf("%d handler panics; log:\n%s", n, a.logs.String())
		}
	})
	return a
}

// resp is one answer.
type resp struct {
	code int
	hdr  http.Header
	raw  []byte
	body map[string]any
	err  error
	dur  time.Duration
}

func (r *resp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r *resp) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.code, r.raw)
}

// userID returns body.user.id.
func (r *resp) userID() string {
	u, _ := r.body["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// client is a frontend of the app's server (ginauthtest.Client); hc is its
// HTTP client, whose timeout tests change.
type client struct {
	*ginauthtest.Client
	a  *app
	hc *http.Client
}

func (a *app) client(mode string) *client {
	hc := &http.Client{Timeout: 60 * time.Second}
	return &client{Client: &ginauthtest.Client{BaseURL: a.srv.URL, HTTPClient: hc, Mode: mode}, a: a, hc: hc}
}

// do sends a request: body is a string or []byte (sent as is) or anything
// else (sent as JSON). It never fails the test; check resp.err.
func (c *client) do(method, path string, body any, hdr ...string) *resp {
	r := c.Do(method, path, body, hdr...)
	out := &resp{code: r.Code, err: r.Err, dur: r.Duration}
	if r.Err == nil {
		out.hdr, out.raw, out.body = r.Header(), r.Body.Bytes(), r.JSON
	}
	return out
}

// must sends a request and fails the test unless the status is code.
func (c *client) must(code int, method, path string, body any, hdr ...string) *resp {
	c.a.t.Helper()
	r := c.do(method, path, body, hdr...)
	if r.err != nil || r.code != code {
		c.a.t.Fatalf("%s %s: want %d, got %s", method, path, code, r)
	}
	return r
}

func (c *client) signUp(email, password string) *resp {
	return c.do("POST", "/auth/signup", ginauthtest.Form("email", email, "password", password))
}

func (c *client) signIn(email, password string) *resp {
	return c.do("POST", "/auth/signin", ginauthtest.Form("email", email, "password", password))
}

// signedUp signs a new account up and returns its client (header mode)
// and user id.
func (a *app) signedUp(email, password string) (*client, string) {
	a.t.Helper()
	c := a.client("header")
	r := c.signUp(email, password)
	if r.err != nil || r.code != 200 || r.str("status") != "OK" {
		a.t.Fatalf("sign-up %s: %s", email, r)
	}
	return c, r.userID()
}

// expect fails unless r has the status code and, if msg is set, the
// message or status field.
func expect(t testing.TB, r *resp, code int, msg string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("want %d %q, got %v", code, msg, r.err)
	}
	if r.code != code {
		t.Fatalf("want %d %q, got %s", code, msg, r)
	}
	if msg != "" && r.str("message") != msg && r.str("status") != msg {
		t.Fatalf("want %d %q, got %s", code, msg, r)
	}
}

// tableNames lists every ginauth table.
func tableNames() []string {
	var out []string
	for _, m := range models.All() {
		out = append(out, m.(interface{ TableName() string }).TableName())
	}
	return out
}

func count(t testing.TB, db *gorm.DB, table string, where ...any) int64 {
	t.Helper()
	var n int64
	q := db.Table(table)
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
