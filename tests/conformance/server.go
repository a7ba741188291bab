// Package conformance is the test server that supertokens-website's own
// browser test suite talks to, built on ginauth's public API.
//
// SuperTokens' backend SDKs each ship such a server (test/server in
// supertokens-website for supertokens-node). The suite drives it over HTTP:
// it creates "apps" with a per-test access-token lifetime, (re)initialises the
// backend with or without anti-CSRF tokens, logs users in, calls protected
// routes, and reads counters of refresh calls. This package answers the same
// endpoints with the same observable behaviour, with ginauth doing the
// session work, so that the suite checks ginauth's wire compatibility.
//
// An "app" here stands for a SuperTokens core app: its own SQLite database.
// Servers built with the same Apps share those databases, as the suite's two
// servers (same-origin and cross-domain) share one core.
package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// AppURLPrefix starts the "core URL" that /test/setup/app answers and
// /test/setup/st takes back: it names one of our apps, not a real core.
const AppURLPrefix = "ginauth-app://"

// defaultAccessValidity is a SuperTokens core's default access-token
// lifetime, used before any test sets its own.
const defaultAccessValidity = time.Hour

// Apps holds the per-test databases ("apps") shared by the servers of one
// process.
type Apps struct {
	dir    string
	secret []byte

	mu      sync.Mutex
	apps    map[string]*App
	servers []*Server
	// spare is a database made ready (migrated, with a signing key) in the
	// background for the next new app: the suite makes a new app for every
	// case and waits for it, and on a busy machine the migration and the
	// RSA key took seconds of each case. Nil when none is ready (yet).
	spare     *gorm.DB
	spareN    int
	preparing bool
	closed    bool
	preparer  sync.WaitGroup
}

// App is one stand-in for a core app: a database and the access-token
// lifetime the test asked for.
type App struct {
	ID             string
	DB             *gorm.DB
	AccessValidity time.Duration
}

// NewApps keeps app databases under dir. secret is the ginauth server
// secret every server uses, so that a refresh token issued by one server
// works on the other.
func NewApps(dir string, secret []byte) *Apps {
	return &Apps{dir: dir, secret: secret, apps: map[string]*App{}}
}

// Get returns the app named id, creating its database on first use.
// validity 0 keeps the app's lifetime (or the default for a new app).
func (as *Apps) Get(id string, validity time.Duration) (*App, error) {
	if id == "" || strings.ContainsAny(id, `/\.`) || len(id) > 100 {
		return nil, fmt.Errorf("bad app id %q", id)
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if a, ok := as.apps[id]; ok {
		if validity > 0 {
			a.AccessValidity = validity
		}
		return a, nil
	}
	db := as.spare
	as.spare = nil
	if db == nil {
		var err error
		if db, err = openAppDB(filepath.Join(as.dir, id+".db")); err != nil {
			return nil, err
		}
	}
	as.prepareSpareLocked()
	if validity <= 0 {
		validity = defaultAccessValidity
	}
	a := &App{ID: id, DB: db, AccessValidity: validity}
	as.apps[id] = a
	return a, nil
}

// openAppDB opens (creating) an app database and migrates it.
func openAppDB(path string) (*gorm.DB, error) {
	// WAL and a busy timeout: the suite fires hundreds of parallel requests.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return nil, err
	}
	if err := models.AutoMigrate(db); err != nil {
		closeDB(db)
		return nil, err
	}
	return db, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// prepareSpareLocked starts making the next spare database unless one is
// ready or under way. as.mu must be held.
func (as *Apps) prepareSpareLocked() {
	if as.spare != nil || as.preparing || as.closed {
		return
	}
	as.preparing = true
	as.preparer.Add(1)
	as.spareN++
	path := filepath.Join(as.dir, fmt.Sprintf("spare-%d.db", as.spareN))
	go func() {
		defer as.preparer.Done()
		db, err := openAppDB(path)
		if err == nil {
			// ginauth.New stores the app's first signing key; the servers'
			// instances on this database will find it there. It is made on
			// the wall clock: Options.Now must not stand before it (the Go
			// tests' clocks start at the real time).
			_, err = ginauth.New(ginauth.Config{
				DB:        db,
				AppInfo:   ginauth.AppInfo{AppName: "SuperTokens", APIDomain: "http://localhost", WebsiteDomain: "http://localhost"},
				Session:   ginauth.SessionConfig{CleanupInterval: -1},
				SecretKey: as.secret,
				Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				closeDB(db)
			}
		}
		as.mu.Lock()
		defer as.mu.Unlock()
		as.preparing = false
		if err != nil || as.closed {
			// Get makes the database itself; nothing is lost.
			if err == nil {
				closeDB(db)
			}
			return
		}
		as.spare = db
	}()
}

// Close closes every app database.
func (as *Apps) Close() {
	as.mu.Lock()
	as.closed = true
	as.mu.Unlock()
	// A spare under way writes into dir, which the caller may remove next.
	as.preparer.Wait()
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, a := range as.apps {
		closeDB(a.DB)
	}
	if as.spare != nil {
		closeDB(as.spare)
		as.spare = nil
	}
}

// Options configure one Server.
type Options struct {
	// APIDomain is where this server listens. The reference uses
	// "http://0.0.0.0:<port>" (the suite checks the tokens' iss against it).
	APIDomain string
	// WebsiteDomain is the page's origin, e.g. "http://localhost:8080": the
	// only origin CORS lets in with credentials.
	WebsiteDomain string
	// SuiteServerDir is the suite's test/server folder, whose index.html
	// and angular/ this server serves. Empty serves neither.
	SuiteServerDir string
	// PackageVersion is supertokens-website's version, answered on
	// /getPackageVersion.
	PackageVersion string
	// Logger receives ginauth's log lines. Default: warnings to stderr.
	Logger *slog.Logger
	// AccessLog, when set, receives one line per request (for debugging
	// a failing case).
	AccessLog io.Writer
	// Now is ginauth's clock (ginauth.Config.Now). Default time.Now; the Go
	// tests pass a ginauthtest.Clock so that token lifetimes do not depend
	// on how loaded the machine is.
	Now func() time.Time
}

// Server is one test server: the suite runs one on its main origin and one
// on its cross-domain origin.
type Server struct {
	opts Options
	apps *Apps

	setupMu   sync.Mutex
	instances map[string]*instance
	cur       atomic.Pointer[instance]

	refreshCalled    atomic.Int64
	refreshAttempted atomic.Int64
	getSessionCalled atomic.Int64

	engine *gin.Engine
}

// instance is one initialisation of the backend, as /test/setup/st makes.
type instance struct {
	auth     *ginauth.Auth
	mw       gin.HandlerFunc
	app      *App
	antiCSRF bool
	jwt      bool
}

// NewServer builds a server initialised as the reference's is at start:
// the default app, anti-CSRF tokens on, no JWT.
func NewServer(opts Options, apps *Apps) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s := &Server{opts: opts, apps: apps, instances: map[string]*instance{}}
	apps.mu.Lock()
	apps.servers = append(apps.servers, s)
	apps.mu.Unlock()
	app, err := apps.Get("default", 0)
	if err != nil {
		return nil, err
	}
	if err := s.setup(app, true, false); err != nil {
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// setup (re)initialises the backend on app, as the reference re-runs
// SuperTokens.init: the suite switches anti-CSRF mode and token lifetime
// between tests.
//
// The suite does not wait for /test/setup/st to answer before it logs in,
// so setup must be quick: instances are built once per (app, lifetime,
// modes) and kept, and /test/setup/app builds the app's first one (which
// creates its signing key) while the suite waits.
func (s *Server) setup(app *App, antiCSRF, jwt bool) error {
	inst, err := s.instanceFor(app, antiCSRF, jwt)
	if err != nil {
		return err
	}
	s.cur.Store(inst)
	return nil
}

func (s *Server) instanceFor(app *App, antiCSRF, jwt bool) (*instance, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	key := fmt.Sprintf("%s/%s/%t/%t", app.ID, app.AccessValidity, antiCSRF, jwt)
	if inst, ok := s.instances[key]; ok {
		return inst, nil
	}
	mode := ginauth.AntiCSRFNone
	if antiCSRF {
		mode = ginauth.AntiCSRFViaToken
	}
	a, err := ginauth.New(ginauth.Config{
		DB: app.DB,
		AppInfo: ginauth.AppInfo{
			AppName:       "SuperTokens",
			APIDomain:     s.opts.APIDomain,
			WebsiteDomain: s.opts.WebsiteDomain,
		},
		Session: ginauth.SessionConfig{
			AccessTokenValidity: app.AccessValidity,
			AntiCSRF:            mode,
			// The reference's API domain is 0.0.0.0:port, which
			// supertokens-node counts as the same site as localhost (Lax);
			// ginauth would see two sites and choose None.
			CookieSameSite: http.SameSiteLaxMode,
			// The suite waits validity+2 s and expects the next call to
			// need a refresh: SuperTokens allows no leeway on exp.
			ClockSkew:       time.Nanosecond,
			CleanupInterval: -1,
			// The reference's JWT mode sets supertokens-node's
			// exposeAccessTokenToFrontendInCookieBasedAuth: the suite reads
			// the token with getAccessToken() in cookie mode.
			ExposeAccessTokenInCookieMode: jwt,
		},
		SecretKey:    s.apps.secret,
		Logger:       s.opts.Logger,
		ErrorHandler: errorHandler,
		Now:          s.opts.Now,
	})
	if err != nil {
		return nil, err
	}
	inst := &instance{auth: a, mw: a.Middleware(), app: app, antiCSRF: antiCSRF, jwt: jwt}
	s.instances[key] = inst
	return inst, nil
}

// errorHandler answers 401 "unauthorised" with {} as the reference test
// server's onUnauthorised does; everything else as ginauth does by default.
func errorHandler(c *gin.Context, err *ginauth.Error) {
	if errors.Is(err, ginauth.ErrUnauthorised) && !errors.Is(err, ginauth.ErrTokenTheft) {
		c.AbortWithStatusJSON(err.Status, gin.H{})
		return
	}
	ginauth.DefaultErrorHandler(c, err)
}

func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())
	if s.opts.AccessLog != nil {
		r.Use(gin.LoggerWithWriter(s.opts.AccessLog))
	}
	r.Use(s.cors)
	r.Use(s.refreshRoute)
	// ginauth serves the rest of /auth/* (sign-out, ...) as the reference's
	// middleware() does.
	r.Use(func(c *gin.Context) { s.cur.Load().mw(c) })

	r.POST("/test/setup/app", s.setupApp)
	r.POST("/test/setup/st", s.setupST)
	r.POST("/reinitialiseBackendConfig", s.reinitialise)
	r.GET("/featureFlags", s.featureFlags)
	r.POST("/beforeeach", func(c *gin.Context) {
		s.refreshCalled.Store(0)
		s.refreshAttempted.Store(0)
		s.getSessionCalled.Store(0)
		c.Status(200)
	})
	for _, p := range []string{"/after", "/stopst", "/testUserConfig"} {
		r.POST(p, func(c *gin.Context) { c.Status(200) })
	}
	r.POST("/login", s.login)
	r.POST("/login-2.18", func(c *gin.Context) {
		// Sessions of core API 2.18 (pre-v3 tokens) need the reference's
		// legacy core; ginauth never issued such tokens.
		c.String(http.StatusNotImplemented, "legacy (CDI 2.18) sessions are not supported by ginauth")
	})
	r.POST("/multipleInterceptors", func(c *gin.Context) {
		ok := c.GetHeader("interceptorheader2") != "" && c.GetHeader("interceptorheader1") != ""
		c.String(200, map[bool]string{true: "success", false: "failure"}[ok])
	})
	r.GET("/", s.withSession(ginauth.VerifyOptions{}, func(c *gin.Context, ss *ginauth.Session) {
		s.getSessionCalled.Add(1)
		c.String(200, ss.UserID())
	}))
	r.GET("/check-rid", s.withSession(ginauth.VerifyOptions{}, func(c *gin.Context, _ *ginauth.Session) {
		c.String(200, ridAnswer(c))
	}))
	r.GET("/check-rid-no-session", func(c *gin.Context) { c.String(200, ridAnswer(c)) })
	r.GET("/update-jwt", s.withSession(ginauth.VerifyOptions{}, func(c *gin.Context, ss *ginauth.Session) {
		c.JSON(200, ss.AccessTokenPayload())
	}))
	r.POST("/update-jwt", s.withSession(ginauth.VerifyOptions{}, s.updateJWT))
	r.POST("/update-jwt-with-handle", s.withSession(ginauth.VerifyOptions{}, s.updateJWTWithHandle))
	r.POST("/session-claims-error", s.withSession(ginauth.VerifyOptions{
		OverrideGlobalClaimValidators: func([]claims.Validator, *gin.Context) []claims.Validator {
			return []claims.Validator{claims.Custom("test-claim-failing", nil, nil,
				func(claims.Payload, time.Time) *claims.ValidationError {
					return &claims.ValidationError{Reason: map[string]any{"message": "testReason"}}
				})}
		},
	}, func(c *gin.Context, _ *ginauth.Session) { c.JSON(200, gin.H{}) }))
	r.POST("/403-without-body", func(c *gin.Context) { c.Status(403) })
	r.Any("/testing", func(c *gin.Context) {
		if v := c.GetHeader("testing"); v != "" {
			c.Header("testing", v)
		}
		c.String(200, "success")
	})
	r.POST("/logout", s.withSession(ginauth.VerifyOptions{}, func(c *gin.Context, ss *ginauth.Session) {
		if err := ss.Revoke(c.Request.Context()); err != nil {
			kit.Of(ss.Auth()).WriteError(c, err)
			return
		}
		c.String(200, "success")
	}))
	r.POST("/revokeAll", s.withSession(ginauth.VerifyOptions{}, func(c *gin.Context, ss *ginauth.Session) {
		if _, err := ss.Auth().RevokeAllSessions(c.Request.Context(), ss.UserID()); err != nil {
			kit.Of(ss.Auth()).WriteError(c, err)
			return
		}
		c.String(200, "success")
	}))
	counter := func(n *atomic.Int64) gin.HandlerFunc {
		return func(c *gin.Context) { c.String(200, strconv.FormatInt(n.Load(), 10)) }
	}
	r.GET("/refreshCalledTime", counter(&s.refreshCalled))
	r.GET("/refreshAttemptedTime", counter(&s.refreshAttempted))
	r.GET("/getSessionCalledTime", counter(&s.getSessionCalled))
	r.GET("/getPackageVersion", func(c *gin.Context) { c.String(200, s.opts.PackageVersion) })
	r.GET("/ping", func(c *gin.Context) { c.String(200, "success") })
	r.GET("/testHeader", func(c *gin.Context) {
		b, _ := json.Marshal(map[string]bool{"success": c.GetHeader("st-custom-header") != ""})
		c.String(200, string(b))
	})
	r.POST("/checkAllowCredentials", func(c *gin.Context) {
		c.String(200, strconv.FormatBool(c.GetHeader("allow-credentials") != ""))
	})
	r.GET("/testError", func(c *gin.Context) {
		code := 500
		if q := c.Query("code"); q != "" {
			if n, err := strconv.Atoi(q); err == nil && n >= 100 && n <= 599 {
				code = n
			}
		}
		c.String(code, "test error message")
	})
	if dir := s.opts.SuiteServerDir; dir != "" {
		r.GET("/index.html", func(c *gin.Context) {
			// Not c.File: http.ServeFile redirects /index.html to /.
			b, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil {
				c.String(500, err.Error())
				return
			}
			c.Data(200, "text/html; charset=utf-8", b)
		})
		r.Static("/angular", filepath.Join(dir, "angular"))
	}
	r.NoRoute(func(c *gin.Context) { c.String(404, "") })
	return r
}

// cors answers as the reference's express cors() with a fixed origin does:
// the allow-origin and allow-credentials headers on every response (even
// same-origin ones, which the suite's header checks see), and preflights
// answered 204 with the allowed methods and headers.
func (s *Server) cors(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", s.opts.WebsiteDomain)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Credentials", "true")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET,PUT,POST,DELETE")
		h.Set("Access-Control-Allow-Headers", strings.Join(append([]string{"content-type"}, ginauth.CORSHeaders()...), ","))
		h.Set("Content-Length", "0")
		c.AbortWithStatus(http.StatusNoContent)
	}
}

func ridAnswer(c *gin.Context) string {
	if strings.HasPrefix(c.GetHeader("rid"), "anti-csrf") {
		return "success"
	}
	return "fail"
}

// withSession runs h with the request's verified session, or answers the
// session error as the reference's verifySession() does.
func (s *Server) withSession(opts ginauth.VerifyOptions, h func(*gin.Context, *ginauth.Session)) gin.HandlerFunc {
	return func(c *gin.Context) {
		a := s.cur.Load().auth
		ss, err := a.GetSession(c, opts)
		if err != nil {
			kit.Of(a).WriteError(c, err)
			return
		}
		h(c, ss)
	}
}

// refreshRoute stands in for the reference test server's own
// POST /auth/session/refresh: it counts attempts, lets ginauth refresh (as
// supertokens-node's verifySession does on the refresh path), and on success
// answers the text the suite expects instead of ginauth's {}.
func (s *Server) refreshRoute(c *gin.Context) {
	inst := s.cur.Load()
	if c.Request.Method != http.MethodPost || c.Request.URL.Path != inst.auth.AppInfo().APIBasePath+"/session/refresh" {
		c.Next()
		return
	}
	s.refreshAttempted.Add(1)
	orig := c.Writer
	buf := &bufferedWriter{ResponseWriter: orig, status: http.StatusOK}
	c.Writer = buf
	inst.mw(c)
	c.Writer = orig
	c.Abort()
	if buf.status != http.StatusOK {
		c.Data(buf.status, buf.Header().Get("Content-Type"), buf.body)
		return
	}
	if c.GetHeader("rid") == "" {
		c.String(200, "refresh failed")
		return
	}
	s.refreshCalled.Add(1)
	c.String(200, "refresh success")
}

// bufferedWriter keeps a handler's status and body, passing headers (the
// new tokens) through.
type bufferedWriter struct {
	gin.ResponseWriter
	status  int
	body    []byte
	written bool
}

func (w *bufferedWriter) WriteHeader(code int) { w.status = code }
func (w *bufferedWriter) WriteHeaderNow()      { w.written = true }
func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.written = true
	w.body = append(w.body, b...)
	return len(b), nil
}
func (w *bufferedWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *bufferedWriter) Status() int                       { return w.status }
func (w *bufferedWriter) Size() int                         { return len(w.body) }
func (w *bufferedWriter) Written() bool                     { return w.written }

// setupApp creates an app: {"appId", "coreConfig": {"access_token_validity": seconds}}.
func (s *Server) setupApp(c *gin.Context) {
	var in struct {
		AppID      string `json:"appId"`
		CoreConfig struct {
			AccessTokenValidity *float64 `json:"access_token_validity"`
		} `json:"coreConfig"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request.Body, 1<<20)).Decode(&in); err != nil && err != io.EOF {
		c.String(400, "bad body: %v", err)
		return
	}
	if in.AppID == "" {
		in.AppID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	var validity time.Duration
	if v := in.CoreConfig.AccessTokenValidity; v != nil {
		if *v <= 0 {
			c.String(400, "access_token_validity must be positive")
			return
		}
		validity = time.Duration(*v * float64(time.Second))
	}
	app, err := s.apps.Get(in.AppID, validity)
	if err != nil {
		c.String(400, err.Error())
		return
	}
	// Build the instance /test/setup/st will most likely ask for now, on
	// every server of the app (the cross-domain one too), while the suite
	// waits (see setup).
	s.apps.mu.Lock()
	servers := append([]*Server(nil), s.apps.servers...)
	s.apps.mu.Unlock()
	for _, srv := range servers {
		if _, err := srv.instanceFor(app, true, false); err != nil {
			c.String(500, err.Error())
			return
		}
	}
	c.String(200, AppURLPrefix+in.AppID)
}

type setupBody struct {
	CoreURL        string `json:"coreUrl"`
	EnableAntiCSRF *bool  `json:"enableAntiCsrf"`
	EnableJWT      *bool  `json:"enableJWT"`
}

func (s *Server) appFor(coreURL string) (*App, error) {
	if coreURL == "" {
		return s.cur.Load().app, nil
	}
	id, ok := strings.CutPrefix(coreURL, AppURLPrefix)
	if !ok {
		return nil, fmt.Errorf("unknown core URL %q (expected %s<id> from /test/setup/app)", coreURL, AppURLPrefix)
	}
	return s.apps.Get(id, 0)
}

// readSetup reads a setup body and the app it names, answering 400 itself
// when either is bad.
func (s *Server) readSetup(c *gin.Context) (setupBody, *App, bool) {
	var in setupBody
	if err := json.NewDecoder(io.LimitReader(c.Request.Body, 1<<20)).Decode(&in); err != nil && err != io.EOF {
		c.String(400, "bad body: %v", err)
		return in, nil, false
	}
	a, err := s.appFor(in.CoreURL)
	if err != nil {
		c.String(400, err.Error())
		return in, nil, false
	}
	return in, a, true
}

// setupST re-initialises the backend: {"coreUrl", "enableAntiCsrf", "enableJWT"}.
func (s *Server) setupST(c *gin.Context) {
	in, app, ok := s.readSetup(c)
	if !ok {
		return
	}
	// Like the reference, a missing flag counts as false.
	if err := s.setup(app, in.EnableAntiCSRF != nil && *in.EnableAntiCSRF, in.EnableJWT != nil && *in.EnableJWT); err != nil {
		c.String(500, err.Error())
		return
	}
	c.Status(200)
}

// reinitialise re-runs the setup on a given app keeping the last modes.
func (s *Server) reinitialise(c *gin.Context) {
	_, app, ok := s.readSetup(c)
	if !ok {
		return
	}
	cur := s.cur.Load()
	if err := s.setup(app, cur.antiCSRF, cur.jwt); err != nil {
		c.String(500, err.Error())
		return
	}
	c.String(200, "")
}

// featureFlags tells the suite which behaviour to expect: that of a recent
// supertokens-node (v3 access tokens, claims, duplicate-cookie refusal).
func (s *Server) featureFlags(c *gin.Context) {
	c.JSON(200, gin.H{
		"sessionJwt":              s.cur.Load().jwt,
		"sessionClaims":           true,
		"v3AccessToken":           true,
		"duplicateCookieHandling": true,
	})
}

type loginBody struct {
	UserID string `json:"userId"`
}

func (s *Server) login(c *gin.Context) {
	var in loginBody
	if err := json.NewDecoder(io.LimitReader(c.Request.Body, 1<<20)).Decode(&in); err != nil || in.UserID == "" {
		c.String(400, "body must be {\"userId\": ...}")
		return
	}
	inst := s.cur.Load()
	ns := ginauth.NewSession{UserID: in.UserID}
	if inst.jwt {
		// The reference adds this claim to every session in JWT mode.
		ns.AccessTokenPayload = claims.Payload{"customClaim": "customValue"}
	}
	ss, err := inst.auth.CreateSession(c, ns)
	if err != nil {
		kit.Of(inst.auth).WriteError(c, err)
		return
	}
	c.String(200, ss.UserID())
}

// protected lists the payload keys the session layer owns, which
// /update-jwt leaves alone (the reference's isProtectedPropName).
var protected = map[string]bool{"sub": true, "iat": true, "exp": true, "sessionHandle": true,
	"parentRefreshTokenHash1": true, "refreshTokenHash1": true, "antiCsrfToken": true,
	"iss": true, "tId": true, "rsub": true}

func readObject(c *gin.Context) (claims.Payload, bool) {
	var body claims.Payload
	if err := json.NewDecoder(io.LimitReader(c.Request.Body, 1<<20)).Decode(&body); err != nil {
		c.String(400, "body must be a JSON object: %v", err)
		return nil, false
	}
	return body, true
}

// updateJWT replaces the session's custom payload with the body: keys not
// in the body are cleared (merged as null), as the reference does with
// mergeIntoAccessTokenPayload.
func (s *Server) updateJWT(c *gin.Context, ss *ginauth.Session) {
	body, ok := readObject(c)
	if !ok {
		return
	}
	update := claims.Payload{}
	for k := range ss.Payload() {
		if !protected[k] {
			update[k] = nil
		}
	}
	for k, v := range body {
		update[k] = v
	}
	if err := ss.MergeIntoAccessTokenPayload(c.Request.Context(), update); err != nil {
		kit.Of(ss.Auth()).WriteError(c, err)
		return
	}
	c.JSON(200, ss.AccessTokenPayload())
}

// updateJWTWithHandle does the same by session handle (no new token on
// this response); it answers the payload of the request's token, as the
// reference does.
func (s *Server) updateJWTWithHandle(c *gin.Context, ss *ginauth.Session) {
	body, ok := readObject(c)
	if !ok {
		return
	}
	a := ss.Auth()
	info, err := a.GetSessionInfo(c.Request.Context(), ss.Handle())
	if err != nil {
		kit.Of(a).WriteError(c, err)
		return
	}
	update := claims.Payload{}
	for k := range info.AccessTokenPayload {
		update[k] = nil
	}
	for k, v := range body {
		update[k] = v
	}
	if err := a.MergeIntoAccessTokenPayload(c.Request.Context(), ss.Handle(), update); err != nil {
		kit.Of(a).WriteError(c, err)
		return
	}
	c.JSON(200, ss.AccessTokenPayload())
}
