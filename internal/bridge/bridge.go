// Package bridge lets the recipe kit (recipes/kit) reach the parts of a
// *ginauth.Auth that are not in its public API, without widening that API:
// ginauth registers an accessor here when it is loaded, and being internal,
// the package is out of reach of apps and of other modules.
//
// ginauth imports this package, so nothing here may name a ginauth type;
// the two values whose types live in ginauth travel as any.
package bridge

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

// Core is what the kit needs of one Auth.
type Core interface {
	DB() *gorm.DB
	Logger() *slog.Logger
	Now() time.Time

	WriteError(c *gin.Context, err error)
	WriteGeneralError(c *gin.Context, message string, cause error)
	WriteHookError(c *gin.Context, err error, notAllowedStatus string)

	Reserve(c *gin.Context, action, account string) (Attempt, error)
	// ReserveAccount is Reserve without the per-IP count.
	ReserveAccount(c *gin.Context, action, account string) (Attempt, error)
	ResetFailures(ctx context.Context, tenantID, action, account string) error
	// ReserveLockout and ForgetLockout are the lockout rules (a
	// ginauth.LockoutRule's two fields).
	ReserveLockout(ctx context.Context, tenantID, action, account string, maxFailures int, cooldown time.Duration) (Attempt, error)
	ForgetLockout(ctx context.Context, tenantID, action, account string) error

	// Emit takes a ginauth.Event.
	Emit(ctx context.Context, event any)
	// GetUserTx returns a *ginauth.User.
	GetUserTx(ctx context.Context, db *gorm.DB, userID string) (any, error)
	CreateUser(ctx context.Context, db *gorm.DB, tenantID string) (string, time.Time, error)
	RevokeSessionsTx(ctx context.Context, tx *gorm.DB, userID, keep string) (int64, error)

	ResolveTenant(ctx context.Context, id string) (string, error)
	CheckSignIn(ctx context.Context, tenantID, factor string) (string, error)
	ProviderAllowed(ctx context.Context, tenantID, providerID string) (bool, error)
	DeleteTenantData(ctx context.Context, tx *gorm.DB, tenantID string) error
}

// Attempt is a rate-limited attempt reserved with Core.Reserve.
type Attempt interface {
	Failed()
	Succeeded()
	Refund()
	Count() int
}

// Funcs are ginauth's request-input checks, which the kit's body readers
// share with the router.
type Funcs struct {
	// Of returns the Core of a *ginauth.Auth.
	Of func(auth any) Core
	// ReadBody reads at most limit (> 0) bytes of the request body and
	// checks them like the router's input check.
	ReadBody func(c *gin.Context, limit int64) ([]byte, error)
	// CheckString is the input check of one string.
	CheckString func(what, s string, maxLen int) error
	// CheckJSONValue is the input check of every string in v's JSON form.
	CheckJSONValue func(what string, v any) error
}

var funcs Funcs

// Register is called once, by ginauth's init.
func Register(f Funcs) { funcs = f }

// Get returns what ginauth registered.
func Get() Funcs { return funcs }
