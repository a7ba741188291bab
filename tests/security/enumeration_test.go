package security

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/emailpassword"
)

// No user enumeration: an unknown e-mail and a known one must be
// indistinguishable by what sign-in and the reset-token request answer and
// by how long they take.

// sameAnswer fails unless two answers have the same status, body and
// session headers.
func sameAnswer(t *testing.T, what string, x, y *resp) {
	t.Helper()
	if x.err != nil || y.err != nil {
		t.Fatalf("%s: %v / %v", what, x.err, y.err)
	}
	if x.code != y.code || !bytes.Equal(x.raw, y.raw) {
		t.Errorf("%s: answers differ:\n  %s\n  %s", what, x, y)
	}
	for _, h := range []string{"Set-Cookie", "front-token", "St-Access-Token", "St-Refresh-Token", "Retry-After"} {
		if fmt.Sprint(x.hdr.Values(h)) != fmt.Sprint(y.hdr.Values(h)) {
			t.Errorf("%s: header %s differs: %q vs %q", what, h, x.hdr.Values(h), y.hdr.Values(h))
		}
	}
}

func TestSignInAnswersAlike(t *testing.T) {
	a := newApp(t, appOptions{})
	a.signedUp("known@example.com", pw)
	c := a.client("header")
	unknown := c.signIn("unknown@example.com", pw)
	wrong := c.signIn("known@example.com", "wrong-password-1")
	expect(t, wrong, 200, "WRONG_CREDENTIALS_ERROR")
	sameAnswer(t, "sign-in: unknown e-mail vs wrong password", unknown, wrong)
	// Case and spaces do not make a known address look unknown.
	sameAnswer(t, "sign-in: normalised address", c.signIn(" KNOWN@example.com ", "wrong-password-1"), wrong)
}

func TestResetTokenAnswersAlike(t *testing.T) {
	a := newApp(t, appOptions{})
	a.signedUp("known@example.com", pw)
	c := a.client("header")
	known := c.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "known@example.com"))
	unknown := c.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "unknown@example.com"))
	expect(t, known, 200, "OK")
	sameAnswer(t, "reset token: known vs unknown e-mail", known, unknown)
}

// The timing tests compare the two kinds of request side by side: samples
// interleaved (ABBA), compared by median and by 20%-trimmed mean, the
// whole measurement retried before failing, so that a noisy shared machine
// does not fail them while a real difference (a skipped hash, an extra
// database write) does.

const timingTolerance = 1.10

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func trimmedMean(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	cut := len(s) / 5
	s = s[cut : len(s)-cut]
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return sum / time.Duration(len(s))
}

func ratio(x, y time.Duration) float64 {
	if x < y {
		x, y = y, x
	}
	return float64(x) / float64(y)
}

// timeAlike fails unless x and y take the same time within
// timingTolerance, by median and trimmed mean, in one of attempts runs of
// n samples each.
func timeAlike(t *testing.T, what string, n, attempts int, x, y func() time.Duration) {
	t.Helper()
	for i := 0; i < 3; i++ { // warm up connections, caches and the pool
		x()
		y()
	}
	var last string
	for attempt := 1; attempt <= attempts; attempt++ {
		xs, ys := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				xs, ys = append(xs, x()), append(ys, y())
			} else {
				ys, xs = append(ys, y()), append(xs, x())
			}
		}
		mx, my, tx, ty := median(xs), median(ys), trimmedMean(xs), trimmedMean(ys)
		rm, rt := ratio(mx, my), ratio(tx, ty)
		last = fmt.Sprintf("medians %v vs %v (ratio %.3f), trimmed means %v vs %v (ratio %.3f)", mx, my, rm, tx, ty, rt)
		t.Logf("%s, attempt %d: %s", what, attempt, last)
		if rm <= timingTolerance && rt <= timingTolerance {
			return
		}
	}
	t.Errorf("%s: the two cases take measurably different times (tolerance %.2f): %s", what, timingTolerance, last)
}

// Sign-in with an unknown e-mail costs what a wrong password costs (the
// dummy hash), with the OWASP-default argon2id parameters.
// timingTest skips a timing comparison unless GINAUTH_TIMING_TESTS=1: the
// comparison needs the machine to itself, so make test runs these tests in
// a phase of their own (scripts/test.sh timing) rather than beside every
// other package's tests.
func timingTest(t *testing.T) {
	t.Helper()
	if testing.Short() || os.Getenv("GINAUTH_TIMING_TESTS") != "1" {
		t.Skip("timing test: run with GINAUTH_TIMING_TESTS=1 on an otherwise idle machine (scripts/test.sh timing)")
	}
}

func TestSignInTimingAlike(t *testing.T) {
	timingTest(t)
	owasp := emailpassword.DefaultArgon2Params()
	a := newApp(t, appOptions{argon2: &owasp})
	a.signedUp("known@example.com", pw)
	c := a.client("header")
	timed := func(email, password string) func() time.Duration {
		return func() time.Duration {
			r := c.signIn(email, password)
			if r.err != nil || r.str("status") != "WRONG_CREDENTIALS_ERROR" {
				t.Fatalf("sign-in %s: %s", email, r)
			}
			return r.dur
		}
	}
	timeAlike(t, "sign-in: unknown e-mail vs wrong password", 30, 4,
		timed("unknown@example.com", "wrong-password-1"), timed("known@example.com", "wrong-password-1"))
}

// Asking for a reset link costs the same for a known and an unknown e-mail:
// creating and storing the token and sending the mail must not happen on
// the request's time.
func TestResetTokenTimingAlike(t *testing.T) {
	timingTest(t)
	a := newApp(t, appOptions{})
	a.signedUp("known@example.com", pw)
	c := a.client("header")
	timed := func(email string) func() time.Duration {
		return func() time.Duration {
			r := c.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", email))
			if r.err != nil || r.str("status") != "OK" {
				t.Fatalf("reset token %s: %s", email, r)
			}
			return r.dur
		}
	}
	timeAlike(t, "reset token: unknown vs known e-mail", 150, 3, timed("unknown@example.com"), timed("known@example.com"))
}
