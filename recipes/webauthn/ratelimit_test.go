package webauthn_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
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
// from a fresh client and returns the answer of the step that ended it.
func passkeySignUp(h *harness, email string) *ginauthtest.Response {
	cl := h.client()
	r := cl.do("POST", "/webauthn/options/register", jsonBody(map[string]any{"email": email}))
	if r.Code != 200 || r.JSON["status"] != "OK" {
		return r
	}
	return cl.do("POST", "/webauthn/signup", ceremony(r.JSON, newAuthenticator(h.t, website).register(r.JSON)))
}

// signedUp reports whether r is a sign-up's success.
func signedUp(r *ginauthtest.Response) bool { return r.Code == 200 && r.JSON["status"] == "OK" }

// One passkey sign-up costs one unit of the sign-up limit: with a limit
// of N, N complete sign-ups succeed from one IP (fails when the sign-up
// route counts again after its options did: only N/2 would), and the
// N+1th is refused with a 429 (fails when nothing counts).
func TestPasskeySignUpCostsOneUnit(t *testing.T) {
	h := newHarness(t, signUpLimited)
	for i := range signUpLimit {
		if r := passkeySignUp(h, "user"+string(rune('a'+i))+"@example.com"); !signedUp(r) {
			t.Fatalf("sign-up %d of %d: %d %s", i+1, signUpLimit, r.Code, r.Body)
		}
	}
	if r := passkeySignUp(h, "one-too-many@example.com"); r.Code != 429 {
		t.Fatalf("sign-up %d: %d %s, want 429", signUpLimit+1, r.Code, r.Body)
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
	ginauthtest.Burst(n, func(i int) {
		r := passkeySignUp(h, "burst"+string(rune('a'+i))+"@example.com")
		switch {
		case signedUp(r):
			okN.Add(1)
		case r.Code == 429:
			refused.Add(1)
		default:
			t.Errorf("unexpected answer %d %s", r.Code, r.Body)
		}
	})
	if okN.Load() != signUpLimit || refused.Load() != n-signUpLimit {
		t.Fatalf("%d sign-ups succeeded and %d were refused, want %d and %d", okN.Load(), refused.Load(), signUpLimit, n-signUpLimit)
	}
	if users := countRows(t, h, &models.User{}); users != signUpLimit {
		t.Fatalf("%d users, want %d", users, signUpLimit)
	}
}
