package ginauth

import (
	"context"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
)

// Recipe is one feature of the auth API (e-mail and password, roles, ...).
// New calls Setup once on every recipe in Config.Recipes, in order; the
// recipe uses the Registrar to add its routes, tables, claims and hooks.
type Recipe interface {
	// ID is the recipe id the frontend SDKs send in the rid header, e.g.
	// "emailpassword".
	ID() string
	// Setup registers what the recipe brings. An error stops New.
	Setup(r *Registrar) error
}

// Route is one auth API endpoint, with its path relative to the API base
// path ("/signin", not "/auth/signin").
type Route struct {
	Method  string
	Path    string
	Handler gin.HandlerFunc
	// NoTenant routes are served only without the optional "/<tenantId>"
	// prefix. SuperTokens takes the prefix on every FDI route, so only
	// routes outside the FDI (the dashboard) set it.
	NoTenant bool
	// Sensitive marks a route that changes a user's credentials or
	// factors (TOTP devices, recovery codes, ...): every session check
	// made while serving it reads the database (as
	// VerifyOptions.CheckDatabase), so that a revoked session is refused
	// at once. Its handler should also make its writes in a transaction
	// that starts with Session.LockTx.
	Sensitive bool
	// Shared marks a deprecated path that two recipes serve (GET
	// /signup/email/exists): both must set it, and the request's rid
	// header chooses the recipe, else the first one configured answers.
	Shared bool
}

// LoginMethodsFunc returns the login methods a recipe holds for a user,
// for the FDI user object. db may be a transaction.
type LoginMethodsFunc func(ctx context.Context, db *gorm.DB, userID string) ([]LoginMethod, error)

// UserDeleteFunc deletes a recipe's rows for a user inside the transaction
// that deletes the user.
type UserDeleteFunc func(ctx context.Context, tx *gorm.DB, userID string) error

// Registrar is what a recipe sees during Setup.
type Registrar struct {
	auth   *Auth
	recipe string
}

// Auth returns the Auth being built, for recipes to keep. Its routes are
// not served until New returns.
func (r *Registrar) Auth() *Auth { return r.auth }

// Handle adds an auth API route.
func (r *Registrar) Handle(rt Route) error {
	if rt.Handler == nil || rt.Method == "" || !strings.HasPrefix(rt.Path, "/") {
		return fmt.Errorf("%w: recipe %s: route %s %q needs a method, a path starting with / and a handler", ErrConfig, r.recipe, rt.Method, rt.Path)
	}
	key := rt.Method + " " + rt.Path
	if prev, ok := r.auth.routeIndex[key]; ok && !(prev.Shared && rt.Shared && prev.recipe != r.recipe) {
		return fmt.Errorf("%w: recipe %s: route %s is already served by %s", ErrConfig, r.recipe, key, prev.recipe)
	}
	r.auth.addRoute(r.recipe, rt)
	return nil
}

// RequireTables names the tables the recipe needs; New fails, naming them,
// when any is missing.
func (r *Registrar) RequireTables(names ...string) {
	r.auth.requiredTables = append(r.auth.requiredTables, names...)
}

// RateLimitAction declares one of the recipe's own rate-limited actions
// with its default limit, for kit.Kit.Reserve and CheckRateLimit; the app
// may tune it in RateLimitConfig.Limits like the built-in Action*
// constants (New refuses a Limits entry no recipe declared). An action the
// recipe never declares is not limited.
func (r *Registrar) RateLimitAction(action Action, def Limit) error {
	if action == "" || action.Valid() || r.auth.limiter.declared[action] {
		return fmt.Errorf("%w: recipe %s: rate-limited action %q is empty or already declared", ErrConfig, r.recipe, action)
	}
	r.auth.limiter.declare(action, def)
	return nil
}

// AddClaim adds a claim to every new session's access-token payload.
func (r *Registrar) AddClaim(c claims.Claim) { r.auth.claims = append(r.auth.claims, c) }

// AddGlobalValidator adds a validator every VerifySession runs unless the
// route overrides the global validators.
func (r *Registrar) AddGlobalValidator(v claims.Validator) {
	r.auth.validators = append(r.auth.validators, v)
}

// BeforeSessionCreate registers a hook that runs on every new session,
// after the claims were added and before the app's own
// Hooks.BeforeSessionCreate. It may change the session's payload and data
// or veto the session with an error.
func (r *Registrar) BeforeSessionCreate(fn func(ctx context.Context, s *NewSession) error) {
	r.auth.sessionHooks = append(r.auth.sessionHooks, fn)
}

// OnUserDelete registers the recipe's part of deleting a user.
func (r *Registrar) OnUserDelete(fn UserDeleteFunc) {
	r.auth.userDeleters = append(r.auth.userDeleters, fn)
}

// EnableAccountLinking is called by the account-linking recipe: from then
// on a new session of a user linked to a primary user is the primary's
// session (UserID the primary, RecipeUserID the login method's user), and
// ListSessions and RevokeAllSessions of a primary cover its linked users.
// Without it no lookup is added to session creation.
func (r *Registrar) EnableAccountLinking() { r.auth.linking = true }

// AddLoginMethods registers the source of the recipe's login methods.
func (r *Registrar) AddLoginMethods(fn LoginMethodsFunc) {
	r.auth.loginMethods = append(r.auth.loginMethods, fn)
}

// DecorateLoginMethods registers a function that may change the login
// methods gathered for a user (e.g. e-mail verification sets Verified).
func (r *Registrar) DecorateLoginMethods(fn func(ctx context.Context, db *gorm.DB, methods []LoginMethod) error) {
	r.auth.loginDecorators = append(r.auth.loginDecorators, fn)
}

// Recipe returns the configured recipe with the given id, for recipes that
// work together (e-mail verification with e-mail and password, say).
func (a *Auth) Recipe(id string) (Recipe, bool) {
	for _, rc := range a.recipes {
		if rc.ID() == id {
			return rc, true
		}
	}
	return nil, false
}

// route is a registered Route.
type route struct {
	Route
	recipe string
	// alt is the next recipe serving the same Shared method and path.
	alt *route
}

func (a *Auth) addRoute(recipe string, rt Route) {
	if rt.Sensitive {
		rt.Handler = markSensitive(rt.Handler)
	}
	r := &route{Route: rt, recipe: recipe}
	a.routes = append(a.routes, r)
	key := rt.Method + " " + rt.Path
	prev, ok := a.routeIndex[key]
	if !ok {
		a.routeIndex[key] = r
		return
	}
	for prev.alt != nil {
		prev = prev.alt
	}
	prev.alt = r
}
