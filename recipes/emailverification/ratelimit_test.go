package emailverification_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ginauth/ginauth/models"
)

// expectLimited checks a 429 with a Retry-After of want.
func expectLimited(t *testing.T, r *resp, want time.Duration) {
	t.Helper()
	expectMessage(t, r, 429, "too many attempts")
	if got := r.Header().Get("Retry-After"); got != fmt.Sprint(int(want.Seconds())) {
		t.Fatalf("Retry-After %q, want %v", got, want)
	}
}

// A user can have ten verification e-mails sent an hour (ginauth's
// default); a verified address clears the count.
func TestSendTokenLimit(t *testing.T) {
	h := newHarness(t, setup{defaultLimits: true})
	cl := h.client("header")
	cl.signup("a@example.com")
	for range 10 {
		expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	}
	expectLimited(t, cl.do("POST", "/auth/user/email/verify/token", ""), time.Hour)
	if n := h.mail.count(); n != 10 {
		t.Fatalf("%d e-mails sent, want 10", n)
	}
	// Another user is not held up.
	other := h.client("header")
	other.signup("b@example.com")
	expectStatus(t, other.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")

	token := tokenFrom(t, h.mail.sent[9].Link, "public")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(token)), 200, "OK")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "EMAIL_ALREADY_VERIFIED_ERROR")
}

// Verification tokens can be tried 30 times per client address in ten
// minutes (sending links counts too); a refused try does not use the token.
func TestVerifyGuessingLimit(t *testing.T) {
	h := newHarness(t, setup{defaultLimits: true})
	cl := h.client("header")
	cl.signup("a@example.com")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	token := tokenFrom(t, h.mail.last(t).Link, "public")
	for i := range 29 {
		expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(fmt.Sprintf("guess-%d", i))), 200,
			"EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
	}
	expectLimited(t, cl.do("POST", "/auth/user/email/verify", verifyBody(token)), 10*time.Minute)
	if n := h.count(&models.VerifiedEmail{}); n != 0 {
		t.Fatalf("a refused request verified %d addresses", n)
	}
	h.clock.Advance(10 * time.Minute)
	expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(token)), 200, "OK")
}
