package ginauth

import (
	"context"
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
	log          *slog.Logger
	now          func() time.Time
	errorHandler ErrorHandler
	keys         *keyStore
	secret       *serverSecret // keys derived from Config.SecretKey (secret.go)
	limiter      *rateLimiter

	recipes         []Recipe
	routes          []*route
	routeIndex      map[string]*route
	badInput        map[string]func(*gin.Context, *Error) // by recipe id: Registrar.OnBadInput (input.go)
	requiredTables  []string
	claims          []claims.Claim
	validators      []claims.Validator
	userDeleters    []UserDeleteFunc
	sessionHooks    []func(ctx context.Context, s *NewSession) error
	emailLookups    []EmailLookupFunc
	tenantPolicy    *TenantPolicy
	tenantDeleters  []func(ctx context.Context, tx *gorm.DB, tenantID string) error
	loginMethods    []LoginMethodsFunc
	loginDecorators []func(ctx context.Context, db *gorm.DB, methods []LoginMethod) error

	lastCleanup atomic.Int64 // unix ms of the last expired-session sweep
	vcache      verifyCache  // verified access tokens (verifycache.go); sized on first use
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
		log:          cfg.Logger,
		errorHandler: cfg.ErrorHandler,
		routeIndex:   map[string]*route{},
		recipes:      cfg.Recipes,
	}
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

// withAuth returns ctx carrying a, for claim fetch functions that need to
// know which instance (and so which database) they serve.
func (a *Auth) withAuth(ctx context.Context) context.Context {
	if FromContext(ctx) == a {
		return ctx
	}
	return context.WithValue(ctx, authKey{}, a)
}

// NewContext returns ctx carrying a, which FromContext finds. ginauth does
// this itself before calling claim fetch functions; call it when you build
// claims outside a request.
func NewContext(ctx context.Context, a *Auth) context.Context { return a.withAuth(ctx) }

// FromContext returns the Auth serving the current request or claim
// fetch: claims' fetch functions receive a context that carries it. It
// falls back to the default instance, and returns nil when there is none.
func FromContext(ctx context.Context) *Auth {
	if a, ok := ctx.Value(authKey{}).(*Auth); ok {
		return a
	}
	if c, ok := ctx.(*gin.Context); ok {
		if a, ok := c.Request.Context().Value(authKey{}).(*Auth); ok {
			return a
		}
	}
	return Default()
}

// AppInfo returns the normalised AppInfo: domains without a trailing slash,
// base paths with a leading one.
func (a *Auth) AppInfo() AppInfo {
	return AppInfo{AppName: a.cfg.AppInfo.AppName, APIDomain: a.s.apiDomain, WebsiteDomain: a.s.websiteDomain,
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

// RequireClaim guards a route with claim validators, using the default
// instance; see (*Auth).RequireClaim.
func RequireClaim(validators ...claims.Validator) gin.HandlerFunc {
	return mustDefault().RequireClaim(validators...)
}

// RegisterRoutes registers the default instance's auth API on r; see
// (*Auth).RegisterRoutes.
func RegisterRoutes(r gin.IRouter) { mustDefault().RegisterRoutes(r) }
