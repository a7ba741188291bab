package multifactorauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Defaults of a CodeLimit, as SuperTokens' core sets them for TOTP
// (totp_max_attempts, totp_rate_limit_cooldown_sec).
const (
	DefaultMaxFailedAttempts = 5
	DefaultLockout           = 15 * time.Minute
)

// ErrInvalidCode is matched (errors.Is) by every *InvalidCodeError.
var ErrInvalidCode = errors.New("multifactorauth: invalid code")

// ErrLimitReached is matched (errors.Is) by every *LimitReachedError.
var ErrLimitReached = errors.New("multifactorauth: too many failed attempts")

// InvalidCodeError reports a wrong (or replayed) code and how many
// consecutive failures the user has now. When FailedAttempts reaches
// MaxAttempts the user is locked out.
type InvalidCodeError struct {
	FailedAttempts int
	MaxAttempts    int
}

// Error implements error.
func (e *InvalidCodeError) Error() string {
	return fmt.Sprintf("multifactorauth: invalid code (%d of %d failed attempts)", e.FailedAttempts, e.MaxAttempts)
}

// Is reports whether target is ErrInvalidCode.
func (e *InvalidCodeError) Is(target error) bool { return target == ErrInvalidCode }

// LimitReachedError reports a locked-out user; the code was not checked.
type LimitReachedError struct {
	RetryAfter time.Duration
}

// Error implements error.
func (e *LimitReachedError) Error() string {
	return fmt.Sprintf("multifactorauth: too many failed attempts, retry after %s", e.RetryAfter)
}

// Is reports whether target is ErrLimitReached.
func (e *LimitReachedError) Is(target error) bool { return target == ErrLimitReached }

// RetryAfterMs returns RetryAfter in whole milliseconds, rounded up, as FDI's
// retryAfterMs.
func (e *LimitReachedError) RetryAfterMs() int64 {
	return (e.RetryAfter + time.Millisecond - 1).Milliseconds()
}

// CodeLimit limits wrong entries of one kind of code per user and tenant.
// It is a lockout on ginauth's rate limiter (Auth.ReserveLockout), whose
// counters live in the database by default, so it holds across
// processes: after MaxAttempts wrong codes in a row, each within Lockout
// of the one before, the user is locked out until Lockout after the last;
// a right code forgives the failures. The totp recipe and recovery codes
// use it; apps may use it for their own codes with a Kind of their own.
type CodeLimit struct {
	// Kind names the kind of code, e.g. "totp"; it is the rate limiter's
	// action, so each kind has its own count.
	Kind string
	// MaxAttempts defaults to DefaultMaxFailedAttempts.
	MaxAttempts int
	// Lockout defaults to DefaultLockout.
	Lockout time.Duration
}

// Max returns the effective maximum of failed attempts.
func (l CodeLimit) Max() int {
	if l.MaxAttempts <= 0 {
		return DefaultMaxFailedAttempts
	}
	return l.MaxAttempts
}

func (l CodeLimit) rule() ginauth.LockoutRule {
	d := l.Lockout
	if d <= 0 {
		d = DefaultLockout
	}
	return ginauth.LockoutRule{MaxFailures: l.Max(), Cooldown: d}
}

// Attempt checks one code entry of userID in tenantID ("" is the default
// tenant). The entry is counted before check runs, in one atomic step, so
// a parallel burst of guesses gets exactly MaxAttempts checks:
//
//   - while the user is locked out it returns a *LimitReachedError without
//     calling check;
//   - otherwise it calls check, which reports whether the code is right
//     (and makes its own changes, such as marking the code used);
//   - a right code forgives the failures and Attempt returns nil; a wrong
//     one counts and Attempt returns an *InvalidCodeError.
//
// An error from check is returned as is and the entry is not counted.
func (l CodeLimit) Attempt(ctx context.Context, k *kit.Kit, tenantID, userID string, check func() (bool, error)) error {
	at, err := k.ReserveLockout(ctx, tenantID, ginauth.Action(l.Kind), userID, l.rule())
	if err != nil {
		var e *ginauth.Error
		if errors.As(err, &e) && errors.Is(e, ginauth.ErrRateLimited) {
			return &LimitReachedError{RetryAfter: e.RetryAfter}
		}
		return err
	}
	ok, err := check()
	switch {
	case err != nil:
		at.Refund()
		return err
	case ok:
		at.Succeeded()
		return nil
	}
	at.Failed()
	return &InvalidCodeError{FailedAttempts: min(at.Count(), l.Max()), MaxAttempts: l.Max()}
}

// Reset forgets userID's failed attempts in tenantID ("" is the default
// tenant) for the limit's kind, which ends a lockout (for support staff,
// say). Checks in flight keep counting.
func (l CodeLimit) Reset(ctx context.Context, k *kit.Kit, tenantID, userID string) error {
	return k.ForgetLockout(ctx, tenantID, ginauth.Action(l.Kind), userID)
}
