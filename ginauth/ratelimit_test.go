package ginauth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// limitedHarness adds a sign-in-like route: it reserves an attempt, then
// "hashes" (counts, and waits at gate when one is set), then fails unless
// the password is "right". ?tenant= stands for the tenant path prefix.
func limitedHarness(t *testing.T, store RateLimitStore, events *[]Event) (*harness, *int) {
	var mu sync.Mutex
	hashes := 0
	h := newHarness(t, func(c *Config) {
		c.RateLimit = RateLimitConfig{Store: store, Limits: map[Action]Limit{
			ActionSignIn: {PerIP: Rule{Max: 20, Window: time.Minute}, PerAccount: Rule{Max: 3, Window: 10 * time.Minute}},
		}}
		c.Hooks.OnEvent = func(ctx context.Context, e Event) {
			mu.Lock()
			*events = append(*events, e)
			mu.Unlock()
		}
	})
	h.r.POST("/signin", func(c *gin.Context) {
		if tenant := c.Query("tenant"); tenant != "" {
			c.Set(tenantKey{}, tenant)
		}
		at, err := h.auth.reserve(c, ActionSignIn, c.Query("email"))
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		defer at.Failed()
		mu.Lock()
		hashes++
		mu.Unlock()
		if c.Query("password") != "right" {
			c.JSON(200, gin.H{"status": "WRONG_CREDENTIALS_ERROR"})
			return
		}
		at.Succeeded()
		c.JSON(200, gin.H{"status": "OK"})
	})
	return h, &hashes
}

// rateStores runs f on the database store (SQLite, or the shared Postgres
// when GINAUTH_TEST_DATABASE_URL is set) and on the memory store.
func rateStores(t *testing.T, f func(t *testing.T, store RateLimitStore)) {
	for _, name := range []string{"database", "memory"} {
		t.Run(name, func(t *testing.T) {
			var store RateLimitStore
			if name == "memory" {
				store = NewMemoryRateLimitStore()
			}
			f(t, store)
		})
	}
}

func TestRateLimitLocksAccountBeforeHashing(t *testing.T) {
	for name, store := range map[string]RateLimitStore{"database": nil, "memory": NewMemoryRateLimitStore()} {
		t.Run(name, func(t *testing.T) {
			var events []Event
			h, hashes := limitedHarness(t, store, &events)
			cl := h.client("header")
			for i := 0; i < 3; i++ {
				if r := cl.do("POST", "/signin?email=ann@x.io&password=wrong", ""); r.body["status"] != "WRONG_CREDENTIALS_ERROR" {
					t.Fatalf("attempt %d: %d %s", i, r.Code, r.Body)
				}
			}
			r := cl.do("POST", "/signin?email=ann@x.io&password=right", "")
			expect(t, r, http.StatusTooManyRequests, "too many attempts, try again in 600 seconds")
			if r.Header().Get("Retry-After") != "600" {
				t.Fatalf("Retry-After %q", r.Header().Get("Retry-After"))
			}
			if *hashes != 3 {
				t.Fatalf("%d hashes; the locked attempt must not hash", *hashes)
			}
			// Another account from the same address is not locked.
			if r := cl.do("POST", "/signin?email=bob@x.io&password=right", ""); r.body["status"] != "OK" {
				t.Fatalf("other account: %s", r.Body)
			}
			locked := 0
			for _, e := range events {
				if e.Type == EventLockout && e.Account == "ann@x.io" {
					locked++
				}
			}
			if locked != 1 {
				t.Fatalf("lockout events: %+v", events)
			}
			// The lock ends with its window.
			h.clock.Advance(10*time.Minute + time.Second)
			if r := cl.do("POST", "/signin?email=ann@x.io&password=right", ""); r.body["status"] != "OK" {
				t.Fatalf("after the window: %d %s", r.Code, r.Body)
			}
		})
	}
}

func TestRateLimitSuccessResetsFailures(t *testing.T) {
	var events []Event
	h, _ := limitedHarness(t, nil, &events)
	cl := h.client("header")
	for round := 0; round < 3; round++ {
		cl.do("POST", "/signin?email=ann@x.io&password=wrong", "")
		cl.do("POST", "/signin?email=ann@x.io&password=wrong", "")
		if r := cl.do("POST", "/signin?email=ann@x.io&password=right", ""); r.body["status"] != "OK" {
			t.Fatalf("round %d: %d %s", round, r.Code, r.Body)
		}
	}
}

func TestRateLimitPerIPCountsConcurrentHitsExactly(t *testing.T) {
	var events []Event
	h, hashes := limitedHarness(t, nil, &events)
	const n = 30
	codes := make(chan int, n)
	ginauthtest.Burst(n, func(int) { codes <- h.client("header").do("POST", "/signin?password=right", "").Code })
	close(codes)
	ok, limited := 0, 0
	for c := range codes {
		switch c {
		case 200:
			ok++
		case 429:
			limited++
		default:
			t.Fatalf("status %d", c)
		}
	}
	if ok != 20 || limited != 10 || *hashes != 20 {
		t.Fatalf("%d passed, %d limited, %d hashes; want 20, 10, 20", ok, limited, *hashes)
	}
}

func TestRateLimitDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RateLimit.Disabled = true })
	h.r.POST("/x", func(c *gin.Context) {
		at, err := h.auth.reserve(c, ActionSignIn, "a")
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		at.Failed()
		c.Status(204)
	})
	cl := h.client("header")
	for i := 0; i < 100; i++ {
		if r := cl.do("POST", "/x", ""); r.Code != 204 {
			t.Fatalf("request %d: %d", i, r.Code)
		}
	}
}

func TestDeleteExpiredSweepsCountersSessionsAndDeadKeys(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Session.KeyRotationInterval = time.Hour
		c.Session.AccessTokenValidity = time.Minute
		c.Session.RefreshTokenValidity = 2 * time.Hour
	})
	cl := h.client("header")
	cl.login("u1")
	h.r.POST("/hit", func(c *gin.Context) { _ = checkRateLimit(h.auth, c, ActionSignUp, ""); c.Status(204) })
	cl.do("POST", "/hit", "")
	count := func(model any) int64 {
		var n int64
		h.auth.db.Model(model).Count(&n)
		return n
	}
	if count(&models.RateLimit{}) != 1 || count(&models.SigningKey{}) != 1 {
		t.Fatal("setup: expected one counter and one key")
	}
	// Nothing has expired yet.
	if n, err := h.auth.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	h.clock.Advance(3 * time.Hour)
	cl.login("u2") // rotates: a new key; the old one stops verifying after a minute
	h.clock.Advance(2 * time.Minute)
	n, err := h.auth.DeleteExpired(t.Context())
	if err != nil || n != 3 { // u1's session, the counter, the old key
		t.Fatalf("DeleteExpired = %d, %v; want 3", n, err)
	}
	if count(&models.RateLimit{}) != 0 || count(&models.SigningKey{}) != 1 || count(&models.Session{}) != 1 {
		t.Fatal("wrong rows left")
	}
}

// gatedSignIn adds /gated, a sign-in-like route whose admitted "hash"
// waits at a gate until all n requests of a burst have been admitted or
// refused, so that every decision is made while the admitted checks are
// still in flight. fire sends a burst of n at once (the path of request i
// is path(i)) and returns the answers by status code; hashes counts the
// checks made.
func gatedSignIn(t *testing.T, h *harness) (fire func(n int, path func(i int) string) map[int]int, hashes *atomic.Int64) {
	var admitted, refused atomic.Int64
	hashes = new(atomic.Int64)
	var mu sync.Mutex
	var gate chan struct{}
	var total int64
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if admitted.Load()+refused.Load() == total {
			close(gate)
		}
	}
	h.r.POST("/gated", func(c *gin.Context) {
		mu.Lock()
		g := gate
		mu.Unlock()
		at, err := h.auth.reserve(c, ActionSignIn, c.Query("email"))
		if err != nil {
			h.auth.writeError(c, err)
			refused.Add(1)
			check()
			return
		}
		defer at.Failed()
		admitted.Add(1)
		check()
		select {
		case <-g:
		case <-time.After(20 * time.Second):
			t.Error("the gate never opened")
		}
		hashes.Add(1)
		if c.Query("password") == "right" {
			at.Succeeded()
			c.JSON(200, gin.H{"status": "OK"})
			return
		}
		c.JSON(200, gin.H{"status": "WRONG_CREDENTIALS_ERROR"})
	})
	fire = func(n int, path func(i int) string) map[int]int {
		mu.Lock()
		gate, total = make(chan struct{}), int64(n)
		admitted.Store(0)
		refused.Store(0)
		hashes.Store(0)
		mu.Unlock()
		return ginauthtest.BurstCodes(n, func(i int) int { return h.client("header").do("POST", path(i), "").Code })
	}
	return fire, hashes
}

// TestRateLimitBurstChecksExactlyMax: 39 wrong passwords and the right one
// sent at once to one account whose rule allows 10: exactly 10 are checked
// and 30 refused; 40 wrong ones at another account: exactly 10 checked,
// and the account is then locked, right password or not. On the database
// store (SQLite or Postgres) and in memory. With the old peek-then-record
// limiter every request saw the counter still at zero and all 40 were
// checked, so this test fails if reservation is reverted.
func TestRateLimitBurstChecksExactlyMax(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		h := newHarness(t, func(c *Config) {
			c.RateLimit = RateLimitConfig{Store: store, Limits: map[Action]Limit{
				ActionSignIn: {PerIP: Rule{Max: 1000, Window: time.Minute}, PerAccount: Rule{Max: 10, Window: 15 * time.Minute}},
			}}
		})
		fire, hashes := gatedSignIn(t, h)
		codes := fire(40, func(i int) string {
			if i == 17 {
				return "/gated?email=ann@x.io&password=right"
			}
			return fmt.Sprintf("/gated?email=ann@x.io&password=wrong-%d", i)
		})
		if hashes.Load() != 10 || codes[200] != 10 || codes[429] != 30 {
			t.Fatalf("%d checks, answers %v; want exactly 10 checks and 30 refusals", hashes.Load(), codes)
		}
		codes = fire(40, func(i int) string { return fmt.Sprintf("/gated?email=bob@x.io&password=wrong-%d", i) })
		if hashes.Load() != 10 || codes[200] != 10 || codes[429] != 30 {
			t.Fatalf("all wrong: %d checks, answers %v; want exactly 10 checks and 30 refusals", hashes.Load(), codes)
		}
		expect(t, h.client("header").do("POST", "/gated?email=bob@x.io&password=right", ""), http.StatusTooManyRequests,
			"too many attempts, try again in 900 seconds")
	})
}

// TestRateLimitBurstPerIPExactly: 40 requests at once from one address
// with a per-IP rule of 25: exactly 25 pass.
func TestRateLimitBurstPerIPExactly(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		h := newHarness(t, func(c *Config) {
			c.RateLimit = RateLimitConfig{Store: store, Limits: map[Action]Limit{
				ActionSignIn: {PerIP: Rule{Max: 25, Window: time.Minute}, PerAccount: Rule{Max: 1000, Window: time.Minute}},
			}}
		})
		fire, hashes := gatedSignIn(t, h)
		codes := fire(40, func(i int) string { return fmt.Sprintf("/gated?email=u%d@x.io&password=right", i) })
		if hashes.Load() != 25 || codes[200] != 25 || codes[429] != 15 {
			t.Fatalf("%d checks, answers %v; want 25 and 15 refusals", hashes.Load(), codes)
		}
	})
}

// TestRateLimitAccountKeysAreTenantScoped: an address locked in one tenant
// signs in in another.
func TestRateLimitAccountKeysAreTenantScoped(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		var events []Event
		h, _ := limitedHarness(t, store, &events)
		cl := h.client("header")
		for i := 0; i < 3; i++ {
			cl.do("POST", "/signin?tenant=a&email=ann@x.io&password=wrong", "")
		}
		expect(t, cl.do("POST", "/signin?tenant=a&email=ann@x.io&password=right", ""), http.StatusTooManyRequests, "too many attempts, try again in 600 seconds")
		if r := cl.do("POST", "/signin?tenant=b&email=ann@x.io&password=right", ""); r.body["status"] != "OK" {
			t.Fatalf("tenant b: %d %s", r.Code, r.Body)
		}
		if r := cl.do("POST", "/signin?email=ann@x.io&password=right", ""); r.body["status"] != "OK" {
			t.Fatalf("default tenant: %d %s", r.Code, r.Body)
		}
		// ResetFailures is scoped alike.
		if err := h.auth.resetFailures(t.Context(), "b", ActionSignIn, "ann@x.io"); err != nil {
			t.Fatal(err)
		}
		expect(t, cl.do("POST", "/signin?tenant=a&email=ann@x.io&password=right", ""), http.StatusTooManyRequests, "too many attempts, try again in 600 seconds")
		if err := h.auth.resetFailures(t.Context(), "a", ActionSignIn, "ann@x.io"); err != nil {
			t.Fatal(err)
		}
		if r := cl.do("POST", "/signin?tenant=a&email=ann@x.io&password=right", ""); r.body["status"] != "OK" {
			t.Fatalf("after ResetFailures: %d %s", r.Code, r.Body)
		}
	})
}

// TestRateLimitStoreSettlements pins each settlement's effect on a
// counter, in both stores.
func TestRateLimitStoreSettlements(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		h := newHarness(t, nil)
		if store == nil {
			store = h.auth.limiter.store
		}
		ctx, now := t.Context(), h.clock.Now()
		take := func(want int64) {
			t.Helper()
			n, end, err := store.Take(ctx, "k", time.Minute, now)
			if err != nil || n != want || !end.Equal(now.Add(time.Minute)) {
				t.Fatalf("Take = %d, %v, %v; want %d", n, end, err, want)
			}
		}
		settle := func(s Settlement) {
			t.Helper()
			if err := store.Settle(ctx, "k", s, now, 0); err != nil {
				t.Fatal(err)
			}
		}
		take(1)
		take(2)
		take(3)              // three open
		settle(SettleFailed) // two open, three counted
		take(4)              // three open
		settle(SettleRefund) // two open, three counted
		take(4)
		settle(SettleSucceeded) // two open: the settled failure is forgotten
		take(3)
		settle(SettleFailed)
		settle(SettleFailed)  // one open, three counted
		settle(SettleForgive) // one counted
		take(2)
		// Settling more than was taken never goes below zero.
		for i := 0; i < 5; i++ {
			settle(SettleRefund)
		}
		take(1)
		// An ended window restarts at one, and settling an ended window
		// does nothing.
		now = now.Add(time.Minute)
		settle(SettleForgive)
		take(1)
		if err := store.Settle(ctx, "k", Settlement(99), now, 0); err == nil {
			t.Fatal("an unknown settlement was accepted")
		}
	})
}

// TestRateLimitStoreTakeIsAtomic: 50 concurrent Takes on one key return
// each count from 1 to 50 exactly once.
func TestRateLimitStoreTakeIsAtomic(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		h := newHarness(t, nil)
		if store == nil {
			store = h.auth.limiter.store
		}
		const n = 50
		seen := make([]atomic.Int32, n+1)
		now := h.clock.Now()
		ginauthtest.Burst(n, func(int) {
			c, _, err := store.Take(t.Context(), "burst", time.Minute, now)
			if err != nil || c < 1 || c > n {
				t.Errorf("Take = %d, %v", c, err)
				return
			}
			seen[c].Add(1)
		})
		for c := 1; c <= n; c++ {
			if seen[c].Load() != 1 {
				t.Fatalf("count %d returned %d times", c, seen[c].Load())
			}
		}
	})
}

// TestRateLimitSettlesOnceAndCheckCounts: only an attempt's first
// settlement counts; CheckRateLimit keeps every attempt counted.
func TestRateLimitSettlesOnceAndCheckCounts(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.RateLimit.Limits = map[Action]Limit{ActionPasswordReset: {PerIP: Rule{Max: 100, Window: time.Minute}, PerAccount: Rule{Max: 2, Window: time.Hour}}}
	})
	h.r.POST("/twice", func(c *gin.Context) {
		at, err := h.auth.reserve(c, ActionPasswordReset, "ann@x.io")
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		at.Failed()
		at.Refund() // ignored: the attempt was settled as failed
		at.Succeeded()
		c.Status(204)
	})
	h.r.POST("/check", func(c *gin.Context) {
		if err := checkRateLimit(h.auth, c, ActionPasswordReset, "bob@x.io"); err != nil {
			h.auth.writeError(c, err)
			return
		}
		c.Status(204)
	})
	cl := h.client("header")
	for _, p := range []string{"/twice", "/check"} {
		for i := 0; i < 2; i++ {
			if r := cl.do("POST", p, ""); r.Code != 204 {
				t.Fatalf("%s %d: %d", p, i, r.Code)
			}
		}
		expect(t, cl.do("POST", p, ""), http.StatusTooManyRequests, "too many attempts, try again in 3600 seconds")
	}
}

// TestReserveLockout: a LockoutRule keeps its count for Cooldown after each
// failure and locks MaxFailures failures in a row until Cooldown after the
// last one (SuperTokens core's TOTP limit, Totp.checkAndStoreCode: locked
// while fewer than totp_rate_limit_cooldown_sec have passed since the
// latest of totp_max_attempts invalid codes, retryAfterMs the time left).
// Without the hold the lock would end Cooldown after the first failure.
func TestReserveLockout(t *testing.T) {
	rateStores(t, func(t *testing.T, store RateLimitStore) {
		h := newHarness(t, func(c *Config) { c.RateLimit = RateLimitConfig{Store: store, Disabled: true} })
		ctx := context.Background()
		rule := LockoutRule{MaxFailures: 3, Cooldown: 15 * time.Minute}
		try := func(tenant, user string, ok bool) (int, error) {
			t.Helper()
			at, err := h.auth.reserveLockout(ctx, tenant, "totp", user, rule)
			if err != nil {
				return 0, err
			}
			if ok {
				at.Succeeded()
			} else {
				at.Failed()
			}
			return at.Count(), nil
		}
		// Failures 5 minutes apart add up, whatever RateLimit.Disabled says.
		for i := 1; i <= 3; i++ {
			if n, err := try("", "u1", false); err != nil || n != i {
				t.Fatalf("failure %d: count %d, %v", i, n, err)
			}
			if i < 3 {
				h.clock.Advance(5 * time.Minute)
			}
		}
		h.clock.Advance(time.Minute)
		_, err := try("", "u1", true) // right, but locked
		e := asError(err)
		if e.Kind != ErrRateLimited || e.RetryAfter != 14*time.Minute {
			t.Fatalf("locked: %#v", e)
		}
		// Per tenant: the same user in another tenant is not locked.
		if _, err := try("other", "u1", true); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(14 * time.Minute)
		if n, err := try(DefaultTenant, "u1", false); err != nil || n != 1 {
			t.Fatalf("after the cooldown: count %d, %v", n, err)
		}
		// A success forgives; failures further apart than the cooldown
		// never add up.
		if _, err := try("", "u1", true); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			if n, err := try("", "u2", false); err != nil || n != 1 {
				t.Fatalf("spaced failure %d: count %d, %v", i, n, err)
			}
			h.clock.Advance(16 * time.Minute)
		}
		// A refused check is refunded: it does not lengthen the lock.
		for i := 0; i < 3; i++ {
			_, _ = try("", "u3", false)
		}
		for i := 0; i < 3; i++ {
			h.clock.Advance(time.Minute)
			if _, err := try("", "u3", true); asError(err).RetryAfter != time.Duration(14-i)*time.Minute {
				t.Fatalf("refusal %d: %v", i, err)
			}
		}
	})
}

// checkRateLimit is kit.Kit.CheckRateLimit, which this package's tests
// cannot import.
func checkRateLimit(a *Auth, c *gin.Context, action Action, account string) error {
	at, err := a.reserve(c, action, account)
	if err != nil {
		return err
	}
	at.Failed()
	return nil
}

// reserveAccount (kit.Kit.ReserveAccount) counts against the account's
// rule only: requests past the per-IP rule still get through, and the
// account's rule still refuses. Counting the IP in it fails the first
// loop; not counting the account fails the last request.
func TestReserveAccountSkipsIP(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.RateLimit = RateLimitConfig{Limits: map[Action]Limit{
			ActionSignIn: {PerIP: Rule{Max: 2, Window: time.Minute}, PerAccount: Rule{Max: 5, Window: time.Minute}},
		}}
	})
	h.r.POST("/x", func(c *gin.Context) {
		at, err := h.auth.reserveAccount(c, ActionSignIn, "a")
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		at.Failed()
		c.Status(204)
	})
	cl := h.client("header")
	for i := range 5 {
		if r := cl.do("POST", "/x", ""); r.Code != 204 {
			t.Fatalf("request %d: %d", i+1, r.Code)
		}
	}
	if r := cl.do("POST", "/x", ""); r.Code != 429 {
		t.Fatalf("past the account's rule: %d, want 429", r.Code)
	}
}
