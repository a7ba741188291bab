package ginauth

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/models"
)

// Rate-limited actions. Recipes check one before doing any expensive or
// guessable work (hashing a password, checking a code).
const (
	ActionSignIn            = "signin"
	ActionSignUp            = "signup"
	ActionPasswordReset     = "password-reset"
	ActionEmailVerification = "email-verification"
	ActionCodeEntry         = "code-entry"
	// ActionSendCode is sending a one-time code or magic link by e-mail
	// or SMS; recipes count each message against the contact with
	// RecordFailure, so a contact cannot be flooded.
	ActionSendCode = "send-code"
	// ActionDashboardSignIn is an admin signing in to the dashboard; its
	// own counters, so that admins and users do not use up each other's
	// allowance.
	ActionDashboardSignIn = "dashboard-signin"
)

// Rule allows Max events per Window. A zero Rule means "use the default";
// a negative Max turns the rule off.
type Rule struct {
	Max    int
	Window time.Duration
}

// Limit is the pair of rules for one action: every attempt from one IP
// address counts against PerIP; only failed attempts count against
// PerAccount (so that a user's own successes never lock them out), and an
// account over its rule is locked until its window ends.
type Limit struct {
	PerIP      Rule
	PerAccount Rule
}

// RateLimitConfig configures the built-in rate limiter, which is on by
// default. Counters live in the database (table ginauth_rate_limits) so
// that every instance of the app shares them; a single-instance app may use
// NewMemoryRateLimitStore instead.
type RateLimitConfig struct {
	// Disabled turns rate limiting off.
	Disabled bool
	// Store keeps the counters. Default: the database.
	Store RateLimitStore
	// Limits overrides the defaults per action (see DefaultLimits).
	Limits map[string]Limit
}

// DefaultLimits returns the limits used for actions the config leaves out.
func DefaultLimits() map[string]Limit {
	return map[string]Limit{
		ActionSignIn:            {PerIP: Rule{60, time.Minute}, PerAccount: Rule{10, 15 * time.Minute}},
		ActionSignUp:            {PerIP: Rule{20, 10 * time.Minute}},
		ActionPasswordReset:     {PerIP: Rule{20, 10 * time.Minute}, PerAccount: Rule{5, time.Hour}},
		ActionEmailVerification: {PerIP: Rule{30, 10 * time.Minute}, PerAccount: Rule{10, time.Hour}},
		ActionCodeEntry:         {PerIP: Rule{60, time.Minute}, PerAccount: Rule{5, 15 * time.Minute}},
		ActionSendCode:          {PerIP: Rule{30, 10 * time.Minute}, PerAccount: Rule{10, time.Hour}},
		ActionDashboardSignIn:   {PerIP: Rule{10, 10 * time.Minute}},
	}
}

// RateLimitStore keeps rate-limit counters.
type RateLimitStore interface {
	// Hit adds one to key's counter, starting a new window of the given
	// length if the last one has ended, and returns the count and when the
	// window ends.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error)
	// Peek returns key's count and window end without changing them; a
	// missing or ended window counts zero.
	Peek(ctx context.Context, key string, now time.Time) (int64, time.Time, error)
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
}

type rateLimiter struct {
	disabled bool
	store    RateLimitStore
	limits   map[string]Limit
}

func newRateLimiter(cfg RateLimitConfig, db *gorm.DB) *rateLimiter {
	rl := &rateLimiter{disabled: cfg.Disabled, store: cfg.Store, limits: DefaultLimits()}
	if rl.store == nil {
		rl.store = &dbRateLimitStore{db: db}
	}
	for action, l := range cfg.Limits {
		def := rl.limits[action]
		if l.PerIP == (Rule{}) {
			l.PerIP = def.PerIP
		}
		if l.PerAccount == (Rule{}) {
			l.PerAccount = def.PerAccount
		}
		rl.limits[action] = l
	}
	return rl
}

func rateKey(action, kind, id string) string {
	return random.Hash(action + "\x00" + kind + "\x00" + id)
}

func rateLimited(action string, retry time.Duration) *Error {
	secs := int64(math.Ceil(retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return &Error{Kind: ErrRateLimited, Status: http.StatusTooManyRequests, RetryAfter: time.Duration(secs) * time.Second,
		Message: fmt.Sprintf("too many attempts, try again in %d seconds", secs), Err: fmt.Errorf("rate limit on %s", action)}
}

// CheckRateLimit counts one attempt at action from the request's IP
// address and refuses it (a 429 *Error with RetryAfter) when that address,
// or account when it is not empty, is over its limit. Recipes call it
// before hashing a password or checking a code; account is an e-mail
// address, a phone number or a user id. The IP address is c.ClientIP(), so
// configure gin's trusted proxies behind a load balancer.
func (a *Auth) CheckRateLimit(c *gin.Context, action, account string) error {
	rl := a.limiter
	if rl.disabled {
		return nil
	}
	l, ok := rl.limits[action]
	if !ok {
		return nil
	}
	ctx := c.Request.Context()
	now := a.now()
	if account != "" && l.PerAccount.Max > 0 {
		n, until, err := rl.store.Peek(ctx, rateKey(action, "account", account), now)
		if err != nil {
			return DBError(err)
		}
		if n >= int64(l.PerAccount.Max) {
			a.emit(ctx, Event{Type: EventLockout, Action: action, IP: c.ClientIP(), Account: account})
			return rateLimited(action, until.Sub(now))
		}
	}
	if l.PerIP.Max > 0 {
		n, until, err := rl.store.Hit(ctx, rateKey(action, "ip", c.ClientIP()), l.PerIP.Window, now)
		if err != nil {
			return DBError(err)
		}
		if n > int64(l.PerIP.Max) {
			return rateLimited(action, until.Sub(now))
		}
	}
	return nil
}

// RecordFailure counts a failed attempt (a wrong password or code) against
// account; past the action's PerAccount rule the account is locked until
// the window ends.
func (a *Auth) RecordFailure(ctx context.Context, action, account string) error {
	rl := a.limiter
	l, ok := rl.limits[action]
	if rl.disabled || !ok || account == "" || l.PerAccount.Max <= 0 {
		return nil
	}
	_, _, err := rl.store.Hit(ctx, rateKey(action, "account", account), l.PerAccount.Window, a.now())
	return DBError(err)
}

// ResetFailures clears account's failed attempts at action, after a
// success.
func (a *Auth) ResetFailures(ctx context.Context, action, account string) error {
	if a.limiter.disabled || account == "" {
		return nil
	}
	return DBError(a.limiter.store.Reset(ctx, rateKey(action, "account", account)))
}

// dbRateLimitStore keeps counters in ginauth_rate_limits with one upsert
// per hit, so concurrent instances count together.
type dbRateLimitStore struct{ db *gorm.DB }

func (s *dbRateLimitStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	end := now.Add(window)
	// Every SET expression reads the row as it was, so a window that has
	// ended restarts at one. Postgres and SQLite hand the new values back
	// in the same statement; elsewhere a transaction reads them.
	upsert := func(tx *gorm.DB) *gorm.DB {
		return tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "limit_key"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "count"}, Value: gorm.Expr("CASE WHEN "+models.TableRateLimits+".expires_at <= ? THEN 1 ELSE "+models.TableRateLimits+".count + 1 END", now)},
				{Column: clause.Column{Name: "expires_at"}, Value: gorm.Expr("CASE WHEN "+models.TableRateLimits+".expires_at <= ? THEN ? ELSE "+models.TableRateLimits+".expires_at END", now, end)},
			},
		})
	}
	row := models.RateLimit{Key: key, Count: 1, ExpiresAt: end}
	db := s.db.WithContext(DBContext(ctx))
	switch db.Dialector.Name() {
	case "postgres", "sqlite":
		err := upsert(db).Clauses(clause.Returning{Columns: []clause.Column{{Name: "count"}, {Name: "expires_at"}}}).Create(&row).Error
		return row.Count, row.ExpiresAt, err
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := upsert(tx).Create(&models.RateLimit{Key: key, Count: 1, ExpiresAt: end}).Error; err != nil {
			return err
		}
		return tx.Where("limit_key = ?", key).Take(&row).Error
	})
	return row.Count, row.ExpiresAt, err
}

func (s *dbRateLimitStore) Peek(ctx context.Context, key string, now time.Time) (int64, time.Time, error) {
	var rows []models.RateLimit
	err := s.db.WithContext(DBContext(ctx)).Where("limit_key = ? AND expires_at > ?", key, now).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return 0, time.Time{}, err
	}
	return rows[0].Count, rows[0].ExpiresAt, nil
}

func (s *dbRateLimitStore) Reset(ctx context.Context, key string) error {
	return s.db.WithContext(DBContext(ctx)).Where("limit_key = ?", key).Delete(&models.RateLimit{}).Error
}

// deleteExpired removes counters whose window has ended.
func (s *dbRateLimitStore) deleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(DBContext(ctx)).Where("expires_at <= ?", now).Delete(&models.RateLimit{})
	return res.RowsAffected, res.Error
}

// NewMemoryRateLimitStore returns a RateLimitStore held in this process's
// memory, for apps that run a single instance. Ended windows are dropped
// as they are met.
func NewMemoryRateLimitStore() RateLimitStore {
	return &memoryRateLimitStore{m: map[string]memoryCounter{}}
}

type memoryCounter struct {
	n   int64
	end time.Time
}

type memoryRateLimitStore struct {
	mu    sync.Mutex
	m     map[string]memoryCounter
	sweep time.Time
}

func (s *memoryRateLimitStore) Hit(_ context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.After(s.sweep) { // keep the map bounded by live windows
		for k, c := range s.m {
			if !c.end.After(now) {
				delete(s.m, k)
			}
		}
		s.sweep = now.Add(time.Minute)
	}
	c := s.m[key]
	if !c.end.After(now) {
		c = memoryCounter{end: now.Add(window)}
	}
	c.n++
	s.m[key] = c
	return c.n, c.end, nil
}

func (s *memoryRateLimitStore) Peek(_ context.Context, key string, now time.Time) (int64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[key]
	if !c.end.After(now) {
		return 0, time.Time{}, nil
	}
	return c.n, c.end, nil
}

func (s *memoryRateLimitStore) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

func retryAfterHeader(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}
