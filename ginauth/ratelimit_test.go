package ginauth

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/models"
)

// limitedHarness adds a sign-in-like route: it checks the limiter, then
// "hashes" (counts), then fails unless the password is "right".
func limitedHarness(t *testing.T, store RateLimitStore, events *[]Event) (*harness, *int) {
	var mu sync.Mutex
	hashes := 0
	h := newHarness(t, func(c *Config) {
		c.RateLimit = RateLimitConfig{Store: store, Limits: map[string]Limit{
			ActionSignIn: {PerIP: Rule{Max: 20, Window: time.Minute}, PerAccount: Rule{Max: 3, Window: 10 * time.Minute}},
		}}
		c.Hooks.OnEvent = func(ctx context.Context, e Event) {
			mu.Lock()
			*events = append(*events, e)
			mu.Unlock()
		}
	})
	h.r.POST("/signin", func(c *gin.Context) {
		account := c.Query("email")
		if err := h.auth.CheckRateLimit(c, ActionSignIn, account); err != nil {
			h.auth.WriteError(c, err)
			return
		}
		mu.Lock()
		hashes++
		mu.Unlock()
		if c.Query("password") != "right" {
			if err := h.auth.RecordFailure(c, ActionSignIn, account); err != nil {
				h.auth.WriteError(c, err)
				return
			}
			c.JSON(200, gin.H{"status": "WRONG_CREDENTIALS_ERROR"})
			return
		}
		_ = h.auth.ResetFailures(c, ActionSignIn, account)
		c.JSON(200, gin.H{"status": "OK"})
	})
	return h, &hashes
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
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := h.client("header")
			codes <- cl.do("POST", "/signin?password=right", "").Code
		}()
	}
	wg.Wait()
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
		if err := h.auth.CheckRateLimit(c, ActionSignIn, "a"); err != nil {
			h.auth.WriteError(c, err)
			return
		}
		_ = h.auth.RecordFailure(c, ActionSignIn, "a")
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
	h.r.POST("/hit", func(c *gin.Context) { _ = h.auth.CheckRateLimit(c, ActionSignUp, ""); c.Status(204) })
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
