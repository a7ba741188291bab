package emailpassword

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// These tests run on ginauth's default limits (see ginauth.DefaultLimits).

func newLimitedHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessLimits(t, nil, ginauth.RateLimitConfig{})
}

// hashCount is every hash the pool ran, real or dummy.
func (h *harness) hashCount() int64 {
	return h.counter("argon2id").Load() + h.counter("bcrypt").Load() + h.counter("dummy").Load()
}

// expectLimited checks a 429 with a Retry-After of want seconds.
func expectLimited(t *testing.T, r *resp, want time.Duration) {
	t.Helper()
	if r.Code != 429 {
		t.Fatalf("got %d %s, want 429", r.Code, r.Body)
	}
	if got := r.Header().Get("Retry-After"); got != strconv.Itoa(int(want.Seconds())) {
		t.Fatalf("Retry-After %q, want %v", got, want)
	}
	if msg, _ := r.body["message"].(string); !strings.Contains(msg, "too many attempts") {
		t.Fatalf("message %q", msg)
	}
}

// TestSignInLockout: after the default 10 failures an address is locked
// for 15 minutes, before any hash is computed, whether or not it has an
// account, and with the right password too.
func TestSignInLockout(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	for _, email := range []string{"ann@b.io", "nobody@b.io"} {
		for i := range 10 {
			expectStatus(t, h.signIn(email, fmt.Sprintf("wrong-%d", i)), "WRONG_CREDENTIALS_ERROR")
		}
		before := h.hashCount()
		expectLimited(t, h.signIn(email, "secret123"), 15*time.Minute)
		if got := h.hashCount() - before; got != 0 {
			t.Fatalf("%s: a locked sign-in computed %d hashes", email, got)
		}
	}
	// The same answer for both, down to the bytes.
	h.clock.Advance(time.Minute)
	a, b := h.signIn("ann@b.io", "x"), h.signIn("nobody@b.io", "x")
	if a.Body.String() != b.Body.String() || a.Header().Get("Retry-After") != b.Header().Get("Retry-After") {
		t.Fatalf("known %s (%s), unknown %s (%s)", a.Body, a.Header().Get("Retry-After"), b.Body, b.Header().Get("Retry-After"))
	}
	// Other addresses are not affected; the lock ends with its window.
	h.mustSignUp("bob@b.io", "secret123")
	expectStatus(t, h.signIn("bob@b.io", "secret123"), "OK")
	h.clock.Advance(14 * time.Minute)
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	if n := len(h.events.OfType(ginauth.EventLockout)); n < 3 {
		t.Fatalf("%d lockout events", n)
	}
}

// TestSignInSuccessResetsFailures: a good sign-in forgets the address's
// failures, so a user's own typos never add up to a lockout.
func TestSignInSuccessResetsFailures(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	for range 3 {
		for range 9 {
			expectStatus(t, h.signIn("ann@b.io", "wrong"), "WRONG_CREDENTIALS_ERROR")
		}
		expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	}
	for range 10 {
		expectStatus(t, h.signIn("ann@b.io", "wrong"), "WRONG_CREDENTIALS_ERROR")
	}
	expectLimited(t, h.signIn("ann@b.io", "secret123"), 15*time.Minute)
}

// TestSignInPerIP: one address may try 60 sign-ins a minute, whatever the
// accounts; another address is not held up by it.
func TestSignInPerIP(t *testing.T) {
	h := newLimitedHarness(t)
	for i := range 60 {
		expectStatus(t, h.signIn(fmt.Sprintf("u%d@b.io", i), "secret123"), "WRONG_CREDENTIALS_ERROR")
	}
	before := h.hashCount()
	expectLimited(t, h.signIn("late@b.io", "secret123"), time.Minute)
	if h.hashCount() != before {
		t.Fatal("a limited sign-in was hashed")
	}
	r := h.do("POST", "/auth/signin", ginauthtest.Form("email", "late@b.io", "password", "secret123"), "X-Forwarded-For", "198.51.100.7")
	expectStatus(t, r, "WRONG_CREDENTIALS_ERROR")
	h.clock.Advance(time.Minute)
	expectStatus(t, h.signIn("late@b.io", "secret123"), "WRONG_CREDENTIALS_ERROR")
}

// TestSignUpPerIP: 20 sign-ups per address in 10 minutes, counted before
// hashing; a refused one creates nothing.
func TestSignUpPerIP(t *testing.T) {
	h := newLimitedHarness(t)
	for i := range 20 {
		h.mustSignUp(fmt.Sprintf("u%d@b.io", i), "secret123")
	}
	before := h.hashCount()
	expectLimited(t, h.signUp("late@b.io", "secret123"), 10*time.Minute)
	// Existing addresses are limited alike: sign-up cannot be used to
	// test addresses past the limit.
	expectLimited(t, h.signUp("u1@b.io", "secret123"), 10*time.Minute)
	if h.hashCount() != before {
		t.Fatal("a limited sign-up was hashed")
	}
	if n := h.count(&models.EmailPasswordUser{}); n != 20 {
		t.Fatalf("%d accounts", n)
	}
	// Malformed forms are answered as before, and do not count.
	expectFieldError(t, h.signUp("bad", "secret123"), "email", MsgEmailInvalid)
}

// TestResetTokenLimit: five reset requests per address an hour. Every
// request counts, whether the address has an account or not, and the sixth
// is refused the same way for both, so the limit tells nothing.
func TestResetTokenLimit(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	for range 5 {
		expectStatus(t, h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "nobody@b.io")), "OK")
		expectStatus(t, h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "ann@b.io")), "OK")
		h.waitMail()
	}
	unknown := h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "nobody@b.io"))
	known := h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "ANN@b.io"))
	expectLimited(t, unknown, time.Hour)
	expectLimited(t, known, time.Hour)
	if unknown.Body.String() != known.Body.String() {
		t.Fatalf("unknown %s, known %s", unknown.Body, known.Body)
	}
	h.noMail()
	if n := h.count(&models.PasswordResetToken{}); n != 5 {
		t.Fatalf("%d reset tokens, want 5", n)
	}
	h.clock.Advance(time.Hour)
	h.requestReset("/auth/user/password/reset/token", "ann@b.io")
}

// TestResetGuessingLimit: the password-reset routes take 20 requests per
// client address in 10 minutes, checked before any hash.
func TestResetGuessingLimit(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	token, _ := h.requestReset("/auth/user/password/reset/token", "ann@b.io")
	// The request for the link counted too: the two routes share the
	// per-address budget.
	for i := range 19 {
		expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(fmt.Sprintf("guess-%d", i), "newsecret456")),
			"RESET_PASSWORD_INVALID_TOKEN_ERROR")
	}
	before := h.hashCount()
	expectLimited(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), 10*time.Minute)
	if h.hashCount() != before {
		t.Fatal("a limited reset was hashed")
	}
	h.clock.Advance(10 * time.Minute)
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "OK")
}

// TestResetEndsLockout: resetting the password through the e-mailed link
// lifts a lockout someone else caused.
func TestResetEndsLockout(t *testing.T) {
	h := newLimitedHarness(t)
	h.mustSignUp("ann@b.io", "secret123")
	for range 10 {
		h.signIn("ann@b.io", "wrong")
	}
	expectLimited(t, h.signIn("ann@b.io", "secret123"), 15*time.Minute)
	token, _ := h.requestReset("/auth/user/password/reset/token", "ann@b.io")
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "OK")
	expectStatus(t, h.signIn("ann@b.io", "newsecret456"), "OK")
}

// TestEvents: the flows report to Hooks.OnEvent, with the account and the
// client's address, and never a password or token.
func TestEvents(t *testing.T) {
	h := newLimitedHarness(t)
	ctx := context.Background()
	id := h.mustSignUp("ann@b.io", "secret123")
	e := h.events.One(t, ginauth.EventSignUp)
	if e.UserID != id || e.Account != "ann@b.io" || e.IP != "192.0.2.1" {
		t.Fatalf("sign-up event %+v", e)
	}

	expectStatus(t, h.signIn("ANN@b.io", "wrong-pw-1"), "WRONG_CREDENTIALS_ERROR")
	expectStatus(t, h.signIn("nobody@b.io", "wrong-pw-2"), "WRONG_CREDENTIALS_ERROR")
	failed := h.events.OfType(ginauth.EventSignInFailed)
	if len(failed) != 2 || failed[0].Account != "ann@b.io" || failed[1].Account != "nobody@b.io" ||
		failed[0].UserID != "" || failed[0].IP != "192.0.2.1" {
		t.Fatalf("failure events %+v", failed)
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	if e := h.events.One(t, ginauth.EventSignIn); e.UserID != id || e.Account != "ann@b.io" || e.IP != "192.0.2.1" {
		t.Fatalf("sign-in event %+v", e)
	}

	token, m := h.requestReset("/auth/user/password/reset/token", "ann@b.io")
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "OK")
	if e := h.events.One(t, ginauth.EventPasswordReset); e.UserID != id || e.IP != "192.0.2.1" {
		t.Fatalf("reset event %+v", e)
	}

	pw := "changed789"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, nil, &pw, ""); err != nil {
		t.Fatal(err)
	}
	if e := h.events.One(t, ginauth.EventPasswordChanged); e.UserID != id {
		t.Fatalf("password-change event %+v", e)
	}
	// An e-mail change alone is not a password change.
	email := "ann2@b.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, &email, nil, ""); err != nil {
		t.Fatal(err)
	}
	h.events.One(t, ginauth.EventPasswordChanged)

	u, _ := url.Parse(m.Link)
	h.events.AssertNoSecret(t, "secret123", "wrong-pw-1", "wrong-pw-2", "newsecret456", pw, token, u.RawQuery)
}
