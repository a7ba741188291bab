package emailpassword

import (
	"context"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

func TestSignInStatuses(t *testing.T) {
	cases := []struct {
		name   string
		hooks  Hooks
		body   string
		status string
		fields []string
		dummy  int64 // dummy hashes expected
	}{
		{name: "ok", body: ginauthtest.Form("email", "ann@b.io", "password", "secret123"), status: "OK"},
		{name: "ok, other case and spaces", body: ginauthtest.Form("email", " ANN@b.io", "password", "secret123"), status: "OK"},
		{name: "wrong password", body: ginauthtest.Form("email", "ann@b.io", "password", "secret124"), status: "WRONG_CREDENTIALS_ERROR"},
		{name: "unknown email", body: ginauthtest.Form("email", "bob@b.io", "password", "secret123"), status: "WRONG_CREDENTIALS_ERROR", dummy: 1},
		{name: "very long password", body: ginauthtest.Form("email", "ann@b.io", "password", strings.Repeat("x", 2000)), status: "WRONG_CREDENTIALS_ERROR"},
		{name: "invalid email", body: ginauthtest.Form("email", "ann", "password", "secret123"),
			status: "FIELD_ERROR", fields: []string{"email", MsgEmailInvalid}},
		{name: "missing password", body: ginauthtest.Form("email", "ann@b.io"),
			status: "FIELD_ERROR", fields: []string{"password", MsgFieldNotOptional}},
		// The policy is not applied at sign-in: old accounts keep working.
		{name: "weak password is only wrong", body: ginauthtest.Form("email", "ann@b.io", "password", "x"), status: "WRONG_CREDENTIALS_ERROR"},
		{name: "vetoed", body: ginauthtest.Form("email", "ann@b.io", "password", "secret123"), status: "SIGN_IN_NOT_ALLOWED",
			hooks: Hooks{BeforeSignIn: func(_ context.Context, in *SignInInput) error {
				if in.User == nil || in.Email != "ann@b.io" {
					return nil
				}
				return ginauth.NotAllowed("Account suspended")
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Hooks = tc.hooks })
			id := h.mustSignUp("ann@b.io", "secret123")
			sessionsBefore, _ := h.auth.ListSessions(context.Background(), id)
			r := h.do("POST", "/auth/signin", tc.body)
			if tc.status == "FIELD_ERROR" {
				expectFieldError(t, r, tc.fields...)
			} else {
				expectStatus(t, r, tc.status)
			}
			sessions, _ := h.auth.ListSessions(context.Background(), id)
			grew := len(sessions) - len(sessionsBefore)
			if (tc.status == "OK") != (grew == 1) {
				t.Fatalf("status %s but %d new sessions", tc.status, grew)
			}
			if tc.status == "OK" {
				if r.body["user"].(map[string]any)["id"] != id {
					t.Fatalf("user %v", r.body["user"])
				}
				me := h.do("GET", "/me", "", "Authorization", "Bearer "+r.Header().Get("st-access-token"))
				if me.Code != 200 || me.body["userId"] != id {
					t.Fatalf("/me: %d %s", me.Code, me.Body)
				}
			}
			if tc.status == "SIGN_IN_NOT_ALLOWED" && r.body["reason"] != "Account suspended" {
				t.Fatalf("reason %v", r.body["reason"])
			}
			if got := h.counter("dummy").Load(); got != tc.dummy {
				t.Fatalf("%d dummy hashes, want %d", got, tc.dummy)
			}
		})
	}
}

// TestUnknownEmailCostsAHash: signing in with an unknown e-mail does the
// same hashing work as a wrong password (counted, not timed).
func TestUnknownEmailCostsAHash(t *testing.T) {
	h := newHarness(t, nil)
	h.mustSignUp("ann@b.io", "secret123")
	base := h.counter("argon2id").Load()
	expectStatus(t, h.signIn("ann@b.io", "wrong-pw-1"), "WRONG_CREDENTIALS_ERROR")
	if got := h.counter("argon2id").Load() - base; got != 1 {
		t.Fatalf("wrong password: %d hashes", got)
	}
	expectStatus(t, h.signIn("nobody@b.io", "wrong-pw-1"), "WRONG_CREDENTIALS_ERROR")
	if got := h.counter("dummy").Load(); got != 1 {
		t.Fatalf("unknown e-mail: %d dummy hashes, want 1", got)
	}
	// The dummy hash uses the configured parameters, so it costs the same.
	ph, err := parseHash(h.ep.hasher.dummy)
	if err != nil || h.ep.hasher.needsRehash(ph) {
		t.Fatalf("dummy hash %q does not use the configured parameters (%v)", h.ep.hasher.dummy, err)
	}
}

func TestSignInGoAPI(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	u, err := h.ep.SignUp(ctx, "", "Ann@B.io", "secret123")
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.ep.SignIn(ctx, ginauth.DefaultTenant, "ann@b.io", "secret123")
	if err != nil || got.ID != u.ID {
		t.Fatalf("SignIn: %v %v", got, err)
	}
	byEmail, err := h.ep.GetUserByEmail(ctx, "", " ANN@b.io")
	if err != nil || byEmail.ID != u.ID {
		t.Fatalf("GetUserByEmail: %v %v", byEmail, err)
	}
	if _, err := h.ep.GetUserByEmail(ctx, "", "bob@b.io"); err != ErrUnknownUser {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := h.ep.SignUp(ctx, "", "ann@b.io", "secret123"); err != ErrEmailExists {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := h.ep.SignUp(ctx, "", "bob@b.io", "short"); err == nil || err.(*FieldError).Message != MsgPasswordTooShort {
		t.Fatalf("weak: %v", err)
	}
	if _, err := New(Config{}).SignIn(ctx, "", "a@b.io", "x"); err != ErrNotSetUp {
		t.Fatalf("not set up: %v", err)
	}
}

func TestListUsersFindsEmailPasswordUsersByEmail(t *testing.T) {
	h := newHarness(t, nil)
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		if _, err := h.ep.SignUp(t.Context(), "public", email, "Passw0rd!x"); err != nil {
			t.Fatal(err)
		}
	}
	users, _, err := h.auth.ListUsers(t.Context(), ginauth.ListUsersOptions{Email: " Bob@Example.com "})
	if err != nil || len(users) != 1 || users[0].Emails[0] != "bob@example.com" {
		t.Fatalf("ListUsers by e-mail: %+v, %v", users, err)
	}
}
