package security

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/totp"
)

func init() { gin.SetMode(gin.TestMode) }

// lowArgon2 keeps hashing cheap in tests where its cost does not matter
// (the recipe accepts it with a warning in the log).
var lowArgon2 = emailpassword.Argon2Params{Memory: 256, Iterations: 1, Parallelism: 1}

// totpKey seals TOTP secrets in these tests; it must never show up anywhere.
var totpKey = []byte("security-test-totp-sealing-key!!") // 32 bytes

// highLimits keeps the rate limiter on (its code and store run) with limits
// no test reaches by accident.
func highLimits() ginauth.RateLimitConfig {
	limits := map[ginauth.Action]ginauth.Limit{}
	for action := range ginauth.DefaultLimits() {
		limits[action] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
			PerAccount: ginauth.Rule{Max: 1 << 30, Window: time.Minute}}
	}
	return ginauth.RateLimitConfig{Limits: limits}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mailbox is an e-mail sender that keeps what it is given.
type mailbox struct {
	mu    sync.Mutex
	mails []emaildelivery.Email
}

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.mu.Lock()
	m.mails = append(m.mails, e)
	m.mu.Unlock()
	return nil
}

func (m *mailbox) all() []emaildelivery.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]emaildelivery.Email(nil), m.mails...)
}

// waitFor returns the latest e-mail of a kind sent to an address, waiting
// for background senders.
func (m *mailbox) waitFor(t testing.TB, kind, to string) emaildelivery.Email {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mails := m.all()
		for i := len(mails) - 1; i >= 0; i-- {
			if mails[i].Kind == kind && strings.EqualFold(mails[i].To, to) {
				return mails[i]
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s e-mail to %s", kind, to)
	return emaildelivery.Email{}
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
	mu   sync.Mutex
	list []ginauth.Event
}

func (e *eventLog) add(_ context.Context, ev ginauth.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *eventLog) all() []ginauth.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ginauth.Event(nil), e.list...)
}

func (e *eventLog) of(typ ginauth.EventType) []ginauth.Event {
	var out []ginauth.Event
	for _, ev := range e.all() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// appOptions change what newApp builds.
type appOptions struct {
	db        *gorm.DB // default: a fresh testdb database
	argon2    *emailpassword.Argon2Params
	rateLimit *ginauth.RateLimitConfig // default: highLimits()
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
	logs   *syncBuffer
	events *eventLog
	mail   *mailbox
	panics atomic.Int64
}

func newApp(t testing.TB, o appOptions) *app {
	t.Helper()
	a := &app{t: t, db: o.db, logs: &syncBuffer{}, events: &eventLog{}, mail: &mailbox{}}
	if a.db == nil {
		a.db = testdb.Open(t)
		if err := models.AutoMigrate(a.db); err != nil {
			t.Fatal(err)
		}
	}
	params := lowArgon2
	if o.argon2 != nil {
		params = *o.argon2
	}
	rl := highLimits()
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
		Hooks:     ginauth.Hooks{OnEvent: a.events.add},
		RateLimit: rl,
		Logger:    slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
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
			auth.WriteError(c, err)
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

// client is a frontend: in header mode it keeps its tokens itself, in
// cookie mode a cookie jar does.
type client struct {
	a       *app
	hc      *http.Client
	mode    string
	access  string
	refresh string
	front   string
	ctx     context.Context
}

func (a *app) client(mode string) *client {
	hc := &http.Client{Timeout: 60 * time.Second}
	if mode == "cookie" {
		jar, _ := cookiejar.New(nil)
		hc.Jar = jar
	}
	return &client{a: a, hc: hc, mode: mode, ctx: context.Background()}
}

// do sends a request: body is a string (sent as is) or anything else
// (sent as JSON). It never fails the test; check resp.err.
func (c *client) do(method, path string, body any, hdr ...string) *resp {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.a.srv.URL+path, rd)
	if err != nil {
		return &resp{err: err}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("st-auth-mode", c.mode)
	if c.mode == "header" {
		tok := c.access
		if strings.HasSuffix(path, "/session/refresh") {
			tok = c.refresh
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return &resp{err: err, dur: time.Since(start)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	r := &resp{code: res.StatusCode, hdr: res.Header, raw: raw, err: err, dur: time.Since(start)}
	_ = json.Unmarshal(raw, &r.body)
	if c.mode == "header" {
		if v, ok := res.Header["St-Access-Token"]; ok {
			c.access = v[0]
		}
		if v, ok := res.Header["St-Refresh-Token"]; ok {
			c.refresh = v[0]
		}
	}
	if v := res.Header.Get("front-token"); v != "" {
		c.front = v
	}
	return r
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

func form(kv ...string) map[string]any {
	var ff []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		ff = append(ff, map[string]string{"id": kv[i], "value": kv[i+1]})
	}
	return map[string]any{"formFields": ff}
}

func (c *client) signUp(email, password string) *resp {
	return c.do("POST", "/auth/signup", form("email", email, "password", password))
}

func (c *client) signIn(email, password string) *resp {
	return c.do("POST", "/auth/signin", form("email", email, "password", password))
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
