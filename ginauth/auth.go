package ginauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/models"
)

// Auth is one configured ginauth instance: its database, keys, recipes and
// routes. Build it with New; it is safe for concurrent use.
type Auth struct {
	cfg          Config
	s            settings
	db           *gorm.DB
	dbNoTx       *gorm.DB // db without GORM's implicit transaction, for single statements (refresh)
	log          *slog.Logger
	now          func() time.Time
	verifyNow    func() time.Time // now, for verifyAccessToken (see monoClock)
	errorHandler ErrorHandler
	keys         *keyStore
	secret       *serverSecret // keys derived from Config.SecretKey (secret.go)
	limiter      *rateLimiter

	recipes        []Recipe
	routes         []*route
	routeIndex     map[string]*route
	badInput       map[string]func(*gin.Context, *Error) // by recipe id: Registrar.OnBadInput (input.go)
	requiredTables []string
	claims         []claims.Claim
	validators     []claims.Validator
	userDeleters   []UserDeleteFunc
	sessionHooks   []func(ctx context.Context, s *NewSession) error
	emailLookups   []EmailLookupFunc
	// linking is set by Registrar.EnableAccountLinking.
	linking         bool
	tenantPolicy    *TenantPolicy
	tenantDeleters  []func(ctx context.Context, tx *gorm.DB, tenantID string) error
	loginMethods    []LoginMethodsFunc
	loginDecorators []func(ctx context.Context, db *gorm.DB, methods []LoginMethod) error

	lastCleanup atomic.Int64 // unix ms of the last expired-session sweep
	vcache      verifyCache  // verified access tokens (verifycache.go); sized on first use
	life        lifecycle    // background work and Close (close.go)
}

// New validates cfg, checks that the ginauth tables exist, sets up every
// recipe and loads (or creates) the signing keys. It never migrates: run
// models.AutoMigrate or your own migrations first.
func New(cfg Config) (*Auth, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	a := &Auth{
		cfg:          cfg,
		s:            s,
		db:           cfg.DB,
		dbNoTx:       cfg.DB.Session(&gorm.Session{SkipDefaultTransaction: true}),
		log:          cfg.Logger,
		errorHandler: cfg.ErrorHandler,
		routeIndex:   map[string]*route{},
		recipes:      cfg.Recipes,
	}
	a.life.init()
	if a.log == nil {
		a.log = slog.Default()
	}
	// Times are stored in UTC so that SQLite, which keeps them as text,
	// compares them correctly whatever the server's zone.
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	a.now = func() time.Time { return clock().UTC() }
	// The verify path's clock: the configured one when set (tests keep
	// exact time), else one that reads the monotonic clock alone (clock.go).
	a.verifyNow = a.now
	if cfg.Now == nil {
		a.verifyNow = new(monoClock).now
	}
	if a.errorHandler == nil {
		a.errorHandler = DefaultErrorHandler
	}
	a.limiter = newRateLimiter(cfg.RateLimit, cfg.DB)
	a.requiredTables = append(a.requiredTables, models.CoreTables()...)
	if cfg.SecretKey == nil {
		a.requiredTables = append(a.requiredTables, models.TableSecrets) // the fallback key's home
	}
	a.claims = append(a.claims, cfg.Session.Claims...)
	a.validators = append(a.validators, cfg.Session.GlobalValidators...)
	a.addCoreRoutes()

	seen := map[string]bool{}
	for _, rc := range cfg.Recipes {
		if rc == nil {
			return nil, fmt.Errorf("%w: Recipes has a nil entry", ErrConfig)
		}
		if seen[rc.ID()] {
			return nil, fmt.Errorf("%w: recipe %q is configured twice", ErrConfig, rc.ID())
		}
		seen[rc.ID()] = true
		if err := rc.Setup(&Registrar{auth: a, recipe: rc.ID()}); err != nil {
			return nil, fmt.Errorf("ginauth: setting up recipe %s: %w", rc.ID(), err)
		}
	}

	for action := range cfg.RateLimit.Limits {
		if !action.Valid() && !a.limiter.declared[action] {
			return nil, fmt.Errorf("%w: RateLimit.Limits: %q is not a rate-limited action (see the Action* constants and the recipes' own actions)", ErrConfig, action)
		}
	}

	ctx := context.Background()
	if err := a.checkTables(); err != nil {
		return nil, err
	}
	if a.secret, err = a.loadServerSecret(ctx); err != nil {
		return nil, fmt.Errorf("ginauth: loading the server secret: %w", err)
	}
	if a.keys, err = newKeyStore(ctx, a.db, s, a.now, a.secret.sealer, a.log); err != nil {
		return nil, fmt.Errorf("ginauth: loading signing keys: %w", err)
	}
	// Claimed last, so that a failed New leaves the store free.
	if m, ok := a.limiter.store.(*memoryRateLimitStore); ok && !m.owner.CompareAndSwap(nil, a) {
		// Two apps counting in one map would lock each other's users out.
		return nil, fmt.Errorf("%w: RateLimit.Store: this memory store already serves another instance; give each instance its own NewMemoryRateLimitStore", ErrConfig)
	}
	return a, nil
}

// ErrMissingTables is returned (wrapped, with the names) by New when the
// database lacks ginauth tables.
// It matches ErrConfig too.
var ErrMissingTables = fmt.Errorf("%w: missing tables (run models.AutoMigrate or your migrations)", ErrConfig)

func (a *Auth) checkTables() error {
	var missing []string
	seen := map[string]bool{}
	m := a.db.Migrator()
	for _, t := range a.requiredTables {
		if seen[t] {
			continue
		}
		seen[t] = true
		if !m.HasTable(t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingTables, strings.Join(missing, ", "))
	}
	return nil
}

type authKey struct{}

// authCtx is a context carrying the Auth serving it: what
// context.WithValue(parent, authKey{}, a) gives, without the interface
// conversion of the key.
type authCtx struct {
	context.Context
	auth *Auth
}

func (c *authCtx) Value(key any) any {
	if _, ok := key.(authKey); ok {
		return c.auth
	}
	return c.Context.Value(key)
}

// withAuth returns ctx carrying a, for claim fetch functions and
// package-level helpers that need to know which instance (and so which
// database) they serve.
func (a *Auth) withAuth(ctx context.Context) context.Context {
	if lookupAuth(ctx) == a {
		return ctx
	}
	return &authCtx{Context: ctx, auth: a}
}

// NewContext returns ctx carrying a, which FromContext finds. ginauth does
// this itself for the requests its handlers and guards serve and before
// calling claim fetch functions; call it when you use package-level
// helpers (claims, recipe functions) outside a request, e.g. at start-up.
func NewContext(ctx context.Context, a *Auth) context.Context { return a.withAuth(ctx) }

// FromContext returns the Auth serving the current request or claim fetch,
// or nil when none does. A request carries the instance whose Middleware,
// RegisterRoutes routes, VerifySession or GetSession served it (its
// *gin.Context and its c.Request.Context() both work); claims' fetch
// functions receive a context that carries it; NewContext adds it by hand.
//
// There is no fallback to the default instance (see Init): in a process
// with several instances that would read another app's database. Use
// AuthFrom for an error that names the fix.
func FromContext(ctx context.Context) *Auth {
	if ctx == nil {
		return nil
	}
	if c, ok := ctx.(*gin.Context); ok {
		if v, ok := c.Get(authKey{}); ok {
			if a, ok := v.(*Auth); ok {
				return a
			}
		}
		if s, ok := SessionFrom(c); ok {
			return s.auth
		}
		if c.Request == nil {
			return nil
		}
		ctx = c.Request.Context()
	}
	return lookupAuth(ctx)
}

// lookupAuth finds the Auth in a plain context: put there by withAuth, or
// the instance of the session a guard attached.
func lookupAuth(ctx context.Context) *Auth {
	if a, ok := ctx.Value(authKey{}).(*Auth); ok && a != nil {
		return a
	}
	if s, ok := ctx.Value(sessionKey{}).(*Session); ok && s != nil {
		return s.auth
	}
	return nil
}

// ErrNoInstance is the cause of the error AuthFrom (and the package-level
// claims and helpers of the recipes) return when no ginauth instance
// serves the context. It is a programming error, answered with a 500.
var ErrNoInstance = errors.New("ginauth: no ginauth instance serves this context: " +
	"put (*Auth).Middleware, RegisterRoutes or VerifySession before the handler, " +
	"or pass ginauth.NewContext(ctx, auth) outside a request")

// AuthFrom is FromContext that fails instead of returning nil: its error
// is a 500 *Error whose cause, ErrNoInstance, names the fix.
func AuthFrom(ctx context.Context) (*Auth, error) {
	if a := FromContext(ctx); a != nil {
		return a, nil
	}
	e := NewError(ErrInternal, ErrNoInstance)
	e.Message = "server misconfigured: no authentication instance serves this request"
	return nil, e
}

// AppInfo returns the normalised AppInfo: domains without a trailing slash,
// base paths with a leading one. WebsiteDomain is the default origin; a
// link built for a request uses WebsiteOrigin instead.
func (a *Auth) AppInfo() AppInfo {
	return AppInfo{AppName: a.cfg.AppInfo.AppName, APIDomain: a.s.apiDomain, WebsiteDomain: a.s.websiteDomain,
		WebsiteOrigins: a.extraOrigins(), Origin: a.s.originFunc,
		APIBasePath: a.s.apiBasePath, WebsiteBasePath: a.s.websiteBasePath}
}

// Routes lists the auth API routes, with full paths, for documentation and
// debugging. A Shared path is listed once per recipe that serves it.
func (a *Auth) Routes() []Route {
	out := make([]Route, 0, len(a.routes))
	for _, r := range a.routes {
		rt := r.Route
		rt.Path = a.s.apiBasePath + rt.Path
		out = append(out, rt)
	}
	return out
}

var (
	defaultMu   sync.RWMutex
	defaultAuth *Auth
)

// Init builds an Auth with New and makes it the default instance used by
// the package-level functions (Middleware, VerifySession, RequireClaim, ...).
func Init(cfg Config) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	SetDefault(a)
	return nil
}

// SetDefault makes a the default instance.
func SetDefault(a *Auth) {
	defaultMu.Lock()
	defaultAuth = a
	defaultMu.Unlock()
}

// Default returns the default instance, or nil before Init.
func Default() *Auth {
	defaultMu.RLock()
	defer defaultMu.RUnlock()
	return defaultAuth
}

func mustDefault() *Auth {
	a := Default()
	if a == nil {
		panic("ginauth: Init has not been called")
	}
	return a
}

// Middleware serves the auth API of the default instance; see
// (*Auth).Middleware. It panics if Init has not been called.
func Middleware() gin.HandlerFunc { return mustDefault().Middleware() }

// VerifySession guards a route with the default instance; see
// (*Auth).VerifySession.
func VerifySession(opts ...VerifyOptions) gin.HandlerFunc {
	return mustDefault().VerifySession(opts...)
}

// RequireClaim guards a route with claim validators, checked by the
// instance that verified the request's session (so it serves every app of
// a process with several); see (*Auth).RequireClaim. Without a session it
// answers 401 through the default instance's error handler, if any.
func RequireClaim(validators ...claims.Validator) gin.HandlerFunc {
	return func(c *gin.Context) {
		var a *Auth
		if s, ok := SessionFrom(c); ok {
			a = s.auth
		} else if a = FromContext(c); a == nil {
			if a = Default(); a == nil {
				DefaultErrorHandler(c, NewError(ErrUnauthorised, errors.New("RequireClaim without a session (put VerifySession first)")))
				return
			}
		}
		a.requireClaim(c, validators)
	}
}

// RegisterRoutes registers the default instance's auth API on r; see
// (*Auth).RegisterRoutes.
func RegisterRoutes(r gin.IRouter) { mustDefault().RegisterRoutes(r) }
