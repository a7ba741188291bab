package passwordless

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func TestEmailCodeSignUpThenSignIn(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("  Ann@Example.COM ")
	if d.deviceID == "" || d.pre == "" {
		t.Fatal("missing deviceId / preAuthSessionId")
	}
	m := h.waitMail()
	if m.To != "ann@example.com" || m.Kind != KindSignInCode {
		t.Fatalf("mail to %q kind %q", m.To, m.Kind)
	}
	code, link := codeFrom(t, m)
	if code == "" || link == "" || !strings.Contains(m.Text, code) || !strings.Contains(m.HTML, code) {
		t.Fatalf("mail lacks code or link: %q\n%s", m.Subject, m.Text)
	}
	r := h.consumeCode(d, code)
	expectStatus(t, r, "OK")
	if r.body["createdNewRecipeUser"] != true {
		t.Fatalf("createdNewRecipeUser = %v", r.body["createdNewRecipeUser"])
	}
	user := r.body["user"].(map[string]any)
	lm := user["loginMethods"].([]any)[0].(map[string]any)
	if lm["recipeId"] != "passwordless" || lm["email"] != "ann@example.com" || lm["verified"] != true {
		t.Fatalf("login method %v", lm)
	}
	if emails := user["emails"].([]any); len(emails) != 1 || emails[0] != "ann@example.com" {
		t.Fatalf("emails %v", emails)
	}
	tok := r.Header().Get("st-access-token")
	if tok == "" || r.Header().Get("front-token") == "" {
		t.Fatalf("no session tokens: %v", r.Header())
	}
	if f := h.lastFactor(); f != FactorOTPEmail {
		t.Fatalf("factor %q", f)
	}
	me := h.do("GET", "/me", "", "Authorization", "Bearer "+tok)
	if me.Code != 200 || me.body["userId"] != user["id"] {
		t.Fatalf("/me: %d %s", me.Code, me.Body)
	}

	// Signing in again finds the same user.
	d2 := h.startEmail("ann@example.com")
	code2, _ := codeFrom(t, h.waitMail())
	r2 := h.consumeCode(d2, code2)
	expectStatus(t, r2, "OK")
	if r2.body["createdNewRecipeUser"] != false || r2.body["user"].(map[string]any)["id"] != user["id"] {
		t.Fatalf("second sign-in: %s", r2.Body)
	}
	if n := h.count(&models.PasswordlessUser{}); n != 1 {
		t.Fatalf("%d passwordless users", n)
	}
	if n := h.count(&models.PasswordlessDevice{}) + h.count(&models.PasswordlessCode{}); n != 0 {
		t.Fatalf("%d devices and codes left after sign-in", n)
	}
}

func TestMagicLink(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FlowType = FlowMagicLink })
	d := h.startEmail("bob@example.com")
	m := h.waitMail()
	if m.Kind != emaildelivery.KindMagicLink || sixDigits.MatchString(m.Text) {
		t.Fatalf("a magic-link-only mail has kind %q and text\n%s", m.Kind, m.Text)
	}
	u, err := url.Parse(m.Link)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "http://localhost:3000/auth/verify" {
		t.Fatalf("link base %q", got)
	}
	if u.Query().Get("preAuthSessionId") != d.pre || u.Query().Get("tenantId") != "public" || len(u.Fragment) < 43 {
		t.Fatalf("link %q", m.Link)
	}
	if !strings.Contains(m.Text, m.Link) {
		t.Fatal("the text part lacks the link")
	}
	// The link works without the device id (another browser).
	r := h.consumeLink("", u.Query().Get("preAuthSessionId"), u.Fragment)
	expectStatus(t, r, "OK")
	if f := h.lastFactor(); f != FactorLinkEmail {
		t.Fatalf("factor %q", f)
	}
	// Single use.
	expectStatus(t, h.consumeLink("", d.pre, u.Fragment), "RESTART_FLOW_ERROR")
}

func TestUserInputCodeFlowSendsNoLink(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FlowType = FlowUserInputCode })
	r := h.do("POST", "/auth/signinup/code", `{"email":"c@example.com"}`)
	expectStatus(t, r, "OK")
	if r.body["flowType"] != "USER_INPUT_CODE" {
		t.Fatalf("flowType %v", r.body["flowType"])
	}
	m := h.waitMail()
	if m.Link != "" || strings.Contains(m.Text, "http") || !sixDigits.MatchString(m.Text) {
		t.Fatalf("code-only mail: link %q\n%s", m.Link, m.Text)
	}
}

func TestWrongCodesThenRestart(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("d@example.com")
	code, _ := codeFrom(t, h.waitMail())
	bad := wrongCode(code)
	for i := 1; i <= 4; i++ {
		r := h.consumeCode(d, bad)
		expectStatus(t, r, "INCORRECT_USER_INPUT_CODE_ERROR")
		if num(r, "failedCodeInputAttemptCount") != i || num(r, "maximumCodeInputAttempts") != 5 {
			t.Fatalf("attempt %d: %s", i, r.Body)
		}
	}
	expectStatus(t, h.consumeCode(d, bad), "RESTART_FLOW_ERROR")
	// The device is gone: even the right code no longer works.
	expectStatus(t, h.consumeCode(d, code), "RESTART_FLOW_ERROR")
	if n := h.count(&models.PasswordlessDevice{}) + h.count(&models.PasswordlessCode{}); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("e@example.com")
	code, link := codeFrom(t, h.waitMail())
	h.clock.Advance(15*time.Minute + time.Second)
	r := h.consumeCode(d, code)
	expectStatus(t, r, "EXPIRED_USER_INPUT_CODE_ERROR")
	if num(r, "failedCodeInputAttemptCount") != 1 || num(r, "maximumCodeInputAttempts") != 5 {
		t.Fatalf("%s", r.Body)
	}
	expectStatus(t, h.consumeCode(d, wrongCode(code)), "INCORRECT_USER_INPUT_CODE_ERROR")
	expectStatus(t, h.consumeLink("", d.pre, link), "RESTART_FLOW_ERROR")

	// A resend gives a fresh code on the same device.
	expectStatus(t, h.resend(d), "OK")
	fresh, _ := codeFrom(t, h.waitMail())
	expectStatus(t, h.consumeCode(d, fresh), "OK")
}

func TestCodeJustBeforeExpiry(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CodeLifetime = time.Minute })
	d := h.startEmail("f@example.com")
	code, _ := codeFrom(t, h.waitMail())
	h.clock.Advance(59 * time.Second)
	expectStatus(t, h.consumeCode(d, code), "OK")
}

func TestReplayedCodeRefused(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("g@example.com")
	code, link := codeFrom(t, h.waitMail())
	other := h.startEmail("g@example.com") // a second device of the same address
	otherCode, _ := codeFrom(t, h.waitMail())
	expectStatus(t, h.consumeCode(d, code), "OK")
	expectStatus(t, h.consumeCode(d, code), "RESTART_FLOW_ERROR")
	expectStatus(t, h.consumeLink("", d.pre, link), "RESTART_FLOW_ERROR")
	// Success revoked every outstanding code of the address.
	expectStatus(t, h.consumeCode(other, otherCode), "RESTART_FLOW_ERROR")
}

func TestResend(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("h@example.com")
	first, _ := codeFrom(t, h.waitMail())
	expectStatus(t, h.resend(d), "OK")
	second, secondLink := codeFrom(t, h.waitMail())
	if first == second && first != "" {
		t.Log("the two codes happen to be equal (1 in 10^6)")
	}
	if n := h.count(&models.PasswordlessCode{}); n != 2 {
		t.Fatalf("%d codes after a resend", n)
	}
	// Both codes work until one is used; the earlier one here.
	expectStatus(t, h.consumeCode(d, first), "OK")
	expectStatus(t, h.consumeLink("", d.pre, secondLink), "RESTART_FLOW_ERROR")
	// Resending for a used device restarts the flow.
	expectStatus(t, h.resend(d), "RESTART_FLOW_ERROR")

	d2 := h.startEmail("h@example.com")
	h.waitMail()
	expectStatus(t, h.resend(device{deviceID: d.deviceID, pre: d2.pre}), "RESTART_FLOW_ERROR") // id mismatch
	expectStatus(t, h.resend(device{deviceID: "nope", pre: "nope"}), "RESTART_FLOW_ERROR")
}

func TestPhoneFlow(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactPhone })
	d := h.start("", map[string]any{"phoneNumber": "+1 (415) 555-0123"})
	s := h.waitSMS()
	if s.To != "+14155550123" || len(s.Code) != 6 || !strings.Contains(s.Body, s.Code) || !strings.Contains(s.Body, s.Link) {
		t.Fatalf("SMS %+v / body %q", s, s.Body)
	}
	if strings.Contains(s.String(), s.Code) {
		t.Fatal("SMS.String prints the code")
	}
	r := h.consumeCode(d, s.Code)
	expectStatus(t, r, "OK")
	user := r.body["user"].(map[string]any)
	if pn := user["phoneNumbers"].([]any); len(pn) != 1 || pn[0] != "+14155550123" {
		t.Fatalf("phoneNumbers %v", pn)
	}
	lm := user["loginMethods"].([]any)[0].(map[string]any)
	if lm["phoneNumber"] != "+14155550123" || lm["verified"] != true || lm["email"] != nil {
		t.Fatalf("login method %v", lm)
	}
	if f := h.lastFactor(); f != FactorOTPPhone {
		t.Fatalf("factor %q", f)
	}

	for _, path := range []string{"/auth/passwordless/phonenumber/exists", "/auth/signup/phonenumber/exists"} {
		yes := h.do("GET", path+"?phoneNumber="+url.QueryEscape("+14155550123"), "")
		if status(yes) != "OK" || yes.body["exists"] != true {
			t.Fatalf("%s: %s", path, yes.Body)
		}
		// An unescaped + arrives as a space; it is understood.
		plus := h.do("GET", path+"?phoneNumber=+14155550123", "")
		if plus.body["exists"] != true {
			t.Fatalf("%s with a raw +: %s", path, plus.Body)
		}
		no := h.do("GET", path+"?phoneNumber=%2B14155550199", "")
		if status(no) != "OK" || no.body["exists"] != false {
			t.Fatalf("%s: %s", path, no.Body)
		}
	}

	// A magic link sent by SMS.
	d2 := h.start("", map[string]any{"phoneNumber": "0014155550123"})
	s2 := h.waitSMS()
	u, _ := url.Parse(s2.Link)
	r2 := h.consumeLink("", d2.pre, u.Fragment)
	expectStatus(t, r2, "OK")
	if r2.body["createdNewRecipeUser"] != false || h.lastFactor() != FactorLinkPhone {
		t.Fatalf("second phone sign-in: %s (factor %s)", r2.Body, h.lastFactor())
	}
}

func TestEmailOrPhone(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactEmailOrPhone })
	h.startEmail("i@example.com")
	h.waitMail()
	h.start("", map[string]any{"phoneNumber": "+442071838750"})
	h.waitSMS()
	if got := h.pl.FactorIDs(); strings.Join(got, ",") != "otp-email,link-email,otp-phone,link-phone" {
		t.Fatalf("FactorIDs %v", got)
	}
}

func TestEmailExists(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/auth/passwordless/email/exists", "/auth/signup/email/exists"} {
		r := h.do("GET", path+"?email=j@example.com", "")
		if status(r) != "OK" || r.body["exists"] != false {
			t.Fatalf("%s: %d %s", path, r.Code, r.Body)
		}
	}
	if _, err := h.pl.SignInUp(t.Context(), "", EmailContact("J@example.com")); err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", "/auth/passwordless/email/exists?email=%20J@Example.com", "")
	if r.body["exists"] != true {
		t.Fatalf("%s", r.Body)
	}
	// Another tenant does not see it.
	r = h.do("GET", "/auth/other/passwordless/email/exists?email=j@example.com", "")
	if r.Code != 200 || r.body["exists"] != false {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
}

func TestTenants(t *testing.T) {
	h := newHarness(t, nil)
	d := h.start("acme", map[string]any{"email": "k@example.com"})
	m := h.waitMail()
	code, link := codeFrom(t, m)
	if u, _ := url.Parse(m.Link); u.Query().Get("tenantId") != "acme" {
		t.Fatalf("link %q", m.Link)
	}
	// The code belongs to its tenant.
	expectStatus(t, h.consumeCode(device{deviceID: d.deviceID, pre: d.pre}, code), "RESTART_FLOW_ERROR")
	expectStatus(t, h.consumeLink("", d.pre, link), "RESTART_FLOW_ERROR")
	r := h.consumeCode(d, code)
	expectStatus(t, r, "OK")
	if ids := r.body["user"].(map[string]any)["tenantIds"].([]any); len(ids) != 1 || ids[0] != "acme" {
		t.Fatalf("tenantIds %v", ids)
	}
	me := h.do("GET", "/me", "", "Authorization", "Bearer "+r.Header().Get("st-access-token"))
	if me.body["tenantId"] != "acme" {
		t.Fatalf("/me %s", me.Body)
	}
	// The same address in the default tenant is another user.
	d2 := h.startEmail("k@example.com")
	c2, _ := codeFrom(t, h.waitMail())
	r2 := h.consumeCode(d2, c2)
	expectStatus(t, r2, "OK")
	if r2.body["createdNewRecipeUser"] != true {
		t.Fatalf("%s", r2.Body)
	}
}

// A tenant that does not offer passwordless sign-in gets no code sent.
func TestCreateCodeRefusedWhenTenantDoesNotOfferIt(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{factors: []string{FactorOTPPhone},
		cfg: func(c *Config) { c.ContactMethod = ContactEmailOrPhone }})
	r := h.do("POST", "/auth/signinup/code", `{"email":"x@example.com"}`)
	if r.Code != 200 || r.body["status"] != StatusSignInUpNotAllowed ||
		r.body["reason"] != "signing in with link-email is not enabled for this tenant" {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	if n := len(h.mail.ch); n != 0 { // codes are sent before the answer
		t.Fatalf("%d e-mails sent for a refused flow", n)
	}
	var devices int64
	kit.Of(h.auth).DB().Model(&models.PasswordlessDevice{}).Count(&devices)
	if devices != 0 {
		t.Fatalf("%d devices made for a refused flow", devices)
	}
	// A factor the tenant does offer goes through.
	r = h.do("POST", "/auth/signinup/code", `{"phoneNumber":"+14155550123"}`)
	if r.Code != 200 || r.body["status"] != StatusOK {
		t.Fatalf("phone: %d %s", r.Code, r.Body)
	}
}
