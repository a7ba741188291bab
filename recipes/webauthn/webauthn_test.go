package webauthn_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

// The FDI shapes mirror supertokens-node's webauthn recipe
// (api/implementation.ts: registerOptionsPOST, signInOptionsPOST,
// signUpPOST, signInPOST, emailExistsGET) as supertokens-web-js 0.16's
// recipe/webauthn reads them.
func TestSignUpSignOutSignIn(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client()
	opts := cl.registerOptions(" Ann@Example.com ")
	for _, k := range []string{"webauthnGeneratedOptionsId", "challenge", "rp", "user", "pubKeyCredParams", "authenticatorSelection",
		"attestation", "timeout", "createdAt", "expiresAt", "excludeCredentials"} {
		if _, ok := opts[k]; !ok {
			t.Errorf("register options lack %q: %v", k, opts)
		}
	}
	if rp := opts["rp"].(map[string]any); rp["id"] != rpID || rp["name"] != "Test App" {
		t.Errorf("rp = %v", rp)
	}
	if u := opts["user"].(map[string]any); u["name"] != "ann@example.com" {
		t.Errorf("user = %v", u)
	}
	sel := opts["authenticatorSelection"].(map[string]any)
	if sel["userVerification"] != "required" || sel["residentKey"] != "required" {
		t.Errorf("authenticatorSelection = %v (user verification must be required by default)", sel)
	}
	if opts["attestation"] != "none" || opts["timeout"] != float64(60000) {
		t.Errorf("attestation %v timeout %v", opts["attestation"], opts["timeout"])
	}
	a := newAuthenticator(t, website)
	res := cl.ok("POST", "/webauthn/signup", ceremony(opts, a.register(opts)))
	u := res["user"].(map[string]any)
	ids := u["webauthn"].(map[string]any)["credentialIds"].([]any)
	if len(ids) != 1 || ids[0] != a.id() {
		t.Errorf("user.webauthn = %v, want [%s]", u["webauthn"], a.id())
	}
	lm := u["loginMethods"].([]any)[0].(map[string]any)
	if lm["recipeId"] != "webauthn" || lm["email"] != "ann@example.com" {
		t.Errorf("login method = %v", lm)
	}
	if cl.secret() != 200 {
		t.Fatal("no session after sign-up")
	}
	if p := cl.c.FrontPayload(t); p["st-mfa"] != nil {
		t.Logf("payload: %v", p)
	}
	h.events.One(t, ginauth.EventSignUp)
	if r := cl.do("GET", "/webauthn/email/exists?email=ANN@example.com", ""); r.JSON["exists"] != true {
		t.Errorf("email exists: %s", r.Body)
	}
	if r := cl.do("GET", "/webauthn/email/exists?email=bob@example.com", ""); r.JSON["exists"] != false {
		t.Errorf("email exists (bob): %s", r.Body)
	}
	cl.ok("POST", "/signout", "")

	cl2, r := h.signIn(a)
	mustStatus(t, r, "OK")
	if r.JSON["user"].(map[string]any)["id"] != u["id"] {
		t.Errorf("signed in as %v, want %v", r.JSON["user"], u["id"])
	}
	if cl2.secret() != 200 {
		t.Fatal("no session after sign-in")
	}
	h.events.One(t, ginauth.EventSignIn)
	list := cl2.ok("GET", "/webauthn/credential/list", "")["credentials"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["webauthnCredentialId"] != a.id() || list[0].(map[string]any)["relyingPartyId"] != rpID {
		t.Errorf("credentials = %v", list)
	}
	var row models.WebAuthnCredential
	if err := kit.Of(h.auth).DB().Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.SignCount != 1 || row.LastUsedAt == nil || row.Transports != "internal" {
		t.Errorf("stored credential: sign count %d, last used %v, transports %q", row.SignCount, row.LastUsedAt, row.Transports)
	}
	// The options were used up by their ceremonies.
	if n := countRows(t, h, &models.WebAuthnOptions{}); n != 0 {
		t.Errorf("%d options rows left", n)
	}
}

// Signing in with a passkey needs its signature counter to go up; an
// assertion at or below the stored counter comes from a copy of the key
// and is refused with an event (go-webauthn's CloneWarning, and the
// conditional update in recordUse).
func TestCounterRegressionRefusedAsClone(t *testing.T) {
	h := newHarness(t, nil)
	_, a, userID := h.signUp("ann@example.com")
	a.counter = 10
	if _, r := h.signIn(a); status(r) != "OK" { // counter 11
		t.Fatalf("sign-in: %s", r.Body)
	}
	a.counter = 5 // a clone that lags behind
	cl, r := h.signIn(a)
	mustStatus(t, r, webauthn.StatusInvalidCredentials)
	if cl.secret() == 200 {
		t.Fatal("a cloned authenticator got a session")
	}
	ev := h.events.One(t, ginauth.EventCredentialCloned)
	if ev.UserID != userID {
		t.Errorf("event %+v", ev)
	}
	var row models.WebAuthnCredential
	if err := kit.Of(h.auth).DB().Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.SignCount != 11 {
		t.Errorf("sign count %d, want 11 (unchanged by the refused assertion)", row.SignCount)
	}
}

// Each tampered assertion is refused; the untampered control succeeds, so
// each case fails when its check is removed.
func TestTamperedAssertionsRefused(t *testing.T) {
	h := newHarness(t, nil)
	_, a, _ := h.signUp("ann@example.com")
	cases := []struct {
		name string
		mod  func(*assertion)
		noUV bool
	}{
		{name: "wrong origin", mod: func(x *assertion) { x.origin = "http://evil.example" }},
		{name: "wrong challenge", mod: func(x *assertion) { x.challenge = b64u.EncodeToString([]byte("not the challenge we were given")) }},
		{name: "wrong relying party", mod: func(x *assertion) { x.rpID = "evil.example" }},
		{name: "bad signature", mod: func(x *assertion) { x.badSignature = true }},
		{name: "user not verified", noUV: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h.client()
			opts := cl.signInOptions()
			a.noUV = tc.noUV
			r := cl.do("POST", "/webauthn/signin", ceremony(opts, a.signIn(opts, tc.mod)))
			a.noUV = false
			mustStatus(t, r, webauthn.StatusInvalidCredentials)
			if cl.secret() == 200 {
				t.Fatal("tampered assertion got a session")
			}
		})
	}
	if _, r := h.signIn(a); status(r) != "OK" {
		t.Fatalf("control sign-in: %s", r.Body)
	}
}

// Options answer one ceremony: a replay of the same options id (even with
// a fresh, valid signature) is refused.
func TestReplayedOptionsRefused(t *testing.T) {
	h := newHarness(t, nil)
	_, a, _ := h.signUp("ann@example.com")
	cl := h.client()
	opts := cl.signInOptions()
	mustStatus(t, cl.do("POST", "/webauthn/signin", ceremony(opts, a.signIn(opts, nil))), "OK")
	cl2 := h.client()
	r := cl2.do("POST", "/webauthn/signin", ceremony(opts, a.signIn(opts, nil)))
	mustStatus(t, r, webauthn.StatusInvalidCredentials)
	if cl2.secret() == 200 {
		t.Fatal("replayed options got a session")
	}
}

// Concurrent sign-ins with one options id: exactly one succeeds, even
// though every assertion is valid on its own (distinct counters).
func TestConcurrentDoubleUseOfOneChallenge(t *testing.T) {
	h := newHarness(t, nil)
	_, a, _ := h.signUp("ann@example.com")
	opts := h.client().signInOptions()
	const n = 8
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = ceremony(opts, a.signIn(opts, nil))
	}
	// Every request reads the options before any deletes them (or 2 s
	// pass, where the database serialises the requests), so that only the
	// delete decides which one may use them.
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	defer webauthn.SetOptionsReadHook(func() {
		arrived.Done()
		select {
		case <-all:
		case <-time.After(2 * time.Second):
		}
	})()
	var okN, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &ginauthtest.Client{Handler: h.r, RID: "webauthn"}
			r := c.Do("POST", "/auth/webauthn/signin", bodies[i])
			switch {
			case r.Code == 200 && r.JSON["status"] == "OK":
				okN.Add(1)
			case r.Code == 200 && r.JSON["status"] == webauthn.StatusInvalidCredentials:
				refused.Add(1)
			default:
				t.Errorf("unexpected answer %d %s", r.Code, r.Body)
			}
		}()
	}
	wg.Wait()
	if okN.Load() != 1 || refused.Load() != n-1 {
		t.Fatalf("%d succeeded and %d were refused, want 1 and %d", okN.Load(), refused.Load(), n-1)
	}
}

// Concurrent sign-ups with the same registration: exactly one account.
func TestConcurrentSignUpOneAccount(t *testing.T) {
	h := newHarness(t, nil)
	const n = 6
	var okN atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := passkeySignUp(h, "race@example.com")
			switch {
			case signedUp(r):
				okN.Add(1)
			case r.Code == 200 && r.JSON["status"] == webauthn.StatusEmailExists:
			default:
				t.Errorf("unexpected answer %d %s", r.Code, r.Body)
			}
		}()
	}
	wg.Wait()
	if okN.Load() != 1 {
		t.Fatalf("%d sign-ups succeeded, want 1", okN.Load())
	}
	if users := countRows(t, h, &models.User{}); users != 1 {
		t.Fatalf("%d users, want 1 (no half-written accounts)", users)
	}
}

func TestTamperedRegistrationsRefused(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name  string
		tweak func(a *softAuthenticator, opts map[string]any)
	}{
		{name: "wrong origin", tweak: func(a *softAuthenticator, _ map[string]any) { a.origin = "http://evil.example" }},
		{name: "wrong challenge", tweak: func(_ *softAuthenticator, opts map[string]any) {
			opts["challenge"] = b64u.EncodeToString([]byte("another challenge"))
		}},
		{name: "wrong relying party", tweak: func(_ *softAuthenticator, opts map[string]any) {
			opts["rp"] = map[string]any{"id": "evil.example", "name": "x"}
		}},
		{name: "user not verified", tweak: func(a *softAuthenticator, _ map[string]any) { a.noUV = true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := h.client()
			opts := cl.registerOptions("ann@example.com")
			a := newAuthenticator(t, website)
			tc.tweak(a, opts)
			mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(opts, a.register(opts))), webauthn.StatusInvalidCredentials)
			if n := countRows(t, h, &models.User{}); n != 0 {
				t.Fatalf("%d users written by a refused registration", n)
			}
		})
	}
	// Control: the same flow untampered creates the account.
	h.signUp("ann@example.com")
}

// With UserVerification "preferred", an authenticator without user
// verification may register (the default, "required", refuses it above).
func TestUserVerificationPreferredAcceptsNoUV(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.wa.UserVerification = webauthn.UVPreferred })
	cl := h.client()
	opts := cl.registerOptions("ann@example.com")
	a := newAuthenticator(t, website)
	a.noUV = true
	mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(opts, a.register(opts))), "OK")
}

func TestOptionsErrors(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client()
	// Expired options (60 s by default, on ginauth's clock).
	opts := cl.registerOptions("ann@example.com")
	a := newAuthenticator(t, website)
	cred := a.register(opts)
	h.clock.Advance(61 * time.Second)
	mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(opts, cred)), webauthn.StatusInvalidOptions)
	// Used up: the same id again is not found.
	mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(opts, cred)), webauthn.StatusOptionsNotFound)
	// Sign-in options are not registration options.
	sopts := cl.signInOptions()
	mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(sopts, cred)), webauthn.StatusInvalidOptions)
	// Invalid e-mail.
	r := cl.do("POST", "/webauthn/options/register", `{"email":"not an address"}`)
	mustStatus(t, r, webauthn.StatusInvalidEmail)
	if n := countRows(t, h, &models.User{}); n != 0 {
		t.Fatalf("%d users", n)
	}
}

func TestEmailAlreadyExists(t *testing.T) {
	h := newHarness(t, nil)
	h.signUp("ann@example.com")
	cl := h.client()
	opts := cl.registerOptions("ANN@example.com")
	mustStatus(t, cl.do("POST", "/webauthn/signup", ceremony(opts, newAuthenticator(t, website).register(opts))), webauthn.StatusEmailExists)
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client()
	for _, tc := range []struct{ path, body string }{
		{"/webauthn/options/register", `{}`},
		{"/webauthn/options/register", `{"email": 5}`},
		{"/webauthn/signup", `{"credential": {}}`},
		{"/webauthn/signup", `{"webauthnGeneratedOptionsId": "x"}`},
		{"/webauthn/signup", `{"webauthnGeneratedOptionsId": "x", "credential": "abc"}`},
		{"/webauthn/signin", `{"webauthnGeneratedOptionsId": "x", "credential": {}, "shouldTryLinkingWithSessionUser": "yes"}`},
		{"/webauthn/signin", `not json`},
		{"/user/webauthn/reset/token", `{}`},
		{"/user/webauthn/reset", `{"webauthnGeneratedOptionsId": "x", "credential": {}}`},
	} {
		r := cl.do("POST", tc.path, tc.body)
		if r.Code != 400 || r.JSON["message"] == nil {
			t.Errorf("POST %s %s: %d %s, want 400 with a message", tc.path, tc.body, r.Code, r.Body)
		}
	}
	if r := cl.do("GET", "/webauthn/email/exists", ""); r.Code != 400 {
		t.Errorf("email exists without email: %d", r.Code)
	}
	// An unreadable credential is an invalid credential, not a 500.
	opts := cl.signInOptions()
	mustStatus(t, cl.do("POST", "/webauthn/signin", ceremony(opts, `{"id":"x"}`)), webauthn.StatusInvalidCredentials)
	if n := countRows(t, h, &models.User{}); n != 0 {
		t.Fatalf("%d users", n)
	}
	// Credential routes need a session.
	if r := cl.do("GET", "/webauthn/credential/list", ""); r.Code != 401 {
		t.Errorf("list without a session: %d", r.Code)
	}
}

// Failed sign-ins count against the passkey through the core rate limiter
// (Reserve on ActionSignIn): once its per-account rule is used up, even a
// good assertion is refused until the window ends.
func TestSignInAttemptsLimited(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.cfg.RateLimit = ginauth.RateLimitConfig{Limits: map[ginauth.Action]ginauth.Limit{
			ginauth.ActionSignIn: {PerIP: ginauth.Rule{Max: 1000, Window: time.Minute}, PerAccount: ginauth.Rule{Max: 3, Window: 15 * time.Minute}},
		}}
	})
	_, a, _ := h.signUp("ann@example.com")
	for range 3 {
		cl := h.client()
		opts := cl.signInOptions()
		mustStatus(t, cl.do("POST", "/webauthn/signin", ceremony(opts, a.signIn(opts, func(x *assertion) { x.badSignature = true }))),
			webauthn.StatusInvalidCredentials)
	}
	_, r := h.signIn(a)
	if r.Code != 429 {
		t.Fatalf("good assertion after 3 failures: %d %s, want 429", r.Code, r.Body)
	}
	h.clock.Advance(16 * time.Minute)
	if _, r := h.signIn(a); status(r) != "OK" {
		t.Fatalf("after the window: %d %s", r.Code, r.Body)
	}
}

func TestRecoverAccount(t *testing.T) {
	h := newHarness(t, nil)
	_, lost, userID := h.signUp("ann@example.com")
	cl := h.client()
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"nobody@example.com"}`) // same answer
	h.wa.Close()
	mails := h.mails.all()
	if len(mails) != 1 || mails[0].To != "ann@example.com" || !strings.HasPrefix(mails[0].Link, website+"/auth/webauthn/recover?") {
		t.Fatalf("mails = %+v", mails)
	}
	token := tokenFromLink(t, mails[0].Link)
	mustStatus(t, cl.do("POST", "/webauthn/options/register", `{"recoverAccountToken":"wrong"}`), webauthn.StatusRecoverTokenInvalid)
	opts := cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"recoverAccountToken": token}))
	fresh := newAuthenticator(t, website)
	cl.ok("POST", "/user/webauthn/reset", ceremony(opts, fresh.register(opts), "token", token))
	// The token worked once.
	opts = cl.registerOptions("ann@example.com")
	mustStatus(t, cl.do("POST", "/user/webauthn/reset", ceremony(opts, newAuthenticator(t, website).register(opts), "token", token)),
		webauthn.StatusRecoverTokenInvalid)
	// The new passkey signs in to the same account; the old one still works.
	for _, a := range []*softAuthenticator{fresh, lost} {
		_, r := h.signIn(a)
		mustStatus(t, r, "OK")
		if r.JSON["user"].(map[string]any)["id"] != userID {
			t.Fatalf("recovered passkey signs in as %v", r.JSON["user"])
		}
	}
}

// Recovery by the e-mailed link proves the mailbox, so with the
// emailverification recipe it marks the address verified, but only once the
// new passkey is stored: a recovery that fails verifies nothing. Mirrors
// supertokens-node's webauthn APIImplementation.recoverAccountPOST
// (markEmailAsVerified after registerCredential returned OK).
func TestRecoverAccountMarksEmailVerified(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.ev = true })
	_, _, userID := h.signUp("ann@example.com")
	verified := func() bool {
		t.Helper()
		ok, err := h.ev.IsVerified(context.Background(), userID, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if verified() {
		t.Fatal("a passkey sign-up alone verified the address")
	}
	cl := h.client()
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	h.wa.Close()
	var link string
	for _, m := range h.mails.all() {
		if strings.Contains(m.Link, "/webauthn/recover?") {
			link = m.Link
		}
	}
	token := tokenFromLink(t, link)
	// A failed recovery (options made for another address) verifies nothing.
	opts := cl.registerOptions("eve@example.com")
	mustStatus(t, cl.do("POST", "/user/webauthn/reset", ceremony(opts, newAuthenticator(t, website).register(opts), "token", token)),
		webauthn.StatusInvalidOptions)
	if verified() {
		t.Fatal("a failed recovery verified the address")
	}
	opts = cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"recoverAccountToken": token}))
	fresh := newAuthenticator(t, website)
	cl.ok("POST", "/user/webauthn/reset", ceremony(opts, fresh.register(opts), "token", token))
	if !verified() {
		t.Fatal("recovery did not mark the address verified")
	}
	// The session of the recovered passkey sees it through the FDI.
	in, r := h.signIn(fresh)
	mustStatus(t, r, "OK")
	if v := in.ok("GET", "/user/email/verify", ""); v["isVerified"] != true {
		t.Fatalf("GET /user/email/verify = %v", v)
	}
}

// The recipe as a second factor: an e-mail and password user must add a
// passkey (RequireFactors webauthn); PUT /mfa/info lists it, registering
// it completes the factor, and later sessions complete it by signing in
// with the passkey linked to the session.
func TestSecondFactor(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.mfa = &multifactorauth.Config{RequireFactors: []string{multifactorauth.FactorWebAuthn}}
	})
	cl := h.client()
	recipetest.SignUpWithPassword(t, cl.c, "ann@example.com")
	if cl.secret() != 403 {
		t.Fatal("MFA claim not enforced")
	}
	info := cl.ok("PUT", "/mfa/info", "")
	factors := info["factors"].(map[string]any)
	if !contains(factors["next"], "webauthn") || !contains(factors["allowedToSetup"], "webauthn") {
		t.Fatalf("mfa info = %v", info)
	}
	// Options for another address than the user's are refused.
	opts := cl.registerOptions("mallory@example.com")
	cl.ok("GET", "/webauthn/credential/list", "")
	userID := sessionUser(t, cl)
	a := newAuthenticator(t, website)
	mustStatus(t, cl.do("POST", "/webauthn/credential", ceremony(opts, a.register(opts), "recipeUserId", userID)), webauthn.StatusGeneralError)
	opts = cl.registerOptions("ann@example.com")
	cl.ok("POST", "/webauthn/credential", ceremony(opts, a.register(opts), "recipeUserId", userID))
	if cl.secret() != 200 {
		t.Fatal("registering the passkey did not complete the factor")
	}
	info = cl.ok("PUT", "/mfa/info", "")
	if !contains(info["factors"].(map[string]any)["alreadySetup"], "webauthn") {
		t.Fatalf("mfa info after set-up = %v", info)
	}
	// A new sign-in with the password must complete the passkey.
	cl2 := h.client()
	recipetest.SignInWithPassword(t, cl2.c, "ann@example.com")
	if cl2.secret() != 403 {
		t.Fatal("second sign-in skipped the factor")
	}
	// Setting up another passkey now needs the one set up first.
	opts = cl2.registerOptions("ann@example.com")
	if r := cl2.do("POST", "/webauthn/credential", ceremony(opts, newAuthenticator(t, website).register(opts), "recipeUserId", userID)); r.Code != 403 {
		t.Fatalf("adding a passkey before completing the factor: %d %s", r.Code, r.Body)
	}
	// Removing the passkey needs the factor too.
	if r := cl2.do("POST", "/webauthn/credential/remove", jsonBody(map[string]any{"webauthnCredentialId": a.id()})); r.Code != 403 {
		t.Fatalf("removing before completing the factor: %d %s", r.Code, r.Body)
	}
	sopts := cl2.signInOptions()
	res := cl2.ok("POST", "/webauthn/signin", ceremony(sopts, a.signIn(sopts, nil), "shouldTryLinkingWithSessionUser", true))
	if res["user"].(map[string]any)["id"] != userID || sessionUser(t, cl2) != userID {
		t.Fatalf("factor completion changed the session's user: %v", res)
	}
	if cl2.secret() != 200 {
		t.Fatal("signing in with the passkey did not complete the factor")
	}
	cl2.ok("POST", "/webauthn/credential/remove", jsonBody(map[string]any{"webauthnCredentialId": a.id()}))
	mustStatus(t, cl2.do("POST", "/webauthn/credential/remove", jsonBody(map[string]any{"webauthnCredentialId": a.id()})),
		webauthn.StatusCredentialNotFound)
}

// Another user's passkey cannot complete the factor of a session.
func TestSecondFactorOtherUsersPasskeyRefused(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.mfa = &multifactorauth.Config{RequireFactors: []string{multifactorauth.FactorWebAuthn}}
	})
	_, other, _ := h.signUp("other@example.com")
	cl := h.client()
	recipetest.SignUpWithPassword(t, cl.c, "ann@example.com")
	sopts := cl.signInOptions()
	r := cl.do("POST", "/webauthn/signin", ceremony(sopts, other.signIn(sopts, nil), "shouldTryLinkingWithSessionUser", true))
	mustStatus(t, r, webauthn.StatusSignInNotAllowed)
	if cl.secret() != 403 {
		t.Fatal("another user's passkey completed the factor")
	}
}

func TestLoginMethodsReportWebAuthn(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.tenants = true })
	r := h.client().do("GET", "/loginmethods", "")
	if r.Code != 200 || r.JSON["webauthn"].(map[string]any)["enabled"] != true || !contains(r.JSON["firstFactors"], "webauthn") {
		t.Fatalf("loginmethods: %d %s", r.Code, r.Body)
	}
}

func TestDeleteUserRemovesPasskeys(t *testing.T) {
	h := newHarness(t, nil)
	_, a, userID := h.signUp("ann@example.com")
	if _, err := h.auth.DeleteUser(t.Context(), userID); err != nil {
		t.Fatal(err)
	}
	for _, m := range []any{&models.WebAuthnCredential{}, &models.WebAuthnUser{}} {
		if n := countRows(t, h, m); n != 0 {
			t.Errorf("%T: %d rows left", m, n)
		}
	}
	_, r := h.signIn(a)
	mustStatus(t, r, webauthn.StatusInvalidCredentials)
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sessionUser(t *testing.T, cl *client) string {
	t.Helper()
	// The front token names the user whether or not the session meets
	// its MFA requirements.
	raw, err := base64.StdEncoding.DecodeString(cl.c.Front)
	if err != nil {
		t.Fatal(err)
	}
	var ft struct {
		UID string `json:"uid"`
	}
	if err := json.Unmarshal(raw, &ft); err != nil || ft.UID == "" {
		t.Fatalf("front token %q: %v", raw, err)
	}
	return ft.UID
}
