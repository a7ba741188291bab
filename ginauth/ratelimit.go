package ginauth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/models"
)

// Action names a rate-limited action: the key of RateLimitConfig.Limits
// and the counters' namespace.
type Action string

// Rate-limited actions. Recipes check one before doing any expensive or
// guessable work (hashing a password, checking a code).
const (
	ActionSignIn            Action = "signin"
	ActionSignUp            Action = "signup"
	ActionPasswordReset     Action = "password-reset"
	ActionEmailVerification Action = "email-verification"
	ActionCodeEntry         Action = "code-entry"
	// ActionSendCode is sending a one-time code or magic link by e-mail
	// or SMS; recipes count each message against the contact before it is
	// sent, so a contact cannot be flooded.
	ActionSendCode Action = "send-code"
	// ActionExistsCheck is asking whether an e-mail address or phone
	// number has an account (the exists endpoints), counted per IP address
	// so that they cannot be used to walk a list of addresses.
	ActionExistsCheck Action = "exists-check"
	// ActionDashboardSignIn is an admin signing in to the dashboard; its
	// own counters, so that admins and users do not use up each other's
	// allowance.
	ActionDashboardSignIn Action = "dashboard-signin"
)

// Valid reports whether a is one of the Action* constants, the actions
// RateLimitConfig.Limits may configure.
func (a Action) Valid() bool {
	_, ok := DefaultLimits()[a]
	return ok
}

// Rule allows Max events per Window. A zero Rule means "use the default";
// a negative Max turns the rule off.
type Rule struct {
	Max    int
	Window time.Duration
}

// LockoutRule is a lockout, as SuperTokens' TOTP limit (totp_max_attempts,
// totp_rate_limit_cooldown_sec): every failure keeps the account's count
// for Cooldown after it, so MaxFailures failures in a row, each within
// Cooldown of the one before, lock the account until Cooldown after the
// last of them. A success forgives the failures.
type LockoutRule struct {
	MaxFailures int
	Cooldown    time.Duration
}

// Limit is the pair of rules for one action: every attempt from one IP
// address counts against PerIP. Against PerAccount an attempt counts from
// the moment it is reserved, before any work, until it is settled: a
// failure stays counted, a success is not counted and forgives the
// failures before it (see Reserve). So at most PerAccount.Max checks of
// one account run at once, and an account over its rule is locked until
// its window ends.
type Limit struct {
	PerIP      Rule
	PerAccount Rule
}

// RateLimitConfig configures the built-in rate limiter, which is on by
// default. Counters live in the database (table ginauth_rate_limits) so
// that every instance of the app shares them; a single-instance app may use
// NewMemoryRateLimitStore instead.
type RateLimitConfig struct {
	// Disabled turns the request-rate limits off: every Limits rule, per
	// IP and per account. It does not turn off the recipes' lockouts (the
	// TOTP and recovery-code LockoutRules, kit.Kit.ReserveLockout): those
	// are security defences, configured in their recipes.
	Disabled bool
	// Store keeps the counters. Default: the database.
	Store RateLimitStore
	// Limits overrides the defaults per action (see DefaultLimits).
	Limits map[Action]Limit
}

// DefaultLimits returns the limits used for actions the config leaves out.
func DefaultLimits() map[Action]Limit {
	return map[Action]Limit{
		ActionSignIn:            {PerIP: Rule{60, time.Minute}, PerAccount: Rule{10, 15 * time.Minute}},
		ActionSignUp:            {PerIP: Rule{20, 10 * time.Minute}},
		ActionPasswordReset:     {PerIP: Rule{20, 10 * time.Minute}, PerAccount: Rule{5, time.Hour}},
		ActionEmailVerification: {PerIP: Rule{30, 10 * time.Minute}, PerAccount: Rule{10, time.Hour}},
		ActionCodeEntry:         {PerIP: Rule{60, time.Minute}, PerAccount: Rule{5, 15 * time.Minute}},
		ActionSendCode:          {PerIP: Rule{30, 10 * time.Minute}, PerAccount: Rule{10, time.Hour}},
		ActionDashboardSignIn:   {PerIP: Rule{10, 10 * time.Minute}},
		ActionExistsCheck:       {PerIP: Rule{60, 10 * time.Minute}},
	}
}

// RateLimitStore keeps rate-limit counters. A counter holds a count (the
// attempts that count against the key's rule in the current window) and,
// among them, the attempts still open: reserved by Take and not yet
// settled. Both change in single atomic steps, so that concurrent
// instances and concurrent requests count together.
type RateLimitStore interface {
	// Take reserves one attempt on key: it adds one to the key's count and
	// to its open attempts in one atomic step, first starting a new window
	// of the given length (count and open attempts at zero) if the last one
	// has ended, and returns the new count and the window's end.
	Take(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error)
	// Settle applies s to key's counter in one atomic step; a key with no
	// live window (missing or ended) is left alone. Counts never go below
	// zero. With SettleFailed and hold > 0 (a Lockout rule) the window is
	// also kept open until at least now+hold.
	Settle(ctx context.Context, key string, s Settlement, now time.Time, hold time.Duration) error
}

// Settlement is how an attempt reserved with RateLimitStore.Take ends, or
// (SettleForgive) how a key's settled attempts are forgotten.
type Settlement int

const (
	// SettleFailed closes one open attempt and leaves it counted: a wrong
	// password or code, or a message sent.
	SettleFailed Settlement = iota + 1
	// SettleRefund closes one open attempt and takes it off the count:
	// the attempt did no work (it was refused, or nothing was sent).
	SettleRefund
	// SettleSucceeded closes one open attempt and forgets every settled
	// one: the count drops to the attempts still open, so that a user's
	// success forgives their typos but never lets more than the rule's Max
	// checks run at once.
	SettleSucceeded
	// SettleForgive closes nothing and forgets every settled attempt: the
	// count drops to the attempts still open (ResetFailures).
	SettleForgive
)

type rateLimiter struct {
	disabled bool
	store    RateLimitStore
	limits   map[Action]Limit
	declared map[Action]bool // the recipes' own actions (Registrar.RateLimitAction)
}

func newRateLimiter(cfg RateLimitConfig, db *gorm.DB) *rateLimiter {
	rl := &rateLimiter{disabled: cfg.Disabled, store: cfg.Store, limits: DefaultLimits(), declared: map[Action]bool{}}
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

// declare adds a recipe's own action with its default limit; rules the
// app configured for it in RateLimitConfig.Limits win, rule by rule.
func (rl *rateLimiter) declare(action Action, def Limit) {
	rl.declared[action] = true
	l, ok := rl.limits[action]
	if !ok {
		rl.limits[action] = def
		return
	}
	if l.PerIP == (Rule{}) {
		l.PerIP = def.PerIP
	}
	if l.PerAccount == (Rule{}) {
		l.PerAccount = def.PerAccount
	}
	rl.limits[action] = l
}

func rateKey(action Action, kind, id string) string {
	return random.Hash(string(action) + "\x00" + kind + "\x00" + id)
}

// accountKey is the counter of account at action within one tenant:
// failures in one tenant never lock the same address in another.
func accountKey(action Action, tenantID, account string) string {
	return rateKey(action, "account", tenantID+"\x00"+account)
}

// rateLimited is the 429 refusal. RetryAfter keeps the exact wait (FDI's
// retryAfterMs needs it); the header and the message round it up to whole
// seconds.
func rateLimited(action Action, retry time.Duration) *Error {
	if retry < time.Millisecond {
		retry = time.Millisecond
	}
	secs := int64(math.Ceil(retry.Seconds()))
	e := ErrorWithMessage(ErrRateLimited, fmt.Sprintf("too many attempts, try again in %d seconds", secs), fmt.Errorf("rate limit on %s", action))
	e.RetryAfter = retry
	return e
}

// defaultSettleTimeout bounds a settlement when Config.DBTimeout is off.
const defaultSettleTimeout = 10 * time.Second

// attempt is one attempt reserved by reserve: it already counts against
// the account's rule, and the caller settles it once the outcome is known
// with Failed, Succeeded or Refund. Only the first settlement has an
// effect, so `defer at.Failed()` right after Reserve settles every path
// the code does not settle otherwise; an attempt never settled stays
// counted until its window ends. The methods are safe on any goroutine
// and log, rather than return, a store failure: the request itself is
// answered either way, and the attempt then stays counted.
type attempt struct {
	a      *Auth
	ctx    context.Context
	action Action
	key    string        // "" when no account rule applies
	hold   time.Duration // a Lockout rule's Window
	count  int64
	done   atomic.Bool
}

// Count is the attempt's place in its account's count when it was
// reserved: the attempts counted against the account's rule, this one
// included. Once a failure is settled it is the failures in a row so far,
// as SuperTokens' currentNumberOfFailedAttempts. 0 when no account rule
// applies.
func (t *attempt) Count() int {
	if t == nil {
		return 0
	}
	return int(t.count)
}

// Failed settles the attempt as counted: a wrong password or code, or a
// message sent.
func (t *attempt) Failed() { t.settle(SettleFailed) }

// Succeeded settles a successful check: the attempt stops counting and
// the account's earlier failures are forgotten (attempts still in flight
// keep counting).
func (t *attempt) Succeeded() { t.settle(SettleSucceeded) }

// Refund settles an attempt that did no work (nothing was checked or
// sent): it stops counting against the account. The per-IP count keeps
// it.
func (t *attempt) Refund() { t.settle(SettleRefund) }

func (t *attempt) settle(s Settlement) {
	if t == nil || t.key == "" || !t.done.CompareAndSwap(false, true) {
		return
	}
	// The request's own deadline may have passed (a slow hash), so the
	// settlement gets a fresh one: a hung database must not hang the
	// request.
	d := t.a.s.dbTimeout
	if d <= 0 {
		d = defaultSettleTimeout
	}
	ctx, cancel := context.WithTimeout(t.ctx, d)
	defer cancel()
	if err := t.a.limiter.store.Settle(ctx, t.key, s, t.a.now(), t.hold); err != nil {
		t.a.log.WarnContext(ctx, "ginauth: settling a rate-limited attempt failed; it stays counted", "action", t.action, "error", err)
	}
}

// reserve (kit.Kit.Reserve) counts one attempt at action before the work it guards
// (hashing a password, checking a code, sending a message) and refuses it
// with a 429 *Error carrying RetryAfter when the request's IP address or,
// when account is not empty, the account is over its rule. The count is
// one atomic increment-and-compare in the store, so a parallel burst gets
// exactly the rule's Max attempts through. account is an e-mail address,
// a phone number or a user id, counted within the request's tenant
// (TenantID). The IP address is c.ClientIP(), so configure gin's trusted
// proxies behind a load balancer.
//
// Every attempt counts against PerIP. Against PerAccount an attempt counts
// from Reserve on; the caller settles it with the returned Attempt's
// Failed, Succeeded or Refund. The Attempt is never nil.
func (a *Auth) reserve(c *gin.Context, action Action, account string) (*attempt, error) {
	return a.reserveRule(c, action, account, true)
}

// reserveAccount (kit.Kit.ReserveAccount) is reserve without the per-IP
// count: for a step whose IP unit an earlier, single-use step of the same
// attempt already took (a passkey sign-in after its options).
func (a *Auth) reserveAccount(c *gin.Context, action Action, account string) (*attempt, error) {
	return a.reserveRule(c, action, account, false)
}

func (a *Auth) reserveRule(c *gin.Context, action Action, account string, perIP bool) (*attempt, error) {
	rl := a.limiter
	ctx := c.Request.Context()
	at := &attempt{a: a, ctx: context.WithoutCancel(ctx), action: action}
	l, ok := rl.limits[action]
	if rl.disabled || !ok {
		return at, nil
	}
	now := a.now()
	ip := c.ClientIP()
	if account != "" && l.PerAccount.Max > 0 {
		if err := a.takeAccount(ctx, at, TenantID(c), account, l.PerAccount, 0, now); err != nil {
			if errors.Is(err, ErrRateLimited) {
				a.emit(ctx, Event{Type: EventLockout, Action: action, IP: ip, Account: account})
			}
			return at, err
		}
	}
	if perIP && l.PerIP.Max > 0 {
		n, until, err := rl.store.Take(ctx, rateKey(action, "ip", ip), l.PerIP.Window, now)
		if err != nil {
			at.Refund()
			return at, DBError(err)
		}
		if n > int64(l.PerIP.Max) {
			at.Refund()
			return at, rateLimited(action, until.Sub(now))
		}
	}
	return at, nil
}

// takeAccount counts at against account's rule within tenantID, and
// refunds and refuses it when the account is over the rule.
// hold > 0 makes it a lockout (see LockoutRule).
func (a *Auth) takeAccount(ctx context.Context, at *attempt, tenantID, account string, rule Rule, hold time.Duration, now time.Time) error {
	key := accountKey(at.action, tenantID, account)
	n, until, err := a.limiter.store.Take(ctx, key, rule.Window, now)
	if err != nil {
		return DBError(err)
	}
	at.key, at.count, at.hold = key, n, hold
	if n > int64(rule.Max) {
		at.Refund()
		return rateLimited(at.action, until.Sub(now))
	}
	return nil
}

// reserveLockout (kit.Kit.ReserveLockout) reserves one check of account (within tenantID; ""
// means DefaultTenant) at action under rule, on the core limiter's store
// (so it holds across instances), whatever else Config.RateLimit says: a
// lockout is the recipe's own defence. It needs no request, so Go APIs
// use it too. A locked account is refused with a 429 *Error of kind
// ErrRateLimited whose RetryAfter is the exact time left. Settle the
// returned Attempt (never nil) as with Reserve: Failed for a wrong code,
// Succeeded for a right one, Refund when nothing was checked. The TOTP and
// recovery-code lockouts use it.
func (a *Auth) reserveLockout(ctx context.Context, tenantID string, action Action, account string, rule LockoutRule) (*attempt, error) {
	at := &attempt{a: a, ctx: context.WithoutCancel(ctx), action: action}
	if account == "" || rule.MaxFailures <= 0 || rule.Cooldown <= 0 {
		return at, nil
	}
	if tenantID == "" {
		tenantID = DefaultTenant
	}
	return at, a.takeAccount(dbContext(ctx), at, tenantID, account, Rule{Max: rule.MaxFailures, Window: rule.Cooldown}, rule.Cooldown, a.now())
}

// forgetLockout (kit.Kit.ForgetLockout) forgets the settled failures of account (within tenantID;
// "" means DefaultTenant) at action under a LockoutRule, which ends its
// lockout. Checks in flight keep counting.
func (a *Auth) forgetLockout(ctx context.Context, tenantID string, action Action, account string) error {
	if account == "" {
		return nil
	}
	if tenantID == "" {
		tenantID = DefaultTenant
	}
	return DBError(a.limiter.store.Settle(dbContext(ctx), accountKey(action, tenantID, account), SettleForgive, a.now(), 0))
}

// resetFailures (kit.Kit.ResetFailures) forgets the settled attempts of account (within tenantID)
// at action: after a password reset, or a verified address. Attempts in
// flight keep counting.
func (a *Auth) resetFailures(ctx context.Context, tenantID string, action Action, account string) error {
	if a.limiter.disabled || account == "" {
		return nil
	}
	if _, ok := a.limiter.limits[action]; !ok {
		return nil
	}
	return DBError(a.limiter.store.Settle(ctx, accountKey(action, tenantID, account), SettleForgive, a.now(), 0))
}

// dbRateLimitStore keeps counters in ginauth_rate_limits with one upsert
// per Take and one update per Settle, so concurrent instances count
// together.
type dbRateLimitStore struct{ db *gorm.DB }

func (s *dbRateLimitStore) Take(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	end := now.Add(window)
	t := models.TableRateLimits
	// Every SET expression reads the row as it was, so a window that has
	// ended restarts at one. The row lock of the upsert makes the
	// increment and the returned count one step. Postgres and SQLite hand
	// the new values back in the same statement; elsewhere a transaction
	// reads them.
	restart := func(col string) clause.Expr {
		return gorm.Expr("CASE WHEN "+t+".expires_at <= ? THEN 1 ELSE "+t+"."+col+" + 1 END", now)
	}
	upsert := func(tx *gorm.DB) *gorm.DB {
		return tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "limit_key"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "count"}, Value: restart("count")},
				{Column: clause.Column{Name: "open_attempts"}, Value: restart("open_attempts")},
				{Column: clause.Column{Name: "expires_at"}, Value: gorm.Expr("CASE WHEN "+t+".expires_at <= ? THEN ? ELSE "+t+".expires_at END", now, end)},
			},
		})
	}
	row := models.RateLimit{Key: key, Count: 1, Open: 1, ExpiresAt: end}
	db := s.db.WithContext(dbContext(ctx))
	switch db.Dialector.Name() {
	case "postgres", "sqlite":
		err := upsert(db).Clauses(clause.Returning{Columns: []clause.Column{{Name: "count"}, {Name: "expires_at"}}}).Create(&row).Error
		return row.Count, row.ExpiresAt, err
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := upsert(tx).Create(&models.RateLimit{Key: key, Count: 1, Open: 1, ExpiresAt: end}).Error; err != nil {
			return err
		}
		return tx.Where("limit_key = ?", key).Take(&row).Error
	})
	return row.Count, row.ExpiresAt, err
}

// settleSQL is each settlement's new count and open attempts, as SQL over
// the row as it was.
var settleSQL = map[Settlement][2]string{
	SettleFailed:    {"count", "CASE WHEN open_attempts > 0 THEN open_attempts - 1 ELSE 0 END"},
	SettleRefund:    {"CASE WHEN count > 0 THEN count - 1 ELSE 0 END", "CASE WHEN open_attempts > 0 THEN open_attempts - 1 ELSE 0 END"},
	SettleSucceeded: {"CASE WHEN open_attempts > 0 THEN open_attempts - 1 ELSE 0 END", "CASE WHEN open_attempts > 0 THEN open_attempts - 1 ELSE 0 END"},
	SettleForgive:   {"open_attempts", "open_attempts"},
}

func (s *dbRateLimitStore) Settle(ctx context.Context, key string, st Settlement, now time.Time, hold time.Duration) error {
	set, ok := settleSQL[st]
	if !ok {
		return fmt.Errorf("ginauth: unknown rate-limit settlement %d", st)
	}
	updates := map[string]any{"count": gorm.Expr(set[0]), "open_attempts": gorm.Expr(set[1])}
	if st == SettleFailed && hold > 0 {
		// A lockout lasts its cooldown from the last failure.
		until := now.Add(hold)
		updates["expires_at"] = gorm.Expr("CASE WHEN expires_at < ? THEN ? ELSE expires_at END", until, until)
	}
	return s.db.WithContext(dbContext(ctx)).Model(&models.RateLimit{}).
		Where("limit_key = ? AND expires_at > ?", key, now).
		Updates(updates).Error
}

// deleteExpired removes counters whose window has ended.
func (s *dbRateLimitStore) deleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(dbContext(ctx)).Where("expires_at <= ?", now).Delete(&models.RateLimit{})
	return res.RowsAffected, res.Error
}

// NewMemoryRateLimitStore returns a RateLimitStore held in this process's
// memory, for apps that run a single instance. Ended windows are dropped
// as they are met.
func NewMemoryRateLimitStore() RateLimitStore {
	return &memoryRateLimitStore{m: map[string]memoryCounter{}}
}

type memoryCounter struct {
	n, open int64
	end     time.Time
}

type memoryRateLimitStore struct {
	owner atomic.Pointer[Auth] // the one instance it counts for (New, Close)
	mu    sync.Mutex
	m     map[string]memoryCounter
	sweep time.Time
}

func (s *memoryRateLimitStore) Take(_ context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
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
	c.open++
	s.m[key] = c
	return c.n, c.end, nil
}

func (s *memoryRateLimitStore) Settle(_ context.Context, key string, st Settlement, now time.Time, hold time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	if !ok || !c.end.After(now) {
		return nil
	}
	closeOne := func() {
		if c.open > 0 {
			c.open--
		}
	}
	switch st {
	case SettleFailed:
		closeOne()
		if until := now.Add(hold); hold > 0 && c.end.Before(until) {
			c.end = until
		}
	case SettleRefund:
		closeOne()
		if c.n > 0 {
			c.n--
		}
	case SettleSucceeded:
		closeOne()
		c.n = c.open
	case SettleForgive:
		c.n = c.open
	default:
		return fmt.Errorf("ginauth: unknown rate-limit settlement %d", st)
	}
	s.m[key] = c
	return nil
}

func retryAfterHeader(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}
