package security

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// Load, meant for -race: concurrent sign-ups of one address make one
// account; many users signing up, in, refreshing and out at once lose
// nothing, and no revoked session survives.

func TestConcurrentSignUpsOfOneAddress(t *testing.T) {
	a := newApp(t, appOptions{})
	const racers = 10
	for round := 0; round < 3; round++ {
		email := fmt.Sprintf("dup%d@example.com", round)
		results := make([]*resp, racers)
		ginauthtest.Burst(racers, func(i int) { results[i] = a.client("header").signUp(email, pw) })
		ok := 0
		for _, r := range results {
			switch {
			case r.err == nil && r.str("status") == "OK":
				ok++
			case r.err == nil && r.str("status") == "FIELD_ERROR":
			default:
				t.Errorf("%s: concurrent sign-up answered %s", email, r)
			}
		}
		if ok != 1 {
			t.Errorf("%s: %d sign-ups succeeded, want exactly 1", email, ok)
		}
		if n := count(t, a.db, models.TableEmailPasswordUsers, "email = ?", email); n != 1 {
			t.Errorf("%s: %d accounts", email, n)
		}
	}
	checkIntegrity(t, a.db)
}

func TestMixedLoad(t *testing.T) {
	a := newApp(t, appOptions{})
	const (
		workers  = 8
		maxLoops = 40
		runFor   = 4 * time.Second
	)
	var (
		mu       sync.Mutex
		accounts []string // e-mails whose sign-up answered OK
		revoked  []string // handles of sessions signed out
		alive    []string // handles of sessions still signed in
		loops    atomic.Int64
	)
	deadline := time.Now().Add(runFor)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			fail := func(format string, args ...any) {
				t.Errorf("worker %d: "+format, append([]any{w}, args...)...)
			}
			for i := 0; i < maxLoops && time.Now().Before(deadline); i++ {
				loops.Add(1)
				email := fmt.Sprintf("w%d-%d@example.com", w, i)
				c := a.client("header")
				if r := c.signUp(email, pw); r.err != nil || r.str("status") != "OK" {
					fail("sign-up %s: %s", email, r)
					return
				}
				mu.Lock()
				accounts = append(accounts, email)
				mu.Unlock()
				// A second device of the same user, kept signed in.
				other := a.client("header")
				if r := other.signIn(email, pw); r.err != nil || r.str("status") != "OK" {
					fail("sign-in %s: %s", email, r)
					return
				}
				for k := 0; k < 3; k++ {
					if r := c.do("POST", "/auth/session/refresh", nil); r.code != 200 {
						fail("refresh %s: %s", email, r)
						return
					}
				}
				me := c.do("GET", "/strict", nil)
				if me.code != 200 {
					fail("strict %s: %s", email, me)
					return
				}
				oldAccess, oldRefresh := c.Access, c.Refresh
				if r := c.do("POST", "/auth/signout", nil); r.code != 200 {
					fail("sign-out %s: %s", email, r)
					return
				}
				dead := a.client("header")
				dead.Access, dead.Refresh = oldAccess, oldRefresh
				if r := dead.do("POST", "/auth/session/refresh", nil); r.code != 401 {
					fail("refresh after sign-out %s: %s", email, r)
				}
				if r := dead.do("GET", "/strict", nil); r.code != 401 {
					fail("strict after sign-out %s: %s", email, r)
				}
				if r := other.do("GET", "/strict", nil); r.code != 200 {
					fail("the other device of %s was signed out: %s", email, r)
				}
				mu.Lock()
				revoked = append(revoked, me.str("handle"))
				alive = append(alive, other.do("GET", "/me", nil).str("handle"))
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	t.Logf("%d loops by %d workers: %d accounts, %d sessions signed out", loops.Load(), workers, len(accounts), len(revoked))
	if len(accounts) < workers {
		t.Fatalf("only %d accounts made", len(accounts))
	}
	for _, email := range accounts {
		if n := count(t, a.db, models.TableEmailPasswordUsers, "email = ?", email); n != 1 {
			t.Errorf("%s: %d accounts", email, n)
		}
	}
	for _, h := range revoked {
		if n := count(t, a.db, models.TableSessions, "handle = ?", h); n != 0 {
			t.Errorf("signed-out session %s is still in the database", h)
		}
	}
	for _, h := range alive {
		if n := count(t, a.db, models.TableSessions, "handle = ?", h); n != 1 {
			t.Errorf("live session %s is gone", h)
		}
	}
	checkIntegrity(t, a.db)
}
