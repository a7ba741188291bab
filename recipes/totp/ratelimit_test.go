package totp_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
)

func expectLimited(t *testing.T, r *resp) {
	t.Helper()
	code(t, r, 429)
	if r.Header().Get("Retry-After") != "60" || !strings.Contains(fmt.Sprint(r.body["message"]), "too many attempts") {
		t.Fatalf("Retry-After %q, body %s", r.Header().Get("Retry-After"), r.Body)
	}
}

// TestCodeEntryRateLimit: on top of each user's own limit, a client
// address may enter 60 codes a minute (ginauth's default for code entry)
// on /totp/verify and /totp/device/verify together; past that both answer
// 429 before the code is checked.
func TestCodeEntryRateLimit(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.RateLimit = ginauth.RateLimitConfig{} })
	cl := h.login("u1")
	r := cl.do("POST", "/auth/totp/device", `{"deviceName":"phone"}`)
	status(t, r, "OK")
	secret := r.body["secret"].(string)
	other := h.login("u2")
	for range 60 {
		status(t, other.do("POST", "/auth/totp/verify", totpBody("123456")), "UNKNOWN_USER_ID_ERROR")
	}
	good := fmt.Sprintf(`{"deviceName":"phone","totp":%q}`, refTOTP(t, secret, h.clock.Now()))
	expectLimited(t, cl.do("POST", "/auth/totp/device/verify", good))
	expectLimited(t, cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))))
	devices, err := h.totp.ListDevices(t.Context(), "u1")
	if err != nil || len(devices) != 1 || devices[0].Verified {
		t.Fatalf("a refused verification changed the device: %+v %v", devices, err)
	}
	h.clock.Advance(time.Minute)
	good = fmt.Sprintf(`{"deviceName":"phone","totp":%q}`, refTOTP(t, secret, h.clock.Now()))
	status(t, cl.do("POST", "/auth/totp/device/verify", good), "OK")
}

// TestCodeEntryEvents: wrong codes and the per-user lockout reach
// Hooks.OnEvent, without the codes or the secret.
func TestCodeEntryEvents(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.login("u1")
	secret := cl.enrol("phone")
	h.clock.Advance(30 * time.Second)
	var wrong []string
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatal("no lockout after 20 wrong codes")
		}
		c := fmt.Sprintf("%06d", 111111*(i%9+1))
		if c == refTOTP(t, secret, h.clock.Now()) {
			continue
		}
		wrong = append(wrong, c)
		r := cl.do("POST", "/auth/totp/verify", totpBody(c))
		if r.body["status"] == "LIMIT_REACHED_ERROR" {
			break
		}
		status(t, r, "INVALID_TOTP_ERROR")
	}
	failed := h.events.OfType(ginauth.EventFactorFailed)
	if len(failed) != len(wrong)-1 || failed[0].UserID != "u1" || failed[0].IP != "192.0.2.1" || failed[0].Detail != "totp: invalid code" {
		t.Fatalf("%d failure events for %d wrong codes: %+v", len(failed), len(wrong)-1, failed)
	}
	if lock := h.events.One(t, ginauth.EventLockout); lock.UserID != "u1" || lock.Action != ginauth.ActionCodeEntry {
		t.Fatalf("lockout event %+v", lock)
	}
	h.events.AssertNoSecret(t, append(wrong, secret, refTOTP(t, secret, h.clock.Now()))...)
}

// TestLockoutBurst: 30 wrong codes sent at once to POST /totp/verify get
// exactly MaxFailedAttempts (5) INVALID_TOTP_ERROR answers, numbered 1 to
// 5, and 25 LIMIT_REACHED_ERROR answers with retryAfterMs: every entry is
// counted in the core limiter's store before its code is checked, in one
// atomic step (on SQLite, and on PostgreSQL with
// GINAUTH_TEST_DATABASE_URL). The reference is SuperTokens core's
// Totp.checkAndStoreCode (totp_max_attempts, LIMIT_REACHED_ERROR).
func TestLockoutBurst(t *testing.T) {
	// 30 requests queue for SQLite's one writer, slowly under -race: the
	// test is about counting, so no request may give up waiting.
	h := newHarness(t, func(s *setup) { s.cfg.DBTimeout = testdb.DBTimeout })
	cl := h.login("u1")
	secret := cl.enrol("phone")
	wrong := "000000"
	if refTOTP(t, secret, h.clock.Now()) == wrong {
		wrong = "111111"
	}
	var mu sync.Mutex
	statuses := map[string]int{}
	numbers := map[float64]bool{}
	ginauthtest.Burst(30, func(int) {
		r := cl.with("POST", "/auth/totp/verify", totpBody(wrong))
		mu.Lock()
		defer mu.Unlock()
		st, _ := r.body["status"].(string)
		statuses[fmt.Sprint(r.Code, " ", st)]++
		if r.Code != 200 {
			t.Logf("%d %s", r.Code, r.Body)
		}
		switch st {
		case "INVALID_TOTP_ERROR":
			n, _ := r.body["currentNumberOfFailedAttempts"].(float64)
			numbers[n] = true
		case "LIMIT_REACHED_ERROR":
			if ms, _ := r.body["retryAfterMs"].(float64); ms <= 0 || ms > float64((15*time.Minute).Milliseconds()) {
				statuses["bad retryAfterMs"]++
			}
		}
	})
	if statuses["200 INVALID_TOTP_ERROR"] != 5 || statuses["200 LIMIT_REACHED_ERROR"] != 25 || len(statuses) != 2 {
		t.Fatalf("outcomes %v", statuses)
	}
	for i := 1; i <= 5; i++ {
		if !numbers[float64(i)] {
			t.Fatalf("currentNumberOfFailedAttempts seen: %v", numbers)
		}
	}
	if st := h.factorState(); !strings.Contains(st, "lockout u1/totp count=5 open=0") {
		t.Fatalf("the lockout counter: %s", st)
	}
	// Locked: even the right code is refused, without being checked.
	r := cl.with("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now())))
	status(t, r, "LIMIT_REACHED_ERROR")
	if r.body["retryAfterMs"] != float64((15 * time.Minute).Milliseconds()) {
		t.Fatalf("retryAfterMs: %s", r.Body)
	}
}

// TestLockoutHoldsWithRateLimitDisabled: RateLimitConfig.Disabled turns
// off the request-rate limits (here, code entry per IP) but not the
// per-user TOTP lockout, a defence of the recipe's own (fails when
// ReserveLockout honours Disabled).
func TestLockoutHoldsWithRateLimitDisabled(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.cfg.RateLimit = ginauth.RateLimitConfig{Disabled: true}
		s.mfa.RequireFactors = []string{"totp"}
	})
	// Past the per-IP rule of code entry (60 a minute): not refused.
	other := h.login("u2")
	for range 70 {
		status(t, other.do("POST", "/auth/totp/verify", totpBody("123456")), "UNKNOWN_USER_ID_ERROR")
	}
	secret := h.login("u1").enrol("phone")
	cl := h.login("u1")
	wrong := "000000"
	if refTOTP(t, secret, h.clock.Now()) == wrong {
		wrong = "111111"
	}
	for range 5 {
		status(t, cl.do("POST", "/auth/totp/verify", totpBody(wrong)), "INVALID_TOTP_ERROR")
	}
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))), "LIMIT_REACHED_ERROR")
	if cl.mfaSatisfied() {
		t.Fatal("locked out, yet satisfied")
	}
}
