package passwordless

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/smtptest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/kit"
)

// TestNoCodeInClear scans every row of the recipe's tables for the codes,
// the device id and the link code.
func TestNoCodeInClear(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("l@example.com")
	code1, link1 := codeFrom(t, h.waitMail())
	expectStatus(t, h.resend(d), "OK")
	code2, link2 := codeFrom(t, h.waitMail())
	secrets := []string{code1, code2, link1, link2, d.deviceID}
	// The base64url forms decoded, in case a column held raw bytes.
	for _, s := range []string{link1, link2, d.deviceID} {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, fmt.Sprintf("%x", raw), string(raw))
	}
	rows := 0
	for _, table := range models.PasswordlessTables() {
		var recs []map[string]any
		if err := kit.Of(h.auth).DB().Table(table).Find(&recs).Error; err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			rows++
			for col, v := range rec {
				cell := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					cell = string(b)
				}
				for _, s := range secrets {
					if s != "" && strings.Contains(cell, s) {
						t.Errorf("%s.%s holds a secret in the clear: %q", table, col, cell)
					}
				}
			}
		}
	}
	if rows != 3 { // one device, two codes
		t.Fatalf("scanned %d rows", rows)
	}
	// A 6-digit code cannot be found from the table alone: the stored hash
	// is keyed with the device id, which is not there.
	var stored models.PasswordlessCode
	if err := kit.Of(h.auth).DB().Where("pre_auth_session_id = ?", d.pre).Order("created_at").First(&stored).Error; err != nil {
		t.Fatal(err)
	}
	// Without the device id, guesses keyed with anything the database
	// holds (nothing, the pre-auth session id) match nothing.
	for _, key := range []string{"", d.pre} {
		for _, guess := range []string{code1, code2} {
			if codeHash(key, guess) == stored.CodeHash {
				t.Fatalf("the stored hash matches the code keyed with %q", key)
			}
		}
	}
	if codeHash(d.deviceID, code1) != stored.CodeHash && codeHash(d.deviceID, code2) != stored.CodeHash {
		t.Fatal("the stored hash is not the keyed hash of a sent code")
	}
	// Printing a Code does not show its secrets.
	c, err := h.pl.CreateCode(t.Context(), "", EmailContact("m@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(out, c.UserInputCode) || strings.Contains(out, c.LinkCode) || strings.Contains(out, c.DeviceID) {
			t.Fatalf("Code prints its secrets: %s", out)
		}
	}
}

func TestConcurrentConsumesOneSession(t *testing.T) {
	for _, viaLink := range []bool{false, true} {
		t.Run(fmt.Sprintf("link=%v", viaLink), func(t *testing.T) {
			h := newHarnessWith(t, harnessOpts{rateLimit: &ginauth.RateLimitConfig{Disabled: true}})
			d := h.startEmail("n@example.com")
			code, link := codeFrom(t, h.waitMail())
			const n = 12
			results := make(chan *resp, n)
			ginauthtest.Burst(n, func(int) {
				if viaLink {
					results <- h.consumeLink("", d.pre, link)
				} else {
					results <- h.consumeCode(d, code)
				}
			})
			close(results)
			ok := 0
			for r := range results {
				switch status(r) {
				case "OK":
					ok++
				case "RESTART_FLOW_ERROR":
				default:
					t.Errorf("unexpected answer %d %s", r.Code, r.Body)
				}
			}
			if ok != 1 {
				t.Fatalf("%d consumes succeeded", ok)
			}
			if s := h.count(&models.Session{}); s != 1 {
				t.Fatalf("%d sessions", s)
			}
			if u := h.count(&models.User{}); u != 1 {
				t.Fatalf("%d users", u)
			}
		})
	}
}

func TestConcurrentWrongGuessesStayWithinLimit(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{rateLimit: &ginauth.RateLimitConfig{Disabled: true}})
	d := h.startEmail("o@example.com")
	code, _ := codeFrom(t, h.waitMail())
	const n = 20
	results := make(chan *resp, n)
	ginauthtest.Burst(n, func(i int) {
		guess := fmt.Sprintf("%06d", i)
		if guess == code {
			guess = "999999"
		}
		results <- h.consumeCode(d, guess)
	})
	close(results)
	seen := map[int]bool{}
	incorrect := 0
	for r := range results {
		switch status(r) {
		case "INCORRECT_USER_INPUT_CODE_ERROR":
			incorrect++
			c := num(r, "failedCodeInputAttemptCount")
			if c < 1 || c > 4 || seen[c] {
				t.Errorf("attempt count %d (seen %v)", c, seen)
			}
			seen[c] = true
		case "RESTART_FLOW_ERROR":
		default:
			t.Errorf("unexpected %d %s", r.Code, r.Body)
		}
	}
	if incorrect != 4 {
		t.Fatalf("%d INCORRECT answers, want exactly 4 (the 5th locks the device)", incorrect)
	}
	expectStatus(t, h.consumeCode(d, code), "RESTART_FLOW_ERROR")
}

func TestRateLimits(t *testing.T) {
	t.Run("sending", func(t *testing.T) {
		h := newHarness(t, nil)
		for i := 0; i < 10; i++ {
			h.startEmail("p@example.com")
			h.waitMail()
		}
		r := h.do("POST", "/auth/signinup/code", `{"email":"p@example.com"}`)
		if r.Code != 429 || r.Header().Get("Retry-After") == "" {
			t.Fatalf("11th code in an hour: %d %s", r.Code, r.Body)
		}
		// Another address is not affected.
		h.startEmail("q@example.com")
		h.waitMail()
		h.clock.Advance(time.Hour + time.Second)
		h.startEmail("p@example.com")
		h.waitMail()
	})
	t.Run("code entry across devices", func(t *testing.T) {
		h := newHarness(t, nil)
		d := h.startEmail("r@example.com")
		code, _ := codeFrom(t, h.waitMail())
		for i := 0; i < 4; i++ {
			expectStatus(t, h.consumeCode(d, wrongCode(code)), "INCORRECT_USER_INPUT_CODE_ERROR")
		}
		expectStatus(t, h.consumeCode(d, wrongCode(code)), "RESTART_FLOW_ERROR")
		// Starting over does not buy fresh guesses at once.
		d2 := h.startEmail("r@example.com")
		code2, _ := codeFrom(t, h.waitMail())
		if r := h.consumeCode(d2, code2); r.Code != 429 {
			t.Fatalf("after 5 wrong codes: %d %s", r.Code, r.Body)
		}
		h.clock.Advance(15*time.Minute + time.Second)
		d3 := h.startEmail("r@example.com")
		code3, _ := codeFrom(t, h.waitMail())
		expectStatus(t, h.consumeCode(d3, code3), "OK")
	})
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, nil)
	d := h.startEmail("s@example.com")
	h.waitMail()
	type tc struct {
		name, method, path, body string
		code                     int
		msg                      string // substring of message (400) or GENERAL_ERROR message (200)
	}
	cases := []tc{
		{"empty body", "POST", "/auth/signinup/code", "", 400, "empty"},
		{"not JSON", "POST", "/auth/signinup/code", "{", 400, "JSON object"},
		{"array", "POST", "/auth/signinup/code", "[]", 400, "JSON object"},
		{"neither", "POST", "/auth/signinup/code", `{}`, 400, "exactly one of email or phoneNumber"},
		{"both", "POST", "/auth/signinup/code", `{"email":"a@b.co","phoneNumber":"+14155550123"}`, 400, "exactly one of email or phoneNumber"},
		{"phone when EMAIL", "POST", "/auth/signinup/code", `{"phoneNumber":"+14155550123"}`, 400, `contactMethod is "EMAIL"`},
		{"email number", "POST", "/auth/signinup/code", `{"email":5}`, 400, "email must be a string"},
		{"invalid email", "POST", "/auth/signinup/code", `{"email":"not-an-email"}`, 200, MsgEmailInvalid},
		{"blank email", "POST", "/auth/signinup/code", `{"email":"  "}`, 200, MsgEmailInvalid},
		{"sql-looking email", "POST", "/auth/signinup/code", `{"email":"a'; DROP TABLE ginauth_users;--@x.co"}`, 200, MsgEmailInvalid},
		{"huge email", "POST", "/auth/signinup/code", `{"email":"` + strings.Repeat("a", 2000) + `@x.co"}`, 400, "longer than"},
		{"linking flag not bool", "POST", "/auth/signinup/code", `{"email":"a@b.co","shouldTryLinkingWithSessionUser":"yes"}`, 400, "must be a boolean"},
		{"huge body", "POST", "/auth/signinup/code", `{"email":"a@b.co","pad":[` + strings.Repeat(`"aaaaaaaa",`, 2000) + `""]}`, 413, "larger than"},
		{"huge string", "POST", "/auth/signinup/code", `{"email":"` + strings.Repeat("a", 20000) + `"}`, 400, "longer than"},
		{"bad UTF-8", "POST", "/auth/signinup/code", "{\"email\":\"\xff@x.co\"}", 400, "UTF-8"},
		{"resend no device", "POST", "/auth/signinup/code/resend", `{"preAuthSessionId":"x"}`, 400, "Missing input param: deviceId"},
		{"resend no pre", "POST", "/auth/signinup/code/resend", `{"deviceId":"x"}`, 400, "Missing input param: preAuthSessionId"},
		{"consume no pre", "POST", "/auth/signinup/code/consume", `{"linkCode":"x"}`, 400, "Please provide preAuthSessionId"},
		{"consume nothing", "POST", "/auth/signinup/code/consume", `{"preAuthSessionId":"x"}`, 400, "either linkCode, or deviceId and userInputCode"},
		{"consume both", "POST", "/auth/signinup/code/consume", js(map[string]any{"preAuthSessionId": d.pre, "linkCode": "x", "deviceId": d.deviceID, "userInputCode": "1"}), 400, "not both"},
		{"consume half", "POST", "/auth/signinup/code/consume", js(map[string]any{"preAuthSessionId": d.pre, "userInputCode": "123456"}), 400, "both deviceId and userInputCode"},
		{"consume code number", "POST", "/auth/signinup/code/consume", js(map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID, "userInputCode": 123456}), 400, "userInputCode must be a string"},
		{"email exists no param", "GET", "/auth/passwordless/email/exists", "", 400, "Please provide the email as a GET param"},
		{"phone exists no param", "GET", "/auth/passwordless/phonenumber/exists", "", 400, "Please provide the phoneNumber as a GET param"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.count(&models.PasswordlessDevice{})
			r := h.do(c.method, c.path, c.body)
			if r.Code != c.code {
				t.Fatalf("got %d %s, want %d", r.Code, r.Body, c.code)
			}
			got := str(r, "message")
			if c.code == 200 && status(r) != "GENERAL_ERROR" {
				t.Fatalf("status %s", r.Body)
			}
			if !strings.Contains(got, c.msg) {
				t.Fatalf("message %q lacks %q", got, c.msg)
			}
			if after := h.count(&models.PasswordlessDevice{}); after != before {
				t.Fatalf("a refused request changed the devices (%d -> %d)", before, after)
			}
		})
	}
	// Made-up ids restart the flow; they are not errors.
	expectStatus(t, h.consumeLink("", "made-up", "x"), "RESTART_FLOW_ERROR")
	expectStatus(t, h.consumeCode(device{pre: d.pre, deviceID: "wrong"}, "123456"), "RESTART_FLOW_ERROR")
	expectStatus(t, h.consumeLink("", strings.Repeat("a", 200), "x"), "RESTART_FLOW_ERROR")

	hp := newHarness(t, func(c *Config) { c.ContactMethod = ContactPhone })
	for _, bad := range []string{"4155550123", "+0123456789", "+1", "+1415555012345678", "phone", "+1 415 555 O123"} {
		r := hp.do("POST", "/auth/signinup/code", js(map[string]any{"phoneNumber": bad}))
		if status(r) != "GENERAL_ERROR" || str(r, "message") != MsgPhoneInvalid {
			t.Fatalf("%q: %d %s", bad, r.Code, r.Body)
		}
	}
	r := hp.do("POST", "/auth/signinup/code", `{"email":"a@b.co"}`)
	if r.Code != 400 || !strings.Contains(str(r, "message"), `contactMethod is "PHONE"`) {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
}

func TestHooks(t *testing.T) {
	var mu sync.Mutex
	var calls []SignInUpInput
	var after []bool
	h := newHarness(t, func(c *Config) {
		c.Hooks.BeforeSignInUp = func(_ context.Context, in *SignInUpInput) error {
			mu.Lock()
			calls = append(calls, *in)
			mu.Unlock()
			switch {
			case in.Contact.Email == "banned@example.com":
				return ginauth.NotAllowed("This address is banned (ERR_CODE_001)")
			case in.Contact.Email == "late@example.com" && in.CodeVerified:
				return ginauth.NotAllowed("Sign-ups are closed")
			case in.Contact.Email == "general@example.com":
				return ginauth.GeneralError("Try later")
			}
			return nil
		}
		c.Hooks.AfterSignInUp = func(_ context.Context, u *ginauth.User, created bool) error {
			mu.Lock()
			after = append(after, created)
			mu.Unlock()
			return nil
		}
		c.Hooks.SessionPayload = func(_ context.Context, u *ginauth.User) (map[string]any, error) {
			return map[string]any{"plan": "pro"}, nil
		}
	})
	r := h.do("POST", "/auth/signinup/code", `{"email":"Banned@example.com"}`)
	expectStatus(t, r, "SIGN_IN_UP_NOT_ALLOWED")
	if str(r, "reason") != "This address is banned (ERR_CODE_001)" || len(h.mail.ch) != 0 {
		t.Fatalf("%s", r.Body)
	}
	r = h.do("POST", "/auth/signinup/code", `{"email":"general@example.com"}`)
	if status(r) != "GENERAL_ERROR" || str(r, "message") != "Try later" {
		t.Fatalf("%s", r.Body)
	}

	d := h.startEmail("late@example.com")
	code, _ := codeFrom(t, h.waitMail())
	r = h.consumeCode(d, code)
	expectStatus(t, r, "SIGN_IN_UP_NOT_ALLOWED")
	if n := h.count(&models.PasswordlessUser{}); n != 0 {
		t.Fatal("a vetoed sign-up created a user")
	}
	if n := h.count(&models.Session{}); n != 0 {
		t.Fatal("a vetoed sign-up created a session")
	}

	d = h.startEmail("fine@example.com")
	code, _ = codeFrom(t, h.waitMail())
	r = h.consumeCode(d, code)
	expectStatus(t, r, "OK")
	payload := decodeJWTPayload(t, r.Header().Get("st-access-token"))
	if payload["plan"] != "pro" {
		t.Fatalf("payload %v", payload)
	}
	d = h.startEmail("fine@example.com")
	code, _ = codeFrom(t, h.waitMail())
	expectStatus(t, h.consumeCode(d, code), "OK")

	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(after) != "[true false]" {
		t.Fatalf("AfterSignInUp created flags %v", after)
	}
	last := calls[len(calls)-1]
	if !last.CodeVerified || last.User == nil || last.TenantID != "public" || last.Contact.Email != "fine@example.com" {
		t.Fatalf("last BeforeSignInUp input %+v", last)
	}
	if calls[0].CodeVerified || calls[0].Contact.Email != "banned@example.com" {
		t.Fatalf("first BeforeSignInUp input %+v", calls[0])
	}
}

func decodeJWTPayload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendFailureLeavesNoUsableCode(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.EmailSender = emaildelivery.SenderFunc(func(context.Context, emaildelivery.Email) error {
			return errors.New("smtp down")
		})
	})
	r := h.do("POST", "/auth/signinup/code", `{"email":"t@example.com"}`)
	if status(r) != "GENERAL_ERROR" || str(r, "message") != MsgSendFailed || strings.Contains(r.Body.String(), "smtp down") {
		t.Fatalf("%s", r.Body)
	}
	if n := h.count(&models.PasswordlessCode{}); n != 0 {
		t.Fatalf("%d codes left after a failed send", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"contact method": {ContactMethod: "FAX"},
		"flow type":      {FlowType: "CARRIER_PIGEON"},
		"short codes":    {CodeDigits: 4},
		"long codes":     {CodeDigits: 13},
		"lifetime":       {CodeLifetime: -time.Second},
		"attempts":       {MaxCodeInputAttempts: -1},
		"sms template":   {SMSTemplate: "{{.Nope"},
		"sms field":      {SMSTemplate: "{{.Nope}}"},
		"email template": {EmailTemplate: emaildelivery.MustTemplate("{{.Missing}}", "", "")},
	} {
		t.Run(name, func(t *testing.T) {
			db := kit.Of(newHarness(t, nil).auth).DB()
			_, err := ginauth.New(ginauth.Config{DB: db, AppInfo: ginauth.AppInfo{AppName: "x", APIDomain: "http://localhost:1", WebsiteDomain: "http://localhost:2"},
				Recipes: []ginauth.Recipe{New(cfg)}})
			if !errors.Is(err, ginauth.ErrConfig) || !strings.Contains(err.Error(), "passwordless") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestCustomTemplatesAndCodeLength(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.ContactMethod = ContactEmailOrPhone
		c.CodeDigits = 8
		c.EmailTemplate = emaildelivery.MustTemplate("Code {{.Code}}", "Use {{.Code}} at {{.AppName}}", "")
		c.SMSTemplate = "{{.Code}}"
	})
	h.startEmail("u@example.com")
	m := h.waitMail()
	if len(m.Subject) != len("Code 12345678") || m.Text != "Use "+m.Subject[5:]+" at Test" {
		t.Fatalf("mail %q / %q", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, m.Subject[5:]) { // default HTML kept
		t.Fatal("the default HTML part was not used")
	}
	h.start("", map[string]any{"phoneNumber": "+14155550100"})
	s := h.waitSMS()
	if len(s.Body) != 8 || s.Body != s.Code {
		t.Fatalf("sms %q", s.Body)
	}
}

// TestSMTP sends the code e-mail through the real SMTP sender to a real
// (in-process) SMTP server and signs in with what arrives.
func TestSMTP(t *testing.T) {
	srv := smtptest.Start(t)
	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{Host: srv.Host(), Port: srv.Port(),
		From: "Test <auth@example.com>", Username: "user", Password: "pass", TLSConfig: srv.ClientTLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.EmailSender = sender })

	// Code typed in the browser that asked for it.
	d := h.startEmail("v@example.com")
	m := srv.WaitForMessage(t, 5*time.Second)
	if !m.TLS || len(m.To) != 1 || m.To[0] != "v@example.com" || m.ParseError != nil {
		t.Fatalf("message over TLS %v to %v: %v", m.TLS, m.To, m.ParseError)
	}
	code := sixDigits.FindString(m.Text)
	if code == "" || !strings.Contains(m.Subject, code) || !strings.Contains(m.HTML, code) {
		t.Fatalf("no code in the message: %q\n%s", m.Subject, m.Text)
	}
	expectStatus(t, h.consumeCode(d, code), "OK")

	// Magic link opened anywhere.
	d2 := h.startEmail("w@example.com")
	m2 := srv.WaitForMessage(t, 5*time.Second)
	links := m2.Links()
	if len(links) != 1 {
		t.Fatalf("links %v", links)
	}
	u, err := url.Parse(links[0])
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("preAuthSessionId") != d2.pre {
		t.Fatalf("link %s", links[0])
	}
	r := h.consumeLink(u.Query().Get("tenantId"), u.Query().Get("preAuthSessionId"), u.Fragment)
	expectStatus(t, r, "OK")
	if h.lastFactor() != FactorLinkEmail {
		t.Fatalf("factor %s", h.lastFactor())
	}
}

// TestEmailVerificationAgrees checks that a passwordless sign-in marks the
// address verified for the emailverification recipe, so its st-ev claim
// (required by default) lets the user in.
func TestEmailVerificationAgrees(t *testing.T) {
	ev := emailverification.New(emailverification.Config{EmailSender: emaildelivery.SenderFunc(func(context.Context, emaildelivery.Email) error { return nil })})
	h := newHarnessWith(t, harnessOpts{recipes: []ginauth.Recipe{ev}})
	d := h.startEmail("x@example.com")
	code, _ := codeFrom(t, h.waitMail())
	r := h.consumeCode(d, code)
	expectStatus(t, r, "OK")
	if v := decodeJWTPayload(t, r.Header().Get("st-access-token"))[emailverification.ClaimKey]; v == nil || v.(map[string]any)["v"] != true {
		t.Fatalf("st-ev = %v", v)
	}
	me := h.do("GET", "/me", "", "Authorization", "Bearer "+r.Header().Get("st-access-token"))
	if me.Code != 200 {
		t.Fatalf("/me %d %s", me.Code, me.Body)
	}
}
