package kit

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/bridge"
)

// Attempt is one attempt reserved by Reserve: it already counts against
// the account's rule, and the caller settles it once the outcome is known
// with Failed, Succeeded or Refund. Only the first settlement has an
// effect, so `defer at.Failed()` right after Reserve settles every path
// the code does not settle otherwise; an attempt never settled stays
// counted until its window ends. The methods are safe on any goroutine
// and log, rather than return, a store failure: the request itself is
// answered either way, and the attempt then stays counted.
type Attempt struct{ at bridge.Attempt }

// Failed settles the attempt as counted: a wrong password or code, or a
// message sent.
func (t *Attempt) Failed() { t.at.Failed() }

// Succeeded settles a successful check: the attempt stops counting and
// the account's earlier failures are forgotten (attempts still in flight
// keep counting).
func (t *Attempt) Succeeded() { t.at.Succeeded() }

// Refund settles an attempt that did no work (nothing was checked or
// sent): it stops counting against the account. The per-IP count keeps
// it.
func (t *Attempt) Refund() { t.at.Refund() }

// Count is the attempt's place in its account's count when it was
// reserved: the attempts counted against the account's rule, this one
// included. Once a failure is settled it is the failures in a row so far
// (SuperTokens' currentNumberOfFailedAttempts). 0 when no account rule
// applies.
func (t *Attempt) Count() int { return t.at.Count() }

// Reserve counts one attempt at action (ginauth.ActionSignIn, ...) before
// the work it guards (hashing a password, checking a code, sending a
// message) and refuses it with a 429 *ginauth.Error carrying RetryAfter
// when the request's IP address or, when account is not empty, the
// account is over its rule. The count is one atomic increment-and-compare
// in the store, so a parallel burst gets exactly the rule's Max attempts
// through. account is an e-mail address, a phone number or a user id,
// counted within the request's tenant (ginauth.TenantID). The IP address
// is c.ClientIP(), so configure gin's trusted proxies behind a load
// balancer.
//
// Every attempt counts against PerIP. Against PerAccount an attempt counts
// from Reserve on; the caller settles it with the returned Attempt's
// Failed, Succeeded or Refund. The Attempt is never nil.
func (k *Kit) Reserve(c *gin.Context, action ginauth.Action, account string) (*Attempt, error) {
	at, err := k.core.Reserve(c, string(action), account)
	return &Attempt{at: at}, err
}

// ReserveAccount is Reserve counted against the account's rule only, not
// the IP address's: for the second step of an attempt whose first step
// took the IP unit and handed out something single-use that this step
// must consume before it does any work (a passkey sign-in after its
// options). account must not be empty.
func (k *Kit) ReserveAccount(c *gin.Context, action ginauth.Action, account string) (*Attempt, error) {
	at, err := k.core.ReserveAccount(c, string(action), account)
	return &Attempt{at: at}, err
}

// CheckRateLimit counts one attempt at action, for good, against the
// request's IP address and, when account is not empty, the account (within
// the request's tenant), and refuses it like Reserve when either is over
// its rule. Use it where every attempt counts whatever its outcome (a
// reset e-mail requested, a provider called); use Reserve where the
// outcome decides.
func (k *Kit) CheckRateLimit(c *gin.Context, action ginauth.Action, account string) error {
	at, err := k.Reserve(c, action, account)
	if err != nil {
		return err
	}
	at.Failed()
	return nil
}

// ResetFailures forgets the settled attempts of account (within tenantID)
// at action: after a password reset, or a verified address. Attempts in
// flight keep counting.
func (k *Kit) ResetFailures(ctx context.Context, tenantID string, action ginauth.Action, account string) error {
	return k.core.ResetFailures(ctx, tenantID, string(action), account)
}

// ReserveLockout reserves one check of account (within tenantID; ""
// means ginauth.DefaultTenant) at action under rule, on the core limiter's
// store (so it holds across instances), whatever else Config.RateLimit
// says: a lockout is the recipe's own defence. It needs no request, so Go
// APIs use it too. A locked account is refused with a 429 *ginauth.Error
// of kind ErrRateLimited whose RetryAfter is the exact time left. Settle
// the returned Attempt (never nil) as with Reserve: Failed for a wrong
// code, Succeeded for a right one, Refund when nothing was checked. The
// TOTP and recovery-code lockouts use it.
func (k *Kit) ReserveLockout(ctx context.Context, tenantID string, action ginauth.Action, account string, rule ginauth.LockoutRule) (*Attempt, error) {
	at, err := k.core.ReserveLockout(ctx, tenantID, string(action), account, rule.MaxFailures, rule.Cooldown)
	return &Attempt{at: at}, err
}

// ForgetLockout forgets the settled failures of account (within tenantID;
// "" means ginauth.DefaultTenant) at action under a lockout rule, which
// ends its lockout. Checks in flight keep counting.
func (k *Kit) ForgetLockout(ctx context.Context, tenantID string, action ginauth.Action, account string) error {
	return k.core.ForgetLockout(ctx, tenantID, string(action), account)
}
