package passwordless

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// limitStores runs f on ginauth's default limits, with the counters in
// the database (SQLite, or the shared Postgres when
// GINAUTH_TEST_DATABASE_URL is set) and in memory.
// Codes go to e-mail addresses and phone numbers, and a device takes 100
// wrong codes, so that only the rate limiter stops a burst.
func limitStores(t *testing.T, f func(t *testing.T, h *harness)) {
	cfg := func(c *Config) { c.ContactMethod, c.MaxCodeInputAttempts = ContactEmailOrPhone, 100 }
	t.Run("database", func(t *testing.T) { f(t, newHarness(t, cfg)) })
	t.Run("memory", func(t *testing.T) {
		f(t, newHarnessWith(t, harnessOpts{cfg: cfg, rateLimit: &ginauth.RateLimitConfig{Store: ginauth.NewMemoryRateLimitStore()}}))
	})
}

// parallel sends n requests at once (request i is req(i)) and returns the
// answers by status code.
func parallel(n int, req func(i int) *resp) map[int]int {
	return ginauthtest.BurstCodes(n, func(i int) int { return req(i).Code })
}

// TestSendBurstSendsExactlyTen: 30 code requests for one address and 30
// for one phone number at once (default rule: 10 messages an hour per
// contact) send exactly 10 e-mails and 10 text messages; resending is on
// the same budget.
func TestSendBurstSendsExactlyTen(t *testing.T) {
	limitStores(t, func(t *testing.T, h *harness) {
		codes := parallel(30, func(int) *resp {
			return h.do("POST", "/auth/signinup/code", js(map[string]any{"email": "ann@b.io"}))
		})
		if sent := len(h.mail.ch); sent != 10 || codes[200] != 10 || codes[429] != 20 {
			t.Fatalf("%d e-mails, answers %v; want exactly 10 e-mails and 20 refusals", sent, codes)
		}
		codes = parallel(30, func(int) *resp {
			return h.do("POST", "/auth/signinup/code", js(map[string]any{"phoneNumber": "+14155550100"}),
				"X-Forwarded-For", "198.51.100.7")
		})
		if sent := len(h.sms.ch); sent != 10 || codes[200] != 10 || codes[429] != 20 {
			t.Fatalf("%d messages, answers %v; want exactly 10 and 20 refusals", sent, codes)
		}
		// The same address in another tenant has its own budget.
		expectStatus(t, h.do("POST", "/auth/t2/signinup/code", js(map[string]any{"email": "ann@b.io"}), "X-Forwarded-For", "198.51.100.8"), "OK")
	})
}

// TestCodeEntryBurstChecksExactlyFive: 30 wrong codes for one contact at
// once (default rule: 5 wrong codes in 15 minutes per contact) are checked
// exactly 5 times.
func TestCodeEntryBurstChecksExactlyFive(t *testing.T) {
	limitStores(t, func(t *testing.T, h *harness) {
		d := h.startEmail("ann@b.io")
		code, _ := codeFrom(t, h.waitMail())
		var mu sync.Mutex
		wrong := 0
		codes := parallel(30, func(int) *resp {
			r := h.consumeCode(d, wrongCode(code))
			if status(r) == StatusIncorrectCode {
				mu.Lock()
				wrong++
				mu.Unlock()
			}
			return r
		})
		if wrong != 5 || codes[200] != 5 || codes[429] != 25 {
			t.Fatalf("%d codes checked, answers %v; want exactly 5 checks and 25 refusals", wrong, codes)
		}
		// Starting over does not buy fresh guesses: the contact is locked.
		d = h.startEmail("ann@b.io")
		code, _ = codeFrom(t, h.waitMail())
		if r := h.consumeCode(d, code); r.Code != 429 {
			t.Fatalf("after the burst: %d %s", r.Code, r.Body)
		}
	})
}

// TestExistsLimitedPerIP: the e-mail and phone exists endpoints share a
// budget of 60 lookups per client address in 10 minutes: a burst of 70
// gets exactly 60 answers.
func TestExistsLimitedPerIP(t *testing.T) {
	limitStores(t, func(t *testing.T, h *harness) {
		codes := parallel(70, func(i int) *resp {
			if i%2 == 0 {
				return h.do("GET", fmt.Sprintf("/auth/passwordless/email/exists?email=u%d@b.io", i), "")
			}
			return h.do("GET", fmt.Sprintf("/auth/passwordless/phonenumber/exists?phoneNumber=%%2B1415555%04d", i), "")
		})
		if codes[200] != 60 || codes[429] != 10 {
			t.Fatalf("answers %v; want 60 and 10 refusals", codes)
		}
		r := h.do("GET", "/auth/passwordless/email/exists?email=ann@b.io", "", "X-Forwarded-For", "198.51.100.7")
		expectStatus(t, r, "OK")
	})
}
