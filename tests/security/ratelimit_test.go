package security

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/totp"
)

// Rate limiting and lockout, on the routes the recipes wired to
// ginauth.CheckRateLimit: sign-in, password reset, e-mail verification and
// code entry. Limits are set by the app (Config.RateLimit.Limits); these
// tests set small ones.

func limits(action ginauth.Action, l ginauth.Limit) *ginauth.RateLimitConfig {
	rl := testlimits.Generous()
	rl.Limits[action] = l
	return &rl
}

var big = ginauth.Rule{Max: 1 << 30, Window: time.Hour}

// expect429 checks a refusal: 429, a Retry-After in seconds, a JSON message.
func expect429(t *testing.T, r *resp) {
	t.Helper()
	expect(t, r, 429, "")
	if s, err := strconv.Atoi(r.hdr.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", r.hdr.Get("Retry-After"))
	}
	if r.str("message") == "" {
		t.Errorf("429 without a message: %s", r)
	}
}

// After the account's failed sign-ins reach the limit, even the right
// password is refused, the password is not checked at all, an unknown
// address locks the same way (a lockout reveals nothing), and other
// accounts are unaffected.
func TestSignInLockout(t *testing.T) {
	a := newApp(t, appOptions{rateLimit: limits(ginauth.ActionSignIn,
		ginauth.Limit{PerIP: big, PerAccount: ginauth.Rule{Max: 3, Window: 15 * time.Minute}})})
	a.signedUp("locked@example.com", pw)
	a.signedUp("bystander@example.com", pw)
	// A stored hash the recipe cannot read logs an error each time it is
	// checked, which shows whether a locked sign-in reached the hash.
	a.signedUp("broken@example.com", pw)
	if err := a.db.Model(&models.EmailPasswordUser{}).Where("email = ?", "broken@example.com").
		Update("password_hash", "$argon2id$broken").Error; err != nil {
		t.Fatal(err)
	}
	c := a.client("header")
	for _, email := range []string{"locked@example.com", "unknown@example.com", "broken@example.com"} {
		for i := 0; i < 3; i++ {
			expect(t, c.signIn(email, "wrong-password-1"), 200, "WRONG_CREDENTIALS_ERROR")
		}
	}
	checked := strings.Count(a.logs.String(), "stored password hash is not")
	if checked != 3 {
		t.Fatalf("the broken hash was checked %d times, want 3", checked)
	}
	expect429(t, c.signIn("locked@example.com", pw))
	locked := c.signIn("locked@example.com", "wrong-password-1")
	expect429(t, locked)
	unknown := c.signIn("unknown@example.com", "wrong-password-1")
	expect429(t, unknown)
	if locked.str("message") == "" || len(locked.raw) == 0 {
		t.Fatal("no body")
	}
	expect429(t, c.signIn("broken@example.com", "wrong-password-1"))
	if n := strings.Count(a.logs.String(), "stored password hash is not"); n != checked {
		t.Errorf("a locked-out sign-in still checked the password")
	}
	expect(t, c.signIn("bystander@example.com", pw), 200, "OK")
	if ev := a.events.of(ginauth.EventLockout); len(ev) == 0 || ev[0].Action != ginauth.ActionSignIn {
		t.Errorf("lockout events %+v", ev)
	}
}

// One address (one client IP) cannot try more sign-ins than its limit,
// whatever accounts it tries, and a forged X-Forwarded-For does not make
// it a new client (the app trusts no proxy).
func TestSignInPerIPLimit(t *testing.T) {
	a := newApp(t, appOptions{rateLimit: limits(ginauth.ActionSignIn,
		ginauth.Limit{PerIP: ginauth.Rule{Max: 5, Window: time.Minute}, PerAccount: big})})
	c := a.client("header")
	for i := 0; i < 5; i++ {
		expect(t, c.signIn(fmt.Sprintf("spray%d@example.com", i), "wrong-password-1"), 200, "WRONG_CREDENTIALS_ERROR")
	}
	expect429(t, c.signIn("spray9@example.com", "wrong-password-1"))
	expect429(t, c.do("POST", "/auth/signin", ginauthtest.Form("email", "spray10@example.com", "password", "x1x1x1x1x1"),
		"X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.9"))
}

// Reset links: each address can be sent only so many, known or not (the
// refusal reveals nothing), and the mail stops.
func TestResetTokenLimit(t *testing.T) {
	a := newApp(t, appOptions{rateLimit: limits(ginauth.ActionPasswordReset,
		ginauth.Limit{PerIP: big, PerAccount: ginauth.Rule{Max: 2, Window: time.Hour}})})
	a.signedUp("flood@example.com", pw)
	c := a.client("header")
	for _, email := range []string{"flood@example.com", "nobody@example.com"} {
		for i := 0; i < 2; i++ {
			expect(t, c.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", email)), 200, "OK")
		}
		expect429(t, c.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", email)))
	}
	a.ep.Wait() // reset e-mails go out in the background
	sent := 0
	for _, m := range a.mail.All() {
		if m.Kind == "password-reset" {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("%d reset e-mails sent, want 2", sent)
	}
}

// Verification e-mails are limited per user, and guessing verification
// tokens per client address.
func TestEmailVerificationLimits(t *testing.T) {
	a := newApp(t, appOptions{rateLimit: limits(ginauth.ActionEmailVerification,
		ginauth.Limit{PerIP: ginauth.Rule{Max: 6, Window: time.Minute}, PerAccount: ginauth.Rule{Max: 2, Window: time.Hour}})})
	c, _ := a.signedUp("verify@example.com", pw)
	for i := 0; i < 2; i++ {
		expect(t, c.do("POST", "/auth/user/email/verify/token", nil), 200, "OK")
	}
	expect429(t, c.do("POST", "/auth/user/email/verify/token", nil))
	guesser := a.client("header")
	var last *resp
	for i := 0; i < 8; i++ {
		last = guesser.do("POST", "/auth/user/email/verify", map[string]string{"method": "token", "token": fmt.Sprintf("guess-%d", i)})
		if last.code == 429 {
			break
		}
		expect(t, last, 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
	}
	expect429(t, last)
}

// TOTP code entry locks the user out after five wrong codes, and then even
// the right code is refused.
func TestTOTPLockout(t *testing.T) {
	a := newApp(t, appOptions{totp: true})
	c, _ := a.signedUp("totp@example.com", pw)
	r := c.do("POST", "/auth/totp/device", map[string]string{"deviceName": "phone"})
	expect(t, r, 200, "OK")
	secret, err := totp.DecodeSecret(r.str("secret"))
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		s, err := totp.Code(secret, time.Now(), totp.Params{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	expect(t, c.do("POST", "/auth/totp/device/verify", map[string]string{"deviceName": "phone", "totp": code()}), 200, "OK")
	wrong := fmt.Sprintf("%06d", (atoiOr(code())+333333)%1000000)
	for i := 0; i < 5; i++ {
		expect(t, c.do("POST", "/auth/totp/verify", map[string]string{"totp": wrong}), 200, "INVALID_TOTP_ERROR")
	}
	expect(t, c.do("POST", "/auth/totp/verify", map[string]string{"totp": code()}), 200, "LIMIT_REACHED_ERROR")
}
