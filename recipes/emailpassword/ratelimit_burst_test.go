package emailpassword

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// limitStores runs f on ginauth's default limits, with the counters in
// the database (SQLite, or the shared Postgres when
// GINAUTH_TEST_DATABASE_URL is set) and in memory.
func limitStores(t *testing.T, f func(t *testing.T, limits ginauth.RateLimitConfig)) {
	t.Run("database", func(t *testing.T) { f(t, ginauth.RateLimitConfig{}) })
	t.Run("memory", func(t *testing.T) { f(t, ginauth.RateLimitConfig{Store: ginauth.NewMemoryRateLimitStore()}) })
}

// parallel sends n requests at once (request i is req(i)) and returns the
// answers by status code.
func parallel(n int, req func(i int) *resp) map[int]int {
	return ginauthtest.BurstCodes(n, func(i int) int { return req(i).Code })
}

// TestSignInBurstChecksExactlyTen: 39 wrong passwords and the right one
// sent at once to one account (default rule: 10 failures in 15 minutes)
// compute exactly 10 password hashes and refuse the other 30. Every hash
// waits until all 40 requests were admitted or refused, so the limiter
// decides them all while the checks are in flight: a limiter that reads
// the counter first and records failures after the hash (the code this
// replaced) lets all 40 through, and this test fails.
func TestSignInBurstChecksExactlyTen(t *testing.T) {
	limitStores(t, func(t *testing.T, limits ginauth.RateLimitConfig) {
		h := newHarnessLimits(t, func(c *Config) { c.MaxConcurrentHashes = 64 }, limits)
		h.mustSignUp("ann@b.io", "secret123")
		const n = 40
		var hashed, refused atomic.Int64
		gate := make(chan struct{})
		var once sync.Once
		release := func() {
			if hashed.Load()+refused.Load() >= n {
				once.Do(func() { close(gate) })
			}
		}
		h.ep.hasher.onHash = func(string) {
			hashed.Add(1)
			release()
			select {
			case <-gate:
			case <-time.After(20 * time.Second):
				t.Error("the gate never opened")
			}
		}
		codes := parallel(n, func(i int) *resp {
			pw := fmt.Sprintf("wrong-%d", i)
			if i == 23 {
				pw = "secret123"
			}
			r := h.signIn("ann@b.io", pw)
			if r.Code == 429 {
				refused.Add(1)
				release()
			}
			return r
		})
		if hashed.Load() != 10 || codes[200] != 10 || codes[429] != 30 {
			t.Fatalf("%d hashes, answers %v; want exactly 10 hashes and 30 refusals", hashed.Load(), codes)
		}
	})
}

// TestResetBurstSendsExactlyFive: 30 reset requests for one address at
// once (default rule: 5 an hour) send exactly 5 e-mails and refuse 25.
func TestResetBurstSendsExactlyFive(t *testing.T) {
	limitStores(t, func(t *testing.T, limits ginauth.RateLimitConfig) {
		h := newHarnessLimits(t, nil, limits)
		h.mustSignUp("ann@b.io", "secret123")
		codes := parallel(30, func(int) *resp {
			return h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "ann@b.io"))
		})
		h.ep.mailWG.Wait()
		if sent := len(h.mail.ch); sent != 5 || codes[200] != 5 || codes[429] != 25 {
			t.Fatalf("%d e-mails, answers %v; want exactly 5 e-mails and 25 refusals", sent, codes)
		}
	})
}

// TestSignInLockoutIsPerTenant: failures in one tenant do not lock the
// same address in another.
func TestSignInLockoutIsPerTenant(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	r := h.do("POST", "/auth/t2/signup", ginauthtest.Form("email", "ann@b.io", "password", "secret123"))
	expectStatus(t, r, "OK")
	for range 10 {
		expectStatus(t, h.do("POST", "/auth/t2/signin", ginauthtest.Form("email", "ann@b.io", "password", "wrong")), "WRONG_CREDENTIALS_ERROR")
	}
	expectLimited(t, h.do("POST", "/auth/t2/signin", ginauthtest.Form("email", "ann@b.io", "password", "secret123")), 15*time.Minute)
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
}

// TestEmailExistsLimitedPerIP: the exists endpoints (and the deprecated
// alias, on one budget) answer 60 lookups per address in 10 minutes; a
// burst of 70 gets exactly 60 answers; another address is not held up.
func TestEmailExistsLimitedPerIP(t *testing.T) {
	limitStores(t, func(t *testing.T, limits ginauth.RateLimitConfig) {
		h := newHarnessLimits(t, nil, limits)
		codes := parallel(70, func(i int) *resp {
			path := "/auth/emailpassword/email/exists"
			if i%2 == 1 {
				path = "/auth/signup/email/exists"
			}
			return h.do("GET", fmt.Sprintf("%s?email=u%d@b.io", path, i), "")
		})
		if codes[200] != 60 || codes[429] != 10 {
			t.Fatalf("answers %v; want 60 and 10 refusals", codes)
		}
		expectLimited(t, h.do("GET", "/auth/emailpassword/email/exists?email=ann@b.io", ""), 10*time.Minute)
		r := h.do("GET", "/auth/emailpassword/email/exists?email=ann@b.io", "", "X-Forwarded-For", "198.51.100.7")
		expectStatus(t, r, "OK")
		h.clock.Advance(10 * time.Minute)
		expectStatus(t, h.do("GET", "/auth/emailpassword/email/exists?email=ann@b.io", ""), "OK")
	})
}
