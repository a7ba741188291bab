package emailpassword

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

func TestSignUpOK(t *testing.T) {
	h := newHarness(t, nil)
	r := h.signUp("  Ann@Example.COM ", "secret123")
	expectStatus(t, r, "OK")
	if r.Header().Get("st-access-token") == "" || r.Header().Get("st-refresh-token") == "" || r.Header().Get("front-token") == "" {
		t.Fatalf("no session headers: %v", r.Header())
	}
	u := r.body["user"].(map[string]any)
	lm := u["loginMethods"].([]any)[0].(map[string]any)
	if lm["recipeId"] != "emailpassword" || lm["email"] != "ann@example.com" || lm["recipeUserId"] != u["id"] {
		t.Fatalf("login method %v", lm)
	}
	if got, _ := json.Marshal(u["emails"]); string(got) != `["ann@example.com"]` {
		t.Fatalf("emails %s", got)
	}
	if got, _ := json.Marshal(u["tenantIds"]); string(got) != `["public"]` {
		t.Fatalf("tenantIds %s", got)
	}
	if u["timeJoined"].(float64) != float64(h.clock.Now().UnixMilli()) {
		t.Fatalf("timeJoined %v", u["timeJoined"])
	}
	sessions, err := h.auth.ListSessions(context.Background(), u["id"].(string))
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions %v %v", sessions, err)
	}
}

func TestSignUpTenants(t *testing.T) {
	h := newHarness(t, nil)
	h.mustSignUp("ann@example.com", "secret123")
	// Another tenant has its own set of addresses.
	r := h.do("POST", "/auth/acme/signup", ginauthtest.Form("email", "ann@example.com", "password", "secret123"))
	expectStatus(t, r, "OK")
	if got, _ := json.Marshal(r.body["user"].(map[string]any)["tenantIds"]); string(got) != `["acme"]` {
		t.Fatalf("tenantIds %s", got)
	}
	expectFieldError(t, h.do("POST", "/auth/acme/signup", ginauthtest.Form("email", "ANN@example.com", "password", "secret123")),
		"email", MsgEmailExists)
	if _, err := h.ep.SignIn(context.Background(), "acme", "ann@example.com", "secret123"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ep.SignIn(context.Background(), "other", "ann@example.com", "secret123"); !errors.Is(err, ErrWrongCredentials) {
		t.Fatalf("other tenant: %v", err)
	}
}

func TestSignUpStatuses(t *testing.T) {
	nameField := FormField{ID: "name", Validate: func(_ context.Context, v any, _ string) string {
		if s, ok := v.(string); !ok || len(s) < 2 {
			return "Name is too short"
		}
		return ""
	}}
	cases := []struct {
		name   string
		hooks  Hooks
		body   string
		status string
		fields []string // id, error pairs for FIELD_ERROR
		check  func(t *testing.T, r *resp)
	}{
		{name: "ok with custom fields", body: ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "Ann", "age", 41), status: "OK"},
		{name: "invalid email", body: ginauthtest.Form("email", "not-an-email", "password", "secret123", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"email", MsgEmailInvalid}},
		{name: "short password", body: ginauthtest.Form("email", "a@b.io", "password", "abc1", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"password", MsgPasswordTooShort}},
		{name: "long password", body: ginauthtest.Form("email", "a@b.io", "password", strings.Repeat("a1", 50), "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"password", MsgPasswordTooLong}},
		{name: "no letter", body: ginauthtest.Form("email", "a@b.io", "password", "12345678", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"password", MsgPasswordNoLetter}},
		{name: "no number", body: ginauthtest.Form("email", "a@b.io", "password", "abcdefgh", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"password", MsgPasswordNoNumber}},
		{name: "missing fields", body: ginauthtest.Form("name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"email", MsgFieldNotOptional, "password", MsgFieldNotOptional}},
		{name: "empty email", body: ginauthtest.Form("email", "   ", "password", "secret123", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"email", MsgFieldNotOptional}},
		{name: "required custom field missing", body: ginauthtest.Form("email", "a@b.io", "password", "secret123"),
			status: "FIELD_ERROR", fields: []string{"name", MsgFieldNotOptional}},
		{name: "custom validator", body: ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "A"),
			status: "FIELD_ERROR", fields: []string{"name", "Name is too short"}},
		{name: "existing email", body: ginauthtest.Form("email", "TAKEN@b.io", "password", "secret123", "name", "Ann"),
			status: "FIELD_ERROR", fields: []string{"email", MsgEmailExists}},
		{name: "vetoed", body: ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "Ann"), status: "SIGN_UP_NOT_ALLOWED",
			hooks: Hooks{BeforeSignUp: func(context.Context, *SignUpInput) error {
				return ginauth.NotAllowed("Sign-ups are closed (ERR_CODE_001)")
			}},
			check: func(t *testing.T, r *resp) {
				if r.body["reason"] != "Sign-ups are closed (ERR_CODE_001)" {
					t.Fatalf("reason %v", r.body["reason"])
				}
			}},
		{name: "general error", body: ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "Ann"), status: "GENERAL_ERROR",
			hooks: Hooks{BeforeSignUp: func(context.Context, *SignUpInput) error { return ginauth.GeneralError("Try tomorrow") }},
			check: func(t *testing.T, r *resp) {
				if r.body["message"] != "Try tomorrow" {
					t.Fatalf("message %v", r.body["message"])
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.SignUpFields = []FormField{nameField, {ID: "age", Optional: true}}
				c.Hooks = tc.hooks
			})
			if _, err := h.ep.SignUp(context.Background(), "", "taken@b.io", "secret123"); err != nil {
				t.Fatal(err)
			}
			r := h.do("POST", "/auth/signup", tc.body)
			if tc.status == "FIELD_ERROR" {
				expectFieldError(t, r, tc.fields...)
			} else {
				expectStatus(t, r, tc.status)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			want := int64(1)
			if tc.status == "OK" {
				want = 2
			}
			if n := h.count(&models.EmailPasswordUser{}); n != want {
				t.Fatalf("%d accounts, want %d", n, want)
			}
			if n := h.count(&models.User{}); n != want {
				t.Fatalf("%d users, want %d", n, want)
			}
		})
	}
}

func TestSignUpHooksSeeFieldsAndSetPayload(t *testing.T) {
	// SuperTokens' second-factor pattern: a claim set to false when the
	// session is created, required on protected routes.
	secondFactor := claims.NewBoolean("2fa-completed", func(context.Context, string, string) (bool, bool, error) {
		return false, false, nil
	})
	var gotFields map[string]any
	var h *harness
	h = newHarness(t, func(c *Config) {
		c.SignUpFields = []FormField{{ID: "name"}, {ID: "newsletter", Optional: true}}
		c.Hooks.BeforeSignUp = func(_ context.Context, in *SignUpInput) error {
			in.Fields["source"] = "web"
			return nil
		}
		c.Hooks.AfterSignUp = func(_ context.Context, u *ginauth.User, fields map[string]any) error {
			gotFields = fields
			return nil
		}
		c.Hooks.SessionPayload = func(_ context.Context, u *ginauth.User) (claims.Payload, error) {
			return secondFactor.Update(false, h.clock.Now()), nil
		}
	})
	r := h.do("POST", "/auth/signup", ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "Ann", "newsletter", true))
	expectStatus(t, r, "OK")
	want := map[string]any{"name": "Ann", "newsletter": true, "source": "web"}
	if g, _ := json.Marshal(gotFields); string(g) != mustJSON(want) {
		t.Fatalf("AfterSignUp fields %s", g)
	}
	raw, err := base64.StdEncoding.DecodeString(r.Header().Get("front-token"))
	if err != nil {
		t.Fatal(err)
	}
	var front struct {
		Up claims.Payload `json:"up"`
	}
	_ = json.Unmarshal(raw, &front)
	if v, ok := secondFactor.Get(front.Up); !ok || v {
		t.Fatalf("2fa-completed claim missing or true in %s", raw)
	}
	if err := secondFactor.IsTrue().Validate(front.Up, h.clock.Now()); err == nil {
		t.Fatal("IsTrue passed before the second factor")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestConcurrentSignUps: many sign-ups for one e-mail at once make one
// account; the others get the "already exists" FIELD_ERROR.
func TestConcurrentSignUps(t *testing.T) {
	const n = 6
	h := newHarness(t, func(c *Config) { c.MaxConcurrentHashes = n })
	// Hold every sign-up at its hash until all have passed the "does the
	// e-mail exist" pre-check, so that the unique index must decide.
	var arrived atomic.Int64
	allIn := make(chan struct{})
	h.ep.hasher.onHash = func(string) {
		if arrived.Add(1) == n {
			close(allIn)
		}
		select {
		case <-allIn:
		case <-time.After(5 * time.Second):
		}
	}
	results := make([]*resp, n)
	ginauthtest.Burst(n, func(i int) { results[i] = h.signUp("race@b.io", "secret123") })
	ok := 0
	for _, r := range results {
		switch {
		case status(r) == "OK":
			ok++
		case status(r) == "FIELD_ERROR":
			expectFieldError(t, r, "email", MsgEmailExists)
		default:
			t.Fatalf("unexpected answer %d %s", r.Code, r.Body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ups succeeded, want 1", ok)
	}
	if arrived.Load() != n {
		t.Fatalf("%d of %d sign-ups reached the hasher", arrived.Load(), n)
	}
	if a, u := h.count(&models.EmailPasswordUser{}), h.count(&models.User{}); a != 1 || u != 1 {
		t.Fatalf("%d accounts, %d users; want 1, 1 (no half-written rows)", a, u)
	}
}

// TestUniqueIndexMapsToEmailExists skips the pre-check, so that the
// database's unique violation itself is what answers (on every dialect).
func TestUniqueIndexMapsToEmailExists(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	if _, err := h.ep.insertAccount(ctx, "public", "dup@b.io", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ep.insertAccount(ctx, "public", "dup@b.io", "x"); !errors.Is(err, ErrEmailExists) {
		t.Fatalf("second insert: %v, want ErrEmailExists", err)
	}
	if u := h.count(&models.User{}); u != 1 {
		t.Fatalf("%d users: the failed insert left a user behind", u)
	}
}

func TestEmailExists(t *testing.T) {
	h := newHarness(t, nil)
	h.mustSignUp("ann@b.io", "secret123")
	for _, path := range []string{"/auth/emailpassword/email/exists", "/auth/signup/email/exists"} {
		cases := []struct {
			query  string
			code   int
			exists any
		}{
			{"?email=ann@b.io", 200, true},
			{"?email=%20ANN@B.IO%20", 200, true},
			{"?email=bob@b.io", 200, false},
			{"", 400, nil},
			{"?email=", 400, nil},
			{"?email=%ff", 400, nil},
		}
		for _, tc := range cases {
			r := h.do("GET", path+tc.query, "")
			if r.Code != tc.code {
				t.Fatalf("%s%s: %d %s", path, tc.query, r.Code, r.Body)
			}
			if tc.code == 200 && (status(r) != "OK" || r.body["exists"] != tc.exists) {
				t.Fatalf("%s%s: %s", path, tc.query, r.Body)
			}
			if tc.code == 400 && tc.query != "?email=%ff" && r.body["message"] != "Please provide the email as a GET param" {
				t.Fatalf("%s%s: %s", path, tc.query, r.Body)
			}
		}
	}
	if r := h.do("GET", "/auth/acme/emailpassword/email/exists?email=ann@b.io", ""); r.body["exists"] != false {
		t.Fatalf("other tenant: %s", r.Body)
	}
	h2 := newHarness(t, func(c *Config) { c.DisableEmailExistsAPI = true })
	if r := h2.do("GET", "/auth/emailpassword/email/exists?email=ann@b.io", ""); r.Code != 404 {
		t.Fatalf("disabled: %d", r.Code)
	}
}

func TestCommonPasswordsBlocked(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.BlockCommonPasswords = true })
	for _, pw := range []string{"password123", "Password1", "qwerty123", "iloveyou2024", "monkey123!"} {
		expectFieldError(t, h.signUp("a@b.io", pw), "password", MsgPasswordTooCommon)
	}
	expectStatus(t, h.signUp("a@b.io", "correct-horse-battery-9"), "OK")
	if IsCommonPassword("correct-horse-battery-9") || !IsCommonPassword("PASSWORD1") || !IsCommonPassword("123456789") {
		t.Fatal("IsCommonPassword")
	}
	if n := len(commonPasswords()); n < 1000 || n > 20000 {
		t.Fatalf("%d common passwords", n)
	}
}

// A ginauth.NotAllowed from any hook on the sign-up or sign-in path is
// answered with that route's FDI status and the reason, as BeforeSignUp's
// and BeforeSignIn's are.
func TestLateHookRefusalsUseFDIStatuses(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Hooks.AfterSignUp = func(ctx context.Context, u *ginauth.User, _ map[string]any) error {
			if strings.HasPrefix(u.Emails[0], "late") {
				return ginauth.NotAllowed("sign-ups from late@ are closed")
			}
			return nil
		}
		c.Hooks.SessionPayload = func(ctx context.Context, u *ginauth.User) (claims.Payload, error) {
			if strings.HasPrefix(u.Emails[0], "frozen") {
				return nil, ginauth.NotAllowed("this account is frozen")
			}
			return nil, nil
		}
	})
	r := h.signUp("late@b.io", "secret123")
	if r.body["status"] != StatusSignUpNotAllowed || r.body["reason"] != "sign-ups from late@ are closed" || r.Header().Get("front-token") != "" {
		t.Fatalf("AfterSignUp refusal: %d %s", r.Code, r.Body)
	}
	r = h.signUp("frozen@b.io", "secret123")
	if r.body["status"] != StatusSignUpNotAllowed || r.body["reason"] != "this account is frozen" {
		t.Fatalf("SessionPayload refusal at sign-up: %d %s", r.Code, r.Body)
	}
	r = h.signIn("frozen@b.io", "secret123")
	if r.body["status"] != StatusSignInNotAllowed || r.body["reason"] != "this account is frozen" || r.Header().Get("front-token") != "" {
		t.Fatalf("SessionPayload refusal at sign-in: %d %s", r.Code, r.Body)
	}
}
