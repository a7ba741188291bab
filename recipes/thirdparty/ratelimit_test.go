package thirdparty_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
)

// TestSignInUpRateLimit: each signinup costs calls to the provider, so a
// client address gets 60 a minute (ginauth's default for sign-ins); the
// next is refused with 429 before the provider is called.
func TestSignInUpRateLimit(t *testing.T) {
	h := newHarness(t, setup{defaultLimits: true})
	for i := range 60 {
		r := h.postJSON("/auth/signinup", signInUpBody("oidc", callback, map[string]any{"code": fmt.Sprintf("made-up-%d", i)}, ""))
		expectStatus(t, r, "GENERAL_ERROR")
	}
	calls := h.idp.TokenCalls()
	u, v := h.authURL("oidc", callback)
	body := signInUpBody("oidc", callback, h.authorize(u), v)
	r := h.postJSON("/auth/signinup", body)
	expectError(t, r, 429, "too many attempts, try again in 60 seconds")
	if got := r.Header().Get("Retry-After"); got != "60" {
		t.Fatalf("Retry-After %q", got)
	}
	if h.idp.TokenCalls() != calls {
		t.Fatal("a limited signinup called the provider")
	}
	if n := h.countUsers(); n != 0 {
		t.Fatalf("%d users", n)
	}
	// The code was not spent: from another address it still works.
	b, _ := json.Marshal(body)
	expectStatus(t, h.do("POST", "/auth/signinup", string(b), "X-Forwarded-For", "198.51.100.7"), "OK")
	h.clock.Advance(time.Minute)
	expectStatus(t, h.signIn(), "OK")
	if got := len(h.events.OfType(ginauth.EventSignInFailed)); got != 60 {
		t.Fatalf("%d sign-in failure events, want 60", got)
	}
}

// TestSignInUpEvents: sign-up, sign-in and failures reach Hooks.OnEvent
// with the provider named, and no code or token.
func TestSignInUpEvents(t *testing.T) {
	h := newHarness(t, setup{})
	u, v := h.authURL("oidc", callback)
	params := h.authorize(u)
	r := h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v))
	expectStatus(t, r, "OK")
	id := r.body["user"].(map[string]any)["id"].(string)
	up := h.events.One(t, ginauth.EventSignUp)
	if up.UserID != id || up.Account != "ann@example.com" || up.Detail != "thirdparty: oidc" || up.IP != "192.0.2.1" {
		t.Fatalf("sign-up event %+v", up)
	}
	expectStatus(t, h.signIn(), "OK")
	if in := h.events.One(t, ginauth.EventSignIn); in.UserID != id || in.Detail != "thirdparty: oidc" {
		t.Fatalf("sign-in event %+v", in)
	}
	// A replayed code fails at the provider.
	expectStatus(t, h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v)), "GENERAL_ERROR")
	if f := h.events.One(t, ginauth.EventSignInFailed); f.UserID != "" || f.Detail != "thirdparty: oidc" || f.IP != "192.0.2.1" {
		t.Fatalf("failure event %+v", f)
	}
	access, idToken, err := h.idp.MintTokens("")
	if err != nil {
		t.Fatal(err)
	}
	h.events.AssertNoSecret(t, params["code"].(string), v, clientSecret, access, idToken,
		r.Header().Get("st-access-token"), r.Header().Get("st-refresh-token"))
}
