package webauthn_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
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

// signInLimit is the per-IP sign-in rule of the tests below.
const signInLimit = 4

func signInLimited(s *setup) {
	s.cfg.RateLimit = ginauth.RateLimitConfig{Limits: map[ginauth.Action]ginauth.Limit{
		ginauth.ActionSignUp: {PerIP: ginauth.Rule{Max: 1000, Window: time.Hour}},
		ginauth.ActionSignIn: {PerIP: ginauth.Rule{Max: signInLimit, Window: time.Hour}, PerAccount: ginauth.Rule{Max: 1000, Window: time.Hour}},
	}}
}

// passkeys signs n passkey accounts up and returns their authenticators.
func passkeys(h *harness, n int) []*softAuthenticator {
	out := make([]*softAuthenticator, n)
	for i := range out {
		_, out[i], _ = h.signUp("key" + string(rune('a'+i)) + "@example.com")
	}
	return out
}

// A concurrent burst of complete passkey sign-ins (options, then the
// sign-in) from one IP gets exactly the per-IP limit's N through: one
// sign-in is one unit of ActionSignIn, taken by its options. Counting the
// sign-in route against the IP again (two units) lets only N/2 through.
// The rest are refused at their options with 429.
func TestPasskeySignInBurstCostsOneUnitEach(t *testing.T) {
	h := newHarness(t, signInLimited)
	const n = 3 * signInLimit
	keys := passkeys(h, n)
	var okN, refused atomic.Int32
	ginauthtest.Burst(n, func(i int) {
		cl := h.client()
		r := cl.do("POST", "/webauthn/options/signin", "{}")
		if r.Code == 200 && r.JSON["status"] == "OK" {
			r = cl.do("POST", "/webauthn/signin", ceremony(r.JSON, keys[i].signIn(r.JSON, nil)))
		}
		switch {
		case r.Code == 200 && r.JSON["status"] == "OK":
			okN.Add(1)
		case r.Code == 429:
			refused.Add(1)
		default:
			t.Errorf("unexpected answer %d %s", r.Code, r.Body)
		}
	})
	if okN.Load() != signInLimit || refused.Load() != n-signInLimit {
		t.Fatalf("%d sign-ins succeeded and %d were refused, want %d and %d", okN.Load(), refused.Load(), signInLimit, n-signInLimit)
	}
}

// Sign-in options alone are limited (they are the unit), and a sign-in
// checks a passkey only with live options it uses up: once the IP's units
// are spent, replaying spent options or inventing ids verifies nothing,
// so no attempt comes free. Taking the options after the passkey's checks
// (or not at all) fails this.
func TestPasskeySignInNeedsPaidOptions(t *testing.T) {
	h := newHarness(t, signInLimited)
	key := passkeys(h, 1)[0]
	cl := h.client()
	var spent []map[string]any
	for range signInLimit {
		opts := cl.signInOptions()
		spent = append(spent, opts)
		cl.ok("POST", "/webauthn/signin", ceremony(opts, key.signIn(opts, nil)))
	}
	if r := cl.do("POST", "/webauthn/options/signin", "{}"); r.Code != 429 {
		t.Fatalf("options past the limit: %d %s, want 429", r.Code, r.Body)
	}
	bogus := map[string]any{"webauthnGeneratedOptionsId": "made-up", "challenge": spent[0]["challenge"], "rpId": rpID}
	for _, opts := range append(spent, bogus) {
		mustStatus(t, cl.do("POST", "/webauthn/signin", ceremony(opts, key.signIn(opts, nil))), "INVALID_CREDENTIALS_ERROR")
	}
	var row models.WebAuthnCredential
	if err := kit.Of(h.auth).DB().Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.SignCount != int64(signInLimit) {
		t.Fatalf("the passkey was accepted %d times, want %d", row.SignCount, signInLimit)
	}
}
