package multifactorauth_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	mfa "github.com/ginauth/ginauth/recipes/multifactorauth"
)

func recoveryBody(code string) string { return fmt.Sprintf(`{"code":%q}`, code) }

func expectStatus(t *testing.T, r *resp, want string) {
	t.Helper()
	if r.Code != 200 || r.body["status"] != want {
		t.Fatalf("got %d %s, want 200 status %s", r.Code, r.Body, want)
	}
}

// TestRecoveryCodeRateLimit: on top of the per-user limit, a client
// address may enter 60 codes a minute (ginauth's default for code entry);
// the next is refused with 429 before the code is checked.
func TestRecoveryCodeRateLimit(t *testing.T) {
	h := newHarnessLimits(t, mfa.Config{}, ginauth.RateLimitConfig{})
	// 15 users x 4 wrong codes stays under each user's own limit of 5.
	for u := range 15 {
		cl := h.login(fmt.Sprintf("u%d", u), "emailpassword")
		for range 4 {
			expectStatus(t, cl.do("POST", "/auth/mfa/recovery-code", recoveryBody("0000-0000-0000-0000")), "INVALID_RECOVERY_CODE_ERROR")
		}
	}
	codes, err := h.mfa.GenerateRecoveryCodes(t.Context(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	ann := h.login("ann", "emailpassword")
	r := ann.do("POST", "/auth/mfa/recovery-code", recoveryBody(codes[0]))
	code(t, r, 429)
	if r.Header().Get("Retry-After") != "60" || !strings.Contains(r.body["message"].(string), "too many attempts") {
		t.Fatalf("Retry-After %q, body %s", r.Header().Get("Retry-After"), r.Body)
	}
	// The refused code was not checked, so not spent.
	if n, err := h.mfa.RemainingRecoveryCodes(t.Context(), "ann"); err != nil || n != len(codes) {
		t.Fatalf("%d codes left (%v), want %d", n, err, len(codes))
	}
	h.clock.Advance(time.Minute)
	expectStatus(t, ann.do("POST", "/auth/mfa/recovery-code", recoveryBody(codes[0])), "OK")
}

// TestRecoveryCodeEvents: wrong codes and the per-user lockout reach
// Hooks.OnEvent, without the codes.
func TestRecoveryCodeEvents(t *testing.T) {
	h := newHarness(t, mfa.Config{})
	codes, err := h.mfa.GenerateRecoveryCodes(t.Context(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	ann := h.login("ann", "emailpassword")
	var wrong []string
	for i := range 5 {
		c := fmt.Sprintf("%04d-0000-0000-0000", i)
		wrong = append(wrong, c)
		expectStatus(t, ann.do("POST", "/auth/mfa/recovery-code", recoveryBody(c)), "INVALID_RECOVERY_CODE_ERROR")
	}
	expectStatus(t, ann.do("POST", "/auth/mfa/recovery-code", recoveryBody(codes[0])), "LIMIT_REACHED_ERROR")
	failed := h.events.OfType(ginauth.EventFactorFailed)
	if len(failed) != 5 || failed[0].UserID != "ann" || failed[0].IP != "192.0.2.1" || failed[0].Detail != "recovery code: invalid code" {
		t.Fatalf("failure events %+v", failed)
	}
	lock := h.events.One(t, ginauth.EventLockout)
	if lock.UserID != "ann" || lock.Action != ginauth.ActionCodeEntry {
		t.Fatalf("lockout event %+v", lock)
	}
	h.events.AssertNoSecret(t, append(wrong, codes...)...)
}

// TestRecoveryCodeBadInput: malformed bodies get a 4xx saying what is
// wrong, and cost no attempt.
func TestRecoveryCodeBadInput(t *testing.T) {
	h := newHarness(t, mfa.Config{})
	ann := h.login("ann", "emailpassword")
	for _, tc := range []struct {
		body, msg string
		code      int
	}{
		{``, "Missing input param: code", 400},
		{`{}`, "Missing input param: code", 400},
		{`{"code":5}`, "code must be a string", 400},
		{`{"code":"` + strings.Repeat("a", 65) + `"}`, "code is longer than 64 bytes", 400},
		{`[`, "the request body must be a JSON object", 400},
		{`{"code":"a"} {}`, "the request body must hold a single JSON object", 400},
		{`{"code":"` + strings.Repeat("a", 5000) + `"}`, "the request body is larger than 4096 bytes", 413},
	} {
		r := ann.do("POST", "/auth/mfa/recovery-code", tc.body)
		code(t, r, tc.code)
		if r.body["message"] != tc.msg {
			t.Fatalf("%.40s: %s, want %q", tc.body, r.Body, tc.msg)
		}
	}
	if n := len(h.events.OfType(ginauth.EventFactorFailed)); n != 0 {
		t.Fatalf("bad input counted as %d failed attempts", n)
	}
}
