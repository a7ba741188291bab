package security

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/totp"
)

// Secrets at rest and in logs, and security events: every flow is run with
// the app's slog and gin loggers captured, then every column of every row
// of every ginauth table, the logs and the events are searched for every
// secret the flows handled.

// secrets collects what must never be stored or logged in the clear.
type secrets struct {
	values []string // substrings
	codes  []string // short numeric codes, matched as whole numbers
}

func (s *secrets) add(what ...string) {
	for _, v := range what {
		if len(v) >= 8 {
			s.values = append(s.values, v)
		}
	}
}

// addToken adds a token and its secret part (after the last dot).
func (s *secrets) addToken(tok string) {
	if tok == "" {
		return
	}
	s.add(tok)
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		s.add(tok[i+1:])
	}
}

// find returns the secrets that occur in text.
func (s *secrets) find(text string) []string {
	var out []string
	for _, v := range s.values {
		if strings.Contains(text, v) {
			out = append(out, v)
		}
	}
	for _, c := range s.codes {
		if regexp.MustCompile(`(^|[^0-9])` + c + `([^0-9]|$)`).MatchString(text) {
			out = append(out, c)
		}
	}
	return out
}

// serverKey is the flows' Config.SecretKey; it must never show up anywhere.
var serverKey = []byte("security-test-server-secret-key!") // 32 bytes

// flowLockoutMax is the sign-in lockout of the flows' app.
const flowLockoutMax = 3

// runFlows builds an app with every recipe the tests cover and runs sign-up,
// sign-in (right and wrong), refreshes in both transfer modes, a password
// reset, a password change, e-mail verification, TOTP enrolment and
// verification, a token theft and a lockout. It returns the app and
// every secret that went by.
func runFlows(t *testing.T) (*app, *secrets) {
	t.Helper()
	rl := testlimits.Generous()
	rl.Limits[ginauth.ActionSignIn] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
		PerAccount: ginauth.Rule{Max: flowLockoutMax, Window: time.Hour}}
	const dashboardKey = "dashboard-admin-key-0123456789"
	a := newApp(t, appOptions{totp: true, rateLimit: &rl, mod: func(c *ginauth.Config) {
		c.Recipes = append(c.Recipes, dashboard.New(dashboard.Config{APIKeys: []string{dashboardKey}}))
		c.SecretKey = serverKey
	}})
	s := &secrets{}
	s.add(dashboardKey)
	// The server secret, and any PEM private key: the signing keys are
	// sealed under the secret (ginauth_signing_keys holds no key in the
	// clear; TestSigningKeysSealedAtRest checks the DER bytes themselves).
	s.add(string(serverKey), base64.StdEncoding.EncodeToString(serverKey), hex.EncodeToString(serverKey), "PRIVATE KEY")
	const email = "secret@example.com"
	pw1, pw2, pw3, wrong := "first-Passw0rd-A", "second-Passw0rd-B", "third-Passw0rd-C", "mistyped-Passw0rd-D"
	s.add(pw1, pw2, pw3, wrong, string(totpKey), hex.EncodeToString(totpKey))

	// Sign-up, sign-in right and wrong, refreshes, in header mode.
	c, uid := a.signedUp(email, pw1)
	s.addToken(c.Access)
	s.addToken(c.Refresh)
	expect(t, a.client("header").signIn(email, wrong), 200, "WRONG_CREDENTIALS_ERROR")
	expect(t, a.client("header").signIn("nobody@example.com", wrong), 200, "WRONG_CREDENTIALS_ERROR")
	for i := 0; i < 2; i++ {
		expect(t, c.do("POST", "/auth/session/refresh", nil), 200, "")
		s.addToken(c.Access)
		s.addToken(c.Refresh)
	}
	// Cookie mode.
	ck := a.client("cookie")
	r := ck.signIn(email, pw1)
	expect(t, r, 200, "OK")
	expect(t, ck.do("POST", "/auth/session/refresh", nil), 200, "")
	for _, line := range append(r.hdr.Values("Set-Cookie"), ck.do("POST", "/auth/session/refresh", nil).hdr.Values("Set-Cookie")...) {
		if name, rest, ok := strings.Cut(line, "="); ok && (name == "sAccessToken" || name == "sRefreshToken") {
			v, _, _ := strings.Cut(rest, ";")
			s.addToken(v)
		}
	}

	// E-mail verification.
	expect(t, c.do("POST", "/auth/user/email/verify/token", nil), 200, "OK")
	evToken := tokenFromLink(t, a.mail.waitFor(t, "email-verification", email).Link)
	s.add(evToken)
	expect(t, c.do("POST", "/auth/user/email/verify", map[string]string{"method": "token", "token": evToken}), 200, "OK")
	s.addToken(c.Access)

	// TOTP: enrol a device, verify it, use a wrong code and a right one.
	r = c.do("POST", "/auth/totp/device", map[string]string{"deviceName": "phone"})
	expect(t, r, 200, "OK")
	secret := r.str("secret")
	raw, err := totp.DecodeSecret(secret)
	if err != nil {
		t.Fatalf("TOTP secret %q: %v", secret, err)
	}
	s.add(secret, hex.EncodeToString(raw), string(raw))
	code, err := totp.Code(raw, time.Now(), totp.Params{})
	if err != nil {
		t.Fatal(err)
	}
	s.codes = append(s.codes, code)
	expect(t, c.do("POST", "/auth/totp/device/verify", map[string]string{"deviceName": "phone", "totp": code}), 200, "OK")
	s.addToken(c.Access)
	bad := fmt.Sprintf("%06d", (atoiOr(code)+500000)%1000000)
	s.codes = append(s.codes, bad)
	expect(t, c.do("POST", "/auth/totp/verify", map[string]string{"totp": bad}), 200, "INVALID_TOTP_ERROR")
	s.addToken(c.Access)

	// The admin dashboard: a sign-in with the API key starts an admin
	// session whose cookie is a secret too.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(a.srv.URL+"/auth/dashboard/signin", url.Values{"key": {dashboardKey}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) == 0 {
		t.Fatalf("dashboard sign-in set no cookie (status %d)", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		s.add(ck.Value)
	}

	// Password reset (which revokes every session, c's included).
	anon := a.client("header")
	expect(t, anon.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", email)), 200, "OK")
	resetToken := tokenFromLink(t, a.mail.waitFor(t, "password-reset", email).Link)
	s.add(resetToken)
	expect(t, anon.do("POST", "/auth/user/password/reset", map[string]any{"method": "token", "token": resetToken,
		"formFields": []map[string]string{{"id": "password", "value": pw2}}}), 200, "OK")

	// The app's change-password route, with a second session to revoke.
	c2 := a.client("header")
	expect(t, c2.signIn(email, pw2), 200, "OK")
	s.addToken(c2.Access)
	s.addToken(c2.Refresh)
	c3 := a.client("header")
	expect(t, c3.signIn(email, pw2), 200, "OK")
	s.addToken(c3.Access)
	s.addToken(c3.Refresh)
	expect(t, c2.do("POST", "/me/password", map[string]string{"password": pw3}), 200, "OK")

	// Token theft: c2's first refresh token replayed after its child was
	// used.
	first := c2.Refresh
	expect(t, c2.do("POST", "/auth/session/refresh", nil), 200, "")
	expect(t, c2.do("POST", "/auth/session/refresh", nil), 200, "")
	s.addToken(c2.Access)
	s.addToken(c2.Refresh)
	thief := a.client("header")
	thief.Refresh = first
	expect(t, thief.do("POST", "/auth/session/refresh", nil), 401, "token theft detected")

	// Lockout: the account's failed sign-ins reach the limit (the one
	// above was forgiven by the successful sign-ins since).
	for i := 0; i < flowLockoutMax; i++ {
		expect(t, a.client("header").signIn(email, wrong), 200, "WRONG_CREDENTIALS_ERROR")
	}
	expect(t, a.client("header").signIn(email, pw3), 429, "")

	// Sign-out of the session that is left.
	expect(t, a.client("header").signIn("other@example.com", wrong), 200, "WRONG_CREDENTIALS_ERROR")
	_ = uid
	return a, s
}

func atoiOr(s string) int {
	n := 0
	for _, ch := range s {
		n = n*10 + int(ch-'0')
	}
	return n
}

func TestSecretsAtRestAndInLogs(t *testing.T) {
	a, s := runFlows(t)
	// The matcher itself works.
	if len(s.find("x"+s.values[len(s.values)-1]+"x")) == 0 || len(s.find("code "+s.codes[0]+".")) == 0 {
		t.Fatal("the secret matcher misses planted secrets")
	}
	rows := 0
	for _, table := range tableNames() {
		var all []map[string]any
		if err := a.db.Table(table).Find(&all).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range all {
			rows++
			for col, v := range row {
				text := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					text = string(b)
				}
				for _, found := range s.find(text) {
					t.Errorf("secret %q stored in the clear in %s.%s", found, table, col)
				}
			}
		}
	}
	if rows < 10 {
		t.Fatalf("only %d rows scanned; the flows did not run", rows)
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "/auth/signin") || !strings.Contains(logs, "security event") {
		t.Fatalf("the logs were not captured:\n%s", logs)
	}
	if strings.Contains(logs, "SecretKey is not set") {
		t.Error("the no-SecretKey warning was logged although a key is set")
	}
	for _, line := range strings.Split(logs, "\n") {
		for _, found := range s.find(line) {
			t.Errorf("secret %q in the log: %s", found, line)
		}
	}
}

func TestSecurityEvents(t *testing.T) {
	a, s := runFlows(t)
	logs := a.logs.String()
	for _, typ := range []ginauth.EventType{ginauth.EventSignUp, ginauth.EventSignIn, ginauth.EventSignInFailed,
		ginauth.EventTokenTheft, ginauth.EventPasswordReset, ginauth.EventPasswordChanged,
		ginauth.EventSessionsRevoked, ginauth.EventLockout} {
		evs := a.events.of(typ)
		if len(evs) == 0 {
			t.Errorf("no %s event reached Hooks.OnEvent", typ)
			continue
		}
		if !regexp.MustCompile(`"msg":"ginauth: security event".*"type":"` + regexp.QuoteMeta(string(typ)) + `"`).MatchString(logs) {
			t.Errorf("the %s event was not logged", typ)
		}
		for _, ev := range evs {
			if ev.UserID == "" && ev.Account == "" {
				t.Errorf("%s event names neither a user nor an account: %+v", typ, ev)
			}
		}
	}
	for _, ev := range a.events.of(ginauth.EventSignInFailed) {
		if (ev.Account == "" && ev.UserID == "") || ev.IP == "" {
			t.Errorf("sign-in failure without account or IP: %+v", ev)
		}
	}
	if ev := a.events.of(ginauth.EventLockout); len(ev) > 0 && (ev[0].Action != ginauth.ActionSignIn || ev[0].Account == "") {
		t.Errorf("lockout event %+v", ev[0])
	}
	if ev := a.events.of(ginauth.EventTokenTheft); len(ev) > 0 && ev[0].SessionHandle == "" {
		t.Errorf("theft event without the session: %+v", ev[0])
	}
	for _, ev := range a.events.All() {
		for _, found := range s.find(fmt.Sprintf("%+v", ev)) {
			t.Errorf("secret %q in event %+v", found, ev)
		}
	}
}
