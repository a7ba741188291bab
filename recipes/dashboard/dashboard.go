package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the dashboard's recipe id.
const RecipeID = "dashboard"

// Defaults and limits of Config.
const (
	// DefaultSessionLifetime is how long an admin stays signed in with an
	// API key.
	DefaultSessionLifetime = 8 * time.Hour
	// DefaultPageSize is how many users one page of the list shows.
	DefaultPageSize = 25
	// MinAPIKeyLength is the shortest API key accepted, as SuperTokens
	// requires of its core's keys.
	MinAPIKeyLength = 20
)

// Security event types the dashboard emits through ginauth's Emit (and so
// Hooks.OnEvent). Their Detail names the action and the admin who did it.
const (
	// EventAction is a change an admin made: a role given or taken, a
	// metadata edit, sessions revoked, a reset link made, an address
	// marked (un)verified, a user deleted.
	EventAction = "dashboard-action"
	// EventSignIn is an admin signing in with an API key.
	EventSignIn = "dashboard-signin"
	// EventSignInFailed is a sign-in with a wrong API key.
	EventSignInFailed = "dashboard-signin-failed"
)

// ErrNotSetUp is returned by the Go API of a Recipe that ginauth.New has
// not set up.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// Config configures the dashboard. Either APIKeys or Authorize (or both)
// must be set: the dashboard never runs unprotected.
type Config struct {
	// APIKeys are the keys an admin may sign in with at
	// <base>/dashboard/signin, each at least MinAPIKeyLength characters.
	// Signing in gives a separate admin session (an HttpOnly,
	// SameSite=Strict cookie scoped to the dashboard's path) that lasts
	// SessionLifetime. Removing a key from the list ends its sessions.
	APIKeys []string
	// Authorize, when set, admits a request on the app's own terms, for
	// example a ginauth session whose user has an "admin" role (see the
	// package documentation). A request it refuses may still sign in with
	// an API key when APIKeys is set, and is answered 403 otherwise.
	Authorize func(c *gin.Context) bool
	// SessionLifetime is how long an API-key sign-in lasts. Default
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// PageSize is the number of users per page. Default DefaultPageSize,
	// at most ginauth.MaxListUsersLimit.
	PageSize int
	// Title is shown in the header. Default: the app name and "users".
	Title string
}

// String describes the config without its API keys.
func (c Config) String() string {
	return fmt.Sprintf("dashboard.Config{APIKeys: %d redacted, Authorize: %t, SessionLifetime: %s, PageSize: %d, Title: %q}",
		len(c.APIKeys), c.Authorize != nil, c.SessionLifetime, c.PageSize, c.Title)
}

// GoString is String, so that %#v does not print the keys either.
func (c Config) GoString() string { return c.String() }

// LogValue lets slog print the config without its API keys.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("apiKeys", len(c.APIKeys)), slog.Bool("authorize", c.Authorize != nil),
		slog.Duration("sessionLifetime", c.SessionLifetime), slog.Int("pageSize", c.PageSize))
}

// Recipe is the user-management dashboard. Pass it in
// ginauth.Config.Recipes; it serves its pages under the API base path
// (e.g. /auth/dashboard). A Recipe belongs to one Auth.
type Recipe struct {
	cfg  Config
	auth *kit.Kit
	base string // the full path of the dashboard, e.g. "/auth/dashboard"
	// keys are the SHA-256 digests of the API keys, compared in constant
	// time; keyIDs[i] names keys[i] in the admin-session table.
	keys   [][sha256.Size]byte
	keyIDs []string
	secure bool // cookies get the Secure attribute
	// apiDomain is the API's configured origin, the Origin its own pages
	// send.
	apiDomain string
}

// New returns the dashboard recipe. Config errors are reported by
// ginauth.New.
func New(cfg Config) *Recipe { return &Recipe{cfg: cfg} }

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup implements ginauth.Recipe: it checks the config and registers the
// dashboard's pages (and, with API keys, its session table).
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: dashboard: %s", ginauth.ErrConfig, fmt.Sprintf(format, args...))
	}
	if r.auth != nil && r.auth.Auth != reg.Auth() {
		return fail("a dashboard Recipe can serve one Auth only; call New again")
	}
	cfg := &r.cfg
	if len(cfg.APIKeys) == 0 && cfg.Authorize == nil {
		return fail("set Config.APIKeys (random keys of at least %d characters) or Config.Authorize: the dashboard is never served unprotected", MinAPIKeyLength)
	}
	r.keys, r.keyIDs = nil, nil
	for i, k := range cfg.APIKeys {
		if len(k) < MinAPIKeyLength {
			return fail("APIKeys[%d] is shorter than %d characters; use a long random key", i, MinAPIKeyLength)
		}
		if strings.TrimSpace(k) != k {
			return fail("APIKeys[%d] starts or ends with white space", i)
		}
		sum := sha256.Sum256([]byte(k))
		r.keys = append(r.keys, sum)
		r.keyIDs = append(r.keyIDs, hex.EncodeToString(sum[:8]))
	}
	if cfg.SessionLifetime < 0 {
		return fail("SessionLifetime must not be negative")
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.PageSize < 0 || cfg.PageSize > ginauth.MaxListUsersLimit {
		return fail("PageSize must be between 0 (the default, %d) and %d", DefaultPageSize, ginauth.MaxListUsersLimit)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	a := kit.From(reg)
	info := a.AppInfo()
	if cfg.Title == "" {
		cfg.Title = "Users"
		if info.AppName != "" {
			cfg.Title = info.AppName + " users"
		}
	}
	r.base = info.APIBasePath + "/dashboard"
	r.secure = strings.HasPrefix(info.APIDomain, "https://")
	r.apiDomain = info.APIDomain

	routes := []ginauth.Route{
		{Method: http.MethodGet, Path: "/dashboard", Handler: r.page(r.handleList)},
		{Method: http.MethodGet, Path: "/dashboard/user", Handler: r.page(r.handleUser)},
		{Method: http.MethodGet, Path: "/dashboard/icon.svg", Handler: r.handleIcon},
	}
	for _, ac := range r.actions() {
		routes = append(routes, ginauth.Route{Method: http.MethodPost, Path: "/dashboard/user/" + ac.path, Handler: r.action(ac)})
	}
	if len(cfg.APIKeys) > 0 {
		reg.RequireTables(models.DashboardTables()...)
		routes = append(routes,
			ginauth.Route{Method: http.MethodGet, Path: "/dashboard/signin", Handler: r.handleSignInPage},
			ginauth.Route{Method: http.MethodPost, Path: "/dashboard/signin", Handler: r.handleSignIn},
			ginauth.Route{Method: http.MethodPost, Path: "/dashboard/signout", Handler: r.page(r.handleSignOut)})
	}
	// Input the core's check refuses (a NUL, bytes that are not UTF-8, an
	// over-long value) is answered with a page, as other bad input is.
	reg.OnBadInput(func(c *gin.Context, err *ginauth.Error) {
		r.securityHeaders(c)
		r.message(c, err.Status, http.StatusText(err.Status), sentence(err.Message)+" Nothing was changed.")
	})
	for _, rt := range routes {
		rt.NoTenant = true // the dashboard spans every tenant
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	r.auth = a
	return nil
}

// Path returns where the dashboard is served, e.g. "/auth/dashboard".
func (r *Recipe) Path() string { return r.base }
