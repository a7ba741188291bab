package thirdparty_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

func TestAuthorisationURL(t *testing.T) {
	h := newHarness(t, setup{})
	q := url.Values{"thirdPartyId": {"oidc"}, "redirectURIOnProviderDashboard": {callback}}
	r := h.do("GET", "/auth/authorisationurl?"+q.Encode(), "")
	expectStatus(t, r, "OK")
	u, err := url.Parse(r.body["urlWithQueryParams"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != h.idp.AuthURL() {
		t.Fatalf("authorisation endpoint %s, want %s (from discovery)", got, h.idp.AuthURL())
	}
	p := u.Query()
	verifier, _ := r.body["pkceCodeVerifier"].(string)
	for k, want := range map[string]string{"client_id": clientID, "redirect_uri": callback, "response_type": "code",
		"scope": "openid email profile", "code_challenge_method": "S256"} {
		if p.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, p.Get(k), want)
		}
	}
	if verifier == "" || len(verifier) < 43 {
		t.Fatalf("pkceCodeVerifier %q", verifier)
	}
	if p.Get("code_challenge") == "" || p.Get("code_challenge") == verifier {
		t.Fatalf("code_challenge %q must be S256 of the verifier", p.Get("code_challenge"))
	}
	if p.Get("nonce") == "" || strings.Contains(p.Get("nonce"), verifier) {
		t.Fatalf("nonce %q", p.Get("nonce"))
	}
	if p.Has("state") {
		t.Fatal("the backend must leave state to the frontend")
	}
	// Each call gets its own verifier.
	r2 := h.do("GET", "/auth/authorisationurl?"+q.Encode(), "")
	if r2.body["pkceCodeVerifier"] == verifier {
		t.Fatal("verifier reused")
	}
}

func TestFullFlow(t *testing.T) {
	h := newHarness(t, setup{})
	r := h.signIn()
	expectStatus(t, r, "OK")
	if r.body["createdNewRecipeUser"] != true {
		t.Fatalf("createdNewRecipeUser: %s", r.Body)
	}
	user := r.body["user"].(map[string]any)
	id := user["id"].(string)
	lms := user["loginMethods"].([]any)
	if len(lms) != 1 {
		t.Fatalf("loginMethods: %v", lms)
	}
	lm := lms[0].(map[string]any)
	tp := lm["thirdParty"].(map[string]any)
	if lm["recipeId"] != "thirdparty" || lm["recipeUserId"] != id || tp["id"] != "oidc" || tp["userId"] != "user-1" || lm["email"] != "ann@example.com" {
		t.Fatalf("login method: %v", lm)
	}
	if got := user["thirdParty"].([]any); len(got) != 1 {
		t.Fatalf("user.thirdParty: %v", got)
	}
	if emails := user["emails"].([]any); len(emails) != 1 || emails[0] != "ann@example.com" {
		t.Fatalf("emails: %v", emails)
	}
	if ts := user["tenantIds"].([]any); len(ts) != 1 || ts[0] != "public" {
		t.Fatalf("tenantIds: %v", ts)
	}
	// A session came with it, in header mode.
	access := r.Header().Get("st-access-token")
	if access == "" || r.Header().Get("st-refresh-token") == "" || r.Header().Get("front-token") == "" {
		t.Fatalf("no session headers: %v", r.Header())
	}
	me := h.do("GET", "/me", "", "Authorization", "Bearer "+access)
	if me.Code != 200 || me.body["userId"] != id {
		t.Fatalf("/me: %d %s", me.Code, me.Body)
	}
	if len(h.verified) != 1 || h.verified[0] != id+" ann@example.com" {
		t.Fatalf("OnVerifiedEmail calls: %v", h.verified)
	}

	// Second sign-in of the same account: same user, not new.
	r2 := h.signIn()
	expectStatus(t, r2, "OK")
	if r2.body["createdNewRecipeUser"] != false || r2.body["user"].(map[string]any)["id"] != id {
		t.Fatalf("second sign-in: %s", r2.Body)
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}

	// The Go API sees the same account.
	ctx := context.Background()
	u, err := h.tp.GetUserByThirdPartyInfo(ctx, "public", "oidc", "user-1")
	if err != nil || u.ID != id {
		t.Fatalf("GetUserByThirdPartyInfo: %v %v", u, err)
	}
	us, err := h.tp.GetUsersByEmail(ctx, "", "ANN@example.com")
	if err != nil || len(us) != 1 || us[0].ID != id {
		t.Fatalf("GetUsersByEmail: %v %v", us, err)
	}
}

func TestCookieMode(t *testing.T) {
	h := newHarness(t, setup{})
	u, v := h.authURL("oidc", callback)
	params := h.authorize(u)
	r := h.do("POST", "/auth/signinup", mustJSON(t, signInUpBody("oidc", callback, params, v)), "st-auth-mode", "cookie")
	expectStatus(t, r, "OK")
	var names []string
	for _, c := range r.Result().Cookies() {
		names = append(names, c.Name)
	}
	if !strings.Contains(strings.Join(names, ","), ginauth.CookieAccessToken) {
		t.Fatalf("cookies %v", names)
	}
}

// TestRefused covers what must fail: each case ends in GENERAL_ERROR (the
// provider or its token is not to be trusted) and stores nothing.
func TestRefused(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(h *harness)
		run     func(h *harness) *resp
		message string // in the answer
		cause   string // in the log
	}{
		{name: "wrong redirect URI at the exchange", run: func(h *harness) *resp {
			u, v := h.authURL("oidc", callback)
			params := h.authorize(u)
			return h.postJSON("/auth/signinup", signInUpBody("oidc", website+"/other-callback", params, v))
		}, cause: "redirect_uri does not match"},
		{name: "missing PKCE verifier", run: func(h *harness) *resp {
			u, _ := h.authURL("oidc", callback)
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, h.authorize(u), ""))
		}, cause: "PKCE verification failed"},
		{name: "another flow's PKCE verifier", run: func(h *harness) *resp {
			u, _ := h.authURL("oidc", callback)
			_, other := h.authURL("oidc", callback)
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, h.authorize(u), other))
		}, cause: "PKCE verification failed"},
		{name: "bad nonce", prepare: func(h *harness) { h.idp.SetTamper(oidctest.Tamper{Nonce: "attacker-nonce"}) }, message: "could not be verified", cause: "nonce does not match"},
		{name: "ID token signed by another key", prepare: func(h *harness) { h.idp.SetTamper(oidctest.Tamper{WrongKey: true}) }, message: "could not be verified", cause: "signature does not verify"},
		{name: "wrong audience", prepare: func(h *harness) { h.idp.SetTamper(oidctest.Tamper{Audience: "someone-else"}) }, message: "could not be verified", cause: "audience"},
		{name: "wrong issuer", prepare: func(h *harness) { h.idp.SetTamper(oidctest.Tamper{Issuer: "https://evil.example"}) }, message: "could not be verified", cause: "issuer"},
		{name: "expired ID token", prepare: func(h *harness) { h.idp.SetTamper(oidctest.Tamper{Expired: true}) }, message: "could not be verified", cause: "expired at"},
		{name: "expired code", run: func(h *harness) *resp {
			u, v := h.authURL("oidc", callback)
			params := h.authorize(u)
			h.clock.Advance(2 * time.Minute)
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v))
		}, cause: "code expired"},
		{name: "provider down at the exchange", run: func(h *harness) *resp {
			u, v := h.authURL("oidc", callback)
			params := h.authorize(u)
			h.idp.SetDown(true)
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v))
		}, message: "could not be reached", cause: "503"},
		{name: "provider gone", run: func(h *harness) *resp {
			u, v := h.authURL("oidc", callback)
			params := h.authorize(u)
			h.idp.Close()
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, params, v))
		}, message: "could not be reached", cause: "connection refused"},
		{name: "provider error in the callback", run: func(h *harness) *resp {
			return h.postJSON("/auth/signinup", signInUpBody("oidc", callback, map[string]any{"error": "access_denied", "state": "x"}, ""))
		}, cause: "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, setup{})
			if tc.prepare != nil {
				tc.prepare(h)
			}
			run := tc.run
			if run == nil {
				run = (*harness).signIn
			}
			r := run(h)
			expectStatus(t, r, "GENERAL_ERROR")
			msg, _ := r.body["message"].(string)
			if !strings.Contains(msg, "oidc") || !strings.Contains(msg, tc.message) {
				t.Fatalf("message %q should name the provider and say %q", msg, tc.message)
			}
			if !strings.Contains(h.logs.String(), tc.cause) {
				t.Fatalf("log should name the cause %q:\n%s", tc.cause, h.logs.String())
			}
			if r.Header().Get("st-access-token") != "" {
				t.Fatal("a session was created")
			}
			if n := h.countUsers(); n != 0 {
				t.Fatalf("%d users stored", n)
			}
		})
	}
}

func TestReplayedCode(t *testing.T) {
	h := newHarness(t, setup{})
	u, v := h.authURL("oidc", callback)
	params := h.authorize(u)
	body := signInUpBody("oidc", callback, params, v)
	expectStatus(t, h.postJSON("/auth/signinup", body), "OK")
	r := h.postJSON("/auth/signinup", body)
	expectStatus(t, r, "GENERAL_ERROR")
	if r.Header().Get("st-access-token") != "" {
		t.Fatal("a replayed code created a session")
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}
	if !strings.Contains(h.logs.String(), "code already used") {
		t.Fatalf("the provider should have refused the replay:\n%s", h.logs.String())
	}
}

func TestProviderDownAtAuthorisationURL(t *testing.T) {
	h := newHarness(t, setup{})
	h.idp.SetDown(true) // discovery has not been fetched yet
	q := url.Values{"thirdPartyId": {"oidc"}, "redirectURIOnProviderDashboard": {callback}}
	r := h.do("GET", "/auth/authorisationurl?"+q.Encode(), "")
	expectStatus(t, r, "GENERAL_ERROR")
	h.idp.SetDown(false)
	expectStatus(t, h.do("GET", "/auth/authorisationurl?"+q.Encode(), ""), "OK")
}

func TestUnverifiedEmail(t *testing.T) {
	h := newHarness(t, setup{user: &oidctest.User{Subject: "u2", Email: "bob@example.com", EmailVerified: false}})
	r := h.signIn()
	expectStatus(t, r, "OK")
	if len(h.verified) != 0 {
		t.Fatalf("an unverified e-mail was reported verified: %v", h.verified)
	}
	lm := r.body["user"].(map[string]any)["loginMethods"].([]any)[0].(map[string]any)
	if lm["verified"] != false {
		t.Fatalf("login method: %v", lm)
	}
}

func TestNoEmail(t *testing.T) {
	h := newHarness(t, setup{user: &oidctest.User{Subject: "u3"}})
	expectStatus(t, h.signIn(), "NO_EMAIL_GIVEN_BY_PROVIDER")
	if n := h.countUsers(); n != 0 {
		t.Fatalf("%d users", n)
	}

	// With EmailOptional the account signs in without one.
	h2 := newHarness(t, setup{user: &oidctest.User{Subject: "u3"}, providers: func(idp *oidctest.Server) []thirdparty.Provider {
		p := defaultProviders(idp)
		p[0].EmailOptional = true
		return p
	}})
	r := h2.signIn()
	expectStatus(t, r, "OK")
	if emails := r.body["user"].(map[string]any)["emails"].([]any); len(emails) != 0 {
		t.Fatalf("emails %v", emails)
	}
}

func TestHooks(t *testing.T) {
	var after []thirdparty.SignInUpResult
	h := newHarness(t, setup{cfg: func(c *thirdparty.Config) {
		c.Hooks.BeforeSignInUp = func(_ context.Context, in thirdparty.SignInUpInfo) error {
			if in.UserInfo.Email == "later@other.test" {
				return ginauth.GeneralError("Try again tomorrow")
			}
			if !strings.HasSuffix(in.UserInfo.Email, "@example.com") {
				return ginauth.NotAllowed("Only example.com accounts may sign in (ERR_CODE_TP_1)")
			}
			if in.Tokens.AccessToken == "" || in.UserInfo.FromIDToken["name"] != "Ann" {
				return errors.New("hook did not see the tokens and claims")
			}
			return nil
		}
		c.Hooks.AfterSignInUp = func(_ context.Context, res thirdparty.SignInUpResult) error {
			after = append(after, res)
			return nil
		}
	}})
	expectStatus(t, h.signIn(), "OK")
	if len(after) != 1 || !after[0].CreatedNewRecipeUser || after[0].User == nil || after[0].Existing != nil {
		t.Fatalf("AfterSignInUp: %+v", after)
	}
	expectStatus(t, h.signIn(), "OK")
	if len(after) != 2 || after[1].CreatedNewRecipeUser || after[1].Existing == nil {
		t.Fatalf("AfterSignInUp on sign-in: %+v", after[1])
	}

	h.idp.SetUser(oidctest.User{Subject: "mallory", Email: "mallory@evil.test", EmailVerified: true})
	r := h.signIn()
	expectStatus(t, r, "SIGN_IN_UP_NOT_ALLOWED")
	if r.body["reason"] != "Only example.com accounts may sign in (ERR_CODE_TP_1)" {
		t.Fatalf("reason: %s", r.Body)
	}
	if r.Header().Get("st-access-token") != "" {
		t.Fatal("vetoed sign-in got a session")
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}

	h.idp.SetUser(oidctest.User{Subject: "later", Email: "later@other.test", EmailVerified: true})
	r = h.signIn()
	expectStatus(t, r, "GENERAL_ERROR")
	if r.body["message"] != "Try again tomorrow" || r.Header().Get("st-access-token") != "" {
		t.Fatalf("general error: %s", r.Body)
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}
}

func TestOAuthTokens(t *testing.T) {
	h := newHarness(t, setup{})
	access, idt, err := h.idp.MintTokens("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tokens map[string]any
	}{
		{"both", map[string]any{"access_token": access, "id_token": idt}},
		{"id token only", map[string]any{"id_token": idt}},
		{"access token only", map[string]any{"access_token": access}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": tc.tokens})
			expectStatus(t, r, "OK")
			if r.Header().Get("st-access-token") == "" {
				t.Fatal("no session")
			}
		})
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}

	t.Run("ID token for another client", func(t *testing.T) {
		h.idp.SetTamper(oidctest.Tamper{Audience: "other-app"})
		defer h.idp.SetTamper(oidctest.Tamper{})
		_, bad, _ := h.idp.MintTokens("")
		expectStatus(t, h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": map[string]any{"id_token": bad}}), "GENERAL_ERROR")
	})
	t.Run("expired by the injected clock", func(t *testing.T) {
		_, idt, _ := h.idp.MintTokens("")
		h.clock.Advance(2 * time.Hour) // ID tokens live one hour
		expectStatus(t, h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": map[string]any{"id_token": idt}}), "GENERAL_ERROR")
	})
	t.Run("unknown access token", func(t *testing.T) {
		expectStatus(t, h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": map[string]any{"access_token": "forged"}}), "GENERAL_ERROR")
	})
	t.Run("forged unsigned token", func(t *testing.T) {
		forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
		expectStatus(t, h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": map[string]any{"id_token": forged}}), "GENERAL_ERROR")
	})
}

func TestKeyRotation(t *testing.T) {
	h := newHarness(t, setup{})
	expectStatus(t, h.signIn(), "OK")
	if n := h.idp.JWKSFetches(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
	expectStatus(t, h.signIn(), "OK")
	if n := h.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS not cached: %d fetches", n)
	}

	h.idp.RotateKeys(false)
	// Within a minute of the last fetch an unknown kid is refused without
	// asking the provider again: junk tokens cannot make us hammer it.
	expectStatus(t, h.signIn(), "GENERAL_ERROR")
	expectStatus(t, h.signIn(), "GENERAL_ERROR")
	if n := h.idp.JWKSFetches(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1 (rate-limited)", n)
	}
	h.clock.Advance(2 * time.Minute)
	expectStatus(t, h.signIn(), "OK") // unknown kid: one re-fetch finds the new key
	if n := h.idp.JWKSFetches(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}
}

func TestTenants(t *testing.T) {
	h := newHarness(t, setup{})
	expectStatus(t, h.signIn(), "OK")
	u, v := h.authURL("oidc", callback)
	r := h.postJSON("/auth/acme/signinup", signInUpBody("oidc", callback, h.authorize(u), v))
	expectStatus(t, r, "OK")
	user := r.body["user"].(map[string]any)
	if r.body["createdNewRecipeUser"] != true || user["tenantIds"].([]any)[0] != "acme" {
		t.Fatalf("tenant sign-in: %s", r.Body)
	}
	if _, err := h.tp.GetUserByThirdPartyInfo(context.Background(), "acme", "oidc", "user-1"); err != nil {
		t.Fatal(err)
	}
	if n := h.countAccounts(); n != 2 {
		t.Fatalf("%d accounts, want one per tenant", n)
	}
}

func TestGoAPI(t *testing.T) {
	h := newHarness(t, setup{})
	ctx := context.Background()
	u, created, err := h.tp.SignInUp(ctx, "", "oidc", "go-1", " Carol@Example.COM ", true)
	if err != nil || !created {
		t.Fatalf("SignInUp: %v %v", created, err)
	}
	if u.LoginMethods[0].Email != "carol@example.com" || u.LoginMethods[0].ThirdParty.UserID != "go-1" {
		t.Fatalf("user %+v", u.LoginMethods[0])
	}
	if len(h.verified) != 1 {
		t.Fatalf("OnVerifiedEmail: %v", h.verified)
	}
	// A new e-mail from the provider is stored; the account stays the same.
	u2, created, err := h.tp.SignInUp(ctx, "public", "oidc", "go-1", "carol@new.example", false)
	if err != nil || created || u2.ID != u.ID || u2.Emails[0] != "carol@new.example" {
		t.Fatalf("second SignInUp: %+v %v %v", u2, created, err)
	}
	// Another provider reporting the same address is another user: accounts
	// are never merged on e-mail.
	u3, created, err := h.tp.SignInUp(ctx, "public", "other", "x", "carol@new.example", false)
	if err != nil || !created || u3.ID == u.ID {
		t.Fatalf("other provider: %v %v", created, err)
	}
	users, err := h.tp.GetUsersByEmail(ctx, "public", "CAROL@new.example")
	if err != nil || len(users) != 2 {
		t.Fatalf("GetUsersByEmail: %d %v", len(users), err)
	}
	// ListUsers' e-mail filter finds provider accounts too (the recipe
	// registers kit.EmailLookup), in any tenant, case-insensitively.
	listed, _, err := h.auth.ListUsers(ctx, ginauth.ListUsersOptions{Email: " Carol@NEW.example "})
	if err != nil || len(listed) != 2 {
		t.Fatalf("ListUsers by e-mail: %d %v", len(listed), err)
	}
	if _, err := h.tp.GetUserByThirdPartyInfo(ctx, "public", "oidc", "nobody"); !errors.Is(err, ginauth.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	if _, _, err := h.tp.SignInUp(ctx, "public", "oidc", "", "a@b.c", false); !errors.Is(err, ginauth.ErrBadRequest) {
		t.Fatalf("empty user id: %v", err)
	}
	// Deleting the user removes the account.
	if ok, err := h.auth.DeleteUser(ctx, u.ID); err != nil || !ok {
		t.Fatalf("DeleteUser: %v %v", ok, err)
	}
	if _, err := h.tp.GetUserByThirdPartyInfo(ctx, "public", "oidc", "go-1"); !errors.Is(err, ginauth.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if n := h.countAccounts(); n != 1 {
		t.Fatalf("%d accounts", n)
	}

	if _, _, err := thirdparty.New(thirdparty.Config{}).SignInUp(ctx, "", "a", "b", "", false); !errors.Is(err, thirdparty.ErrNotSetUp) {
		t.Fatalf("not set up: %v", err)
	}
}

func TestConcurrentFirstSignIn(t *testing.T) {
	h := newHarness(t, setup{})
	const n = 6
	ids := make([]string, n)
	errs := make([]error, n)
	ginauthtest.Burst(n, func(i int) {
		u, _, err := h.tp.SignInUp(context.Background(), "public", "oidc", "race", "race@example.com", false)
		errs[i] = err
		if u != nil {
			ids[i] = u.ID
		}
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("sign-in %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("two users for one account: %v", ids)
		}
	}
	if c, u := h.countAccounts(), h.countUsers(); c != 1 || u != 1 {
		t.Fatalf("%d accounts, %d users: a lost race must leave nothing behind", c, u)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzSignInUpBody: whatever the body, the answer is a 200 business status
// or a 400, never a 5xx or a panic, and no body is ever stored as a user
// without a provider's word.
func FuzzSignInUpBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"thirdPartyId":"oidc"}`, `{"thirdPartyId":"oidc","oAuthTokens":{"id_token":"a.b.c"}}`,
		`{"thirdPartyId":"oidc","redirectURIInfo":{"redirectURIOnProviderDashboard":"x","redirectURIQueryParams":{"code":"c"}}}`,
		`{"thirdPartyId":["x"]}`, `null`, `"\u0000"`, `{"thirdPartyId":"oidc","oAuthTokens":{"access_token":1}}`} {
		f.Add(s)
	}
	h := newHarness(f, setup{})
	f.Fuzz(func(t *testing.T, body string) {
		r := h.serve("POST", "/auth/signinup", body)
		if r.Code != 200 && r.Code != 400 {
			t.Fatalf("%q: %d %s", body, r.Code, r.Body)
		}
		if r.Code == 200 && r.body["status"] == "OK" {
			t.Fatalf("%q signed in", body)
		}
	})
}
