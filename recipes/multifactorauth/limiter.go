package multifactorauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Defaults of a Limiter, as SuperTokens' core sets them for TOTP.
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

// Limiter limits failed code entries per user and kind of code, with its
// state in models.MFAAttempt rows (so it holds across processes). After
// MaxAttempts consecutive failures the user is locked out for Lockout; a
// correct code resets the count. The totp recipe and recovery codes use
// it; apps may use it for their own codes with a kind of their own.
type Limiter struct {
	// Kind names the kind of code, e.g. "totp"; at most 32 bytes.
	Kind string
	// MaxAttempts defaults to DefaultMaxFailedAttempts.
	MaxAttempts int
	// Lockout defaults to DefaultLockout.
	Lockout time.Duration
}

// Max returns the effective maximum of failed attempts.
func (l Limiter) Max() int {
	if l.MaxAttempts <= 0 {
		return DefaultMaxFailedAttempts
	}
	return l.MaxAttempts
}

func (l Limiter) lockout() time.Duration {
	if l.Lockout <= 0 {
		return DefaultLockout
	}
	return l.Lockout
}

// Attempt checks one code entry of userID at time now. It runs in one
// transaction that holds the user's attempt row locked, so concurrent
// guesses are counted one by one and cannot race past the limit:
//
//   - while the user is locked out it returns a *LimitReachedError without
//     calling check;
//   - otherwise it calls check with the transaction; check reports whether
//     the code is right (and makes its own changes, such as marking the code
//     used, through tx);
//   - a right code resets the count and Attempt returns nil; a wrong one
//     counts and Attempt returns an *InvalidCodeError.
//
// An error from check is returned as is and rolls the transaction back.
func (l Limiter) Attempt(ctx context.Context, db *gorm.DB, now time.Time, userID string, check func(tx *gorm.DB) (bool, error)) error {
	var result, checkErr error
	err := db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		// Writing first takes SQLite's write lock at the start of the
		// transaction and makes sure Postgres has a row to lock.
		row := models.MFAAttempt{UserID: userID, Kind: l.Kind, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return ginauth.DBError(err)
		}
		where := tx.Where("user_id = ? AND kind = ?", userID, l.Kind)
		if err := where.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&row).Error; err != nil {
			return ginauth.DBError(err)
		}
		failed := row.FailedAttempts
		if row.LockedUntil != nil {
			if now.Before(*row.LockedUntil) {
				result = &LimitReachedError{RetryAfter: row.LockedUntil.Sub(now)}
				return nil
			}
			failed = 0 // the lockout is over: a fresh start
		}
		ok, err := check(tx)
		if err != nil {
			checkErr = err
			return err
		}
		q := tx.Model(&models.MFAAttempt{}).Where("user_id = ? AND kind = ?", userID, l.Kind)
		if ok {
			return ginauth.DBError(tx.Where("user_id = ? AND kind = ?", userID, l.Kind).Delete(&models.MFAAttempt{}).Error)
		}
		failed++
		update := map[string]any{"failed_attempts": failed, "locked_until": nil, "updated_at": now}
		if failed >= l.Max() {
			update["locked_until"] = now.Add(l.lockout())
		}
		if err := q.Updates(update).Error; err != nil {
			return ginauth.DBError(err)
		}
		result = &InvalidCodeError{FailedAttempts: failed, MaxAttempts: l.Max()}
		return nil
	})
	if checkErr != nil {
		return checkErr
	}
	if err != nil {
		return ginauth.DBError(err)
	}
	return result
}

// Reset clears userID's failed attempts and lockout for the limiter's kind
// (for support staff, say).
func (l Limiter) Reset(ctx context.Context, db *gorm.DB, userID string) error {
	return ginauth.DBError(db.WithContext(kit.DBContext(ctx)).Where("user_id = ? AND kind = ?", userID, l.Kind).Delete(&models.MFAAttempt{}).Error)
}
