package webauthn_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
)

// signUpLimit is the per-IP sign-up rule of the tests below.
const signUpLimit = 4

func signUpLimited(s *setup) {
	s.cfg.RateLimit = ginauth.RateLimitConfig{Limits: map[ginauth.Action]ginauth.Limit{
		ginauth.ActionSignUp: {PerIP: ginauth.Rule{Max: signUpLimit, Window: time.Hour}},
	}}
}

// passkeySignUp runs one complete passkey sign-up (options, then sign-up)
// from a fresh client and returns the HTTP code of the step that ended it
// (200 with status OK for an account made).
func passkeySignUp(h *harness, email string) (int, string) {
	cl := h.client()
	r := cl.do("POST", "/webauthn/options/register", jsonBody(map[string]any{"email": email}))
	if r.Code != 200 || r.JSON["status"] != "OK" {
		return r.Code, r.Body.String()
	}
	a := newAuthenticator(h.t, website)
	r = cl.do("POST", "/webauthn/signup", ceremony(r.JSON, a.register(r.JSON)))
	if r.Code == 200 && r.JSON["status"] != "OK" {
		return 0, r.Body.String()
	}
	return r.Code, r.Body.String()
}

// One passkey sign-up costs one unit of the sign-up limit: with a limit
// of N, N complete sign-ups succeed from one IP (fails when the sign-up
// route counts again after its options did: only N/2 would), and the
// N+1th is refused with a 429 (fails when nothing counts).
func TestPasskeySignUpCostsOneUnit(t *testing.T) {
	h := newHarness(t, signUpLimited)
	for i := range signUpLimit {
		if code, body := passkeySignUp(h, "user"+string(rune('a'+i))+"@example.com"); code != 200 {
			t.Fatalf("sign-up %d of %d: %d %s", i+1, signUpLimit, code, body)
		}
	}
	if code, body := passkeySignUp(h, "one-too-many@example.com"); code != 429 {
		t.Fatalf("sign-up %d: %d %s, want 429", signUpLimit+1, code, body)
	}
	if n := countRows(t, h, &models.User{}); n != signUpLimit {
		t.Fatalf("%d users, want %d", n, signUpLimit)
	}
}

// A concurrent burst of complete passkey sign-ups from one IP gets
// exactly the limit's N accounts through; the rest are refused with 429.
func TestPasskeySignUpBurstGetsExactlyTheLimit(t *testing.T) {
	h := newHarness(t, signUpLimited)
	const n = 3 * signUpLimit
	var okN, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := passkeySignUp(h, "burst"+string(rune('a'+i))+"@example.com")
			switch code {
			case 200:
				okN.Add(1)
			case 429:
				refused.Add(1)
			default:
				t.Errorf("unexpected answer %d %s", code, body)
			}
		}()
	}
	wg.Wait()
	if okN.Load() != signUpLimit || refused.Load() != n-signUpLimit {
		t.Fatalf("%d sign-ups succeeded and %d were refused, want %d and %d", okN.Load(), refused.Load(), signUpLimit, n-signUpLimit)
	}
	if users := countRows(t, h, &models.User{}); users != signUpLimit {
		t.Fatalf("%d users, want %d", users, signUpLimit)
	}
}
