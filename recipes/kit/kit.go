// Package kit is the recipe kit: what a recipe needs of ginauth beyond the
// app-facing API of package ginauth. The built-in recipes use nothing else,
// so a recipe written outside this module can do all that they do.
//
// # A recipe's view of its Auth
//
// A recipe keeps a *Kit, which From builds from the Registrar that
// ginauth hands to Setup. A Kit embeds the *ginauth.Auth, so the app API
// (GetSession, CreateSession, GetUser, ...) is at hand too, and adds what
// only recipes need: the database and clock, error writers in FDI's
// shapes, the rate limiter, security events, user and tenant plumbing.
//
// # Request bodies and input
//
// ReadJSONObject, DecodeJSON and StringField read a request body the way
// the router's input check expects (size cap, UTF-8, no NUL);
// CheckString and CheckJSONValue check values that come from anywhere
// else (a recipe's Go API).
//
// # Database
//
// DBContext, IsUniqueViolation, IsRetryable, RetryTransaction and
// DeleteByTenant are the database helpers every recipe shares.
//
// # Scaffolding
//
// NotSetUp, Find, TenantOr and FactorSession are the small pieces every
// recipe would otherwise write again.
//
// # Sign-up and sign-in inside a session
//
// ReadTryLink, LoadAuthSession, BeginAuth, FinishAuth and CompleteInSession
// are the steps a sign-in recipe takes to link a login method to the
// session's user (shouldTryLinkingWithSessionUser) and keep that session,
// through the account-linking recipe (Linker) and multifactorauth.
//
// # Tokens, signatures and secrets at rest
//
// Token, HashToken and NewID make and store unguessable tokens and ids;
// SignJWS signs a JWT (a provider's client secret, a test IdP's ID
// tokens); a Sealer encrypts small secrets at rest under an app key with
// rotation. Recipes need no internal package for any of it.
package kit

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/bridge"
)

// Kit is one Auth seen by a recipe: the Auth itself (embedded, for the app
// API) and the helpers only recipes need. Get it with From in Setup, or Of.
// It is safe for concurrent use.
type Kit struct {
	*ginauth.Auth
	core bridge.Core
}

// From returns the Kit of the Auth that reg is setting up.
func From(reg *ginauth.Registrar) *Kit { return Of(reg.Auth()) }

// Of returns the Kit of a, or nil when a is nil.
func Of(a *ginauth.Auth) *Kit {
	if a == nil {
		return nil
	}
	return &Kit{Auth: a, core: bridge.Get().Of(a)}
}

// DB returns the database the Auth was configured with.
func (k *Kit) DB() *gorm.DB { return k.core.DB() }

// Logger returns the configured logger.
func (k *Kit) Logger() *slog.Logger { return k.core.Logger() }

// Now returns the current time from the configured clock (Config.Now).
func (k *Kit) Now() time.Time { return k.core.Now() }

// WriteError sends err through the configured error handler, clears the
// session tokens when the error asks for it, records the error in c.Errors
// for the app's logging, and aborts the chain. An error that is not a
// *ginauth.Error is a 500 whose cause is never sent.
func (k *Kit) WriteError(c *gin.Context, err error) { k.core.WriteError(c, err) }

// WriteGeneralError answers 200 {"status":"GENERAL_ERROR","message":...},
// the FDI shape the frontend SDKs show to the user, and records cause (which
// is never sent) in c.Errors and the log.
func (k *Kit) WriteGeneralError(c *gin.Context, message string, cause error) {
	k.core.WriteGeneralError(c, message, cause)
}

// WriteHookError answers an error a hook (or CheckSignIn) returned, the way
// every recipe does: an ginauth.ErrSignInNotAllowed error as
// 200 {"status": notAllowedStatus, "reason": ...} when notAllowedStatus is
// not empty, an ginauth.ErrGeneral error as 200 {"status":"GENERAL_ERROR",
// "message": ...}, and anything else through WriteError.
func (k *Kit) WriteHookError(c *gin.Context, err error, notAllowedStatus string) {
	k.core.WriteHookError(c, err, notAllowedStatus)
}

// Emit records a security event: it is logged at Info (Warn for theft and
// lockouts) through the configured logger and handed to Hooks.OnEvent.
func (k *Kit) Emit(ctx context.Context, e ginauth.Event) { k.core.Emit(ctx, e) }

// EmitRequest is Emit for an event of a request: the IP address is filled
// in from c.ClientIP() when the event has none.
func (k *Kit) EmitRequest(c *gin.Context, e ginauth.Event) {
	if e.IP == "" {
		e.IP = c.ClientIP()
	}
	k.core.Emit(c.Request.Context(), e)
}

// CreateUser inserts a new user in tenantID through db (the recipe's
// transaction) and returns its id and creation time. Recipes call it
// before inserting their own login-method row in the same transaction.
func (k *Kit) CreateUser(ctx context.Context, db *gorm.DB, tenantID string) (string, time.Time, error) {
	return k.core.CreateUser(ctx, db, tenantID)
}

// GetUserTx is GetUser reading through db, which may be a transaction.
func (k *Kit) GetUserTx(ctx context.Context, db *gorm.DB, userID string) (*ginauth.User, error) {
	u, err := k.core.GetUserTx(ctx, db, userID)
	user, _ := u.(*ginauth.User)
	return user, err
}

// RevokeSessionsTx deletes every session of a user except keep (which may
// be empty) inside tx, so that a password change and the revocation it
// implies commit or fail together.
func (k *Kit) RevokeSessionsTx(ctx context.Context, tx *gorm.DB, userID, keep string) (int64, error) {
	return k.core.RevokeSessionsTx(ctx, tx, userID, keep)
}

// ResolveTenant returns the canonical id of tenant id, or an
// ginauth.ErrUnknownTenant *ginauth.Error. Ids are case-insensitive.
func (k *Kit) ResolveTenant(ctx context.Context, id string) (string, error) {
	return k.core.ResolveTenant(ctx, id)
}

// CheckSignIn is what sign-in recipes ask before they write or check
// anything: whether tenantID exists and offers factor. It returns the
// canonical tenant id, an ginauth.ErrUnknownTenant error, or an
// ginauth.ErrSignInNotAllowed error whose Message is the reason to show.
func (k *Kit) CheckSignIn(ctx context.Context, tenantID, factor string) (string, error) {
	return k.core.CheckSignIn(ctx, tenantID, factor)
}

// ProviderAllowed reports whether the tenant offers the third-party
// provider; the thirdparty recipe treats one it does not offer as one that
// is not configured.
func (k *Kit) ProviderAllowed(ctx context.Context, tenantID, providerID string) (bool, error) {
	return k.core.ProviderAllowed(ctx, tenantID, providerID)
}

// DeleteTenantData removes, inside tx, everything of tenantID that the
// core and the recipes keep: memberships, sessions and each recipe's rows
// (registered with Registrar.OnTenantDelete). Users themselves stay.
func (k *Kit) DeleteTenantData(ctx context.Context, tx *gorm.DB, tenantID string) error {
	return k.core.DeleteTenantData(ctx, tx, tenantID)
}
