package ginauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/bridge"
	"github.com/ginauth/ginauth/internal/dbutil"
)

// The recipe kit (recipes/kit) reaches what recipes need of an Auth through
// internal/bridge, so that those helpers stay off Auth's public method set.
func init() {
	bridge.Register(bridge.Funcs{
		Of:             func(a any) bridge.Core { return kitCore{a.(*Auth)} },
		ReadBody:       readBody,
		CheckString:    checkString,
		CheckJSONValue: checkJSONValue,
	})
}

// dbContext is the context every database call of ginauth runs under; see
// kit.DBContext.
func dbContext(ctx context.Context) context.Context { return dbutil.Context(ctx) }

// kitCore implements bridge.Core for one Auth.
type kitCore struct{ a *Auth }

func (k kitCore) DB() *gorm.DB         { return k.a.db }
func (k kitCore) Logger() *slog.Logger { return k.a.log }
func (k kitCore) Now() time.Time       { return k.a.now() }

func (k kitCore) WriteError(c *gin.Context, err error) { k.a.writeError(c, err) }
func (k kitCore) WriteGeneralError(c *gin.Context, message string, cause error) {
	k.a.writeGeneralError(c, message, cause)
}
func (k kitCore) WriteHookError(c *gin.Context, err error, notAllowedStatus string) {
	k.a.writeHookError(c, err, notAllowedStatus)
}

func (k kitCore) Reserve(c *gin.Context, action, account string) (bridge.Attempt, error) {
	return k.a.reserve(c, Action(action), account)
}
func (k kitCore) ReserveAccount(c *gin.Context, action, account string) (bridge.Attempt, error) {
	return k.a.reserveAccount(c, Action(action), account)
}
func (k kitCore) ResetFailures(ctx context.Context, tenantID, action, account string) error {
	return k.a.resetFailures(ctx, tenantID, Action(action), account)
}

func (k kitCore) ReserveLockout(ctx context.Context, tenantID, action, account string, maxFailures int, cooldown time.Duration) (bridge.Attempt, error) {
	return k.a.reserveLockout(ctx, tenantID, Action(action), account, LockoutRule{MaxFailures: maxFailures, Cooldown: cooldown})
}
func (k kitCore) ForgetLockout(ctx context.Context, tenantID, action, account string) error {
	return k.a.forgetLockout(ctx, tenantID, Action(action), account)
}

func (k kitCore) Emit(ctx context.Context, e any) { k.a.emit(ctx, e.(Event)) }
func (k kitCore) GetUserTx(ctx context.Context, db *gorm.DB, userID string) (any, error) {
	return k.a.getUser(ctx, db, userID)
}
func (k kitCore) CreateUser(ctx context.Context, db *gorm.DB, tenantID string) (string, time.Time, error) {
	return k.a.createUser(ctx, db, tenantID)
}
func (k kitCore) RevokeSessionsTx(ctx context.Context, tx *gorm.DB, userID, keep string) (int64, error) {
	return k.a.revokeAllSessions(ctx, tx, userID, keep)
}

func (k kitCore) ResolveTenant(ctx context.Context, id string) (string, error) {
	return k.a.resolveTenant(ctx, id)
}
func (k kitCore) CheckSignIn(ctx context.Context, tenantID, factor string) (string, error) {
	return k.a.checkSignIn(ctx, tenantID, factor)
}
func (k kitCore) ProviderAllowed(ctx context.Context, tenantID, providerID string) (bool, error) {
	return k.a.providerAllowed(ctx, tenantID, providerID)
}
func (k kitCore) DeleteTenantData(ctx context.Context, tx *gorm.DB, tenantID string) error {
	return k.a.deleteTenantData(ctx, tx, tenantID)
}
