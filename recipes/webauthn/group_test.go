package webauthn_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

const epForm = `{"formFields":[{"id":"email","value":"ann@example.com"},{"id":"password","value":"correct horse 1"}]}`

// linkedGroup makes an e-mail/password primary user for ann@example.com
// and a passkey account with that address linked to it (verification not
// required), and returns the primary's id, the passkey's recipe user and
// its authenticator.
func linkedGroup(t *testing.T, h *harness) (string, string, *softAuthenticator) {
	t.Helper()
	h.requireVerification.Store(false)
	owner := h.passwordPrimary("ann@example.com", false)
	_, key, id := h.signUp("ann@example.com")
	if id != owner {
		t.Fatalf("passkey sign-up answered user %s, want the primary %s", id, owner)
	}
	return owner, passkeyRecipeUser(t, h, owner), key
}

// passkeyRecipeUser returns the recipe user of userID's group's passkey
// login method.
func passkeyRecipeUser(t *testing.T, h *harness, userID string) string {
	t.Helper()
	u, err := h.auth.GetUser(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range u.LoginMethods {
		if m.RecipeID == webauthn.RecipeID {
			return m.RecipeUserID
		}
	}
	t.Fatalf("user %s has no passkey login method: %+v", userID, u)
	return ""
}

// passwordSession signs ann@example.com in with her password.
func passwordSession(h *harness) *client {
	cl := h.client()
	cl.c.RID = "emailpassword"
	cl.ok("POST", "/signin", epForm)
	cl.c.RID = "webauthn"
	return cl
}

func credentialsOf(t *testing.T, cl *client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, x := range cl.ok("GET", "/webauthn/credential/list", "")["credentials"].([]any) {
		c := x.(map[string]any)
		out[c["webauthnCredentialId"].(string)] = c["recipeUserId"].(string)
	}
	return out
}

// A passkey of a login method linked to the session's primary user
// completes the webauthn factor of a session made with the password, and
// the credential routes act on the group's passkey login method: mirrors
// supertokens-node's AuthUtils.postAuthChecks (the authenticated user's
// login methods hold the session's recipe user: mark the factor complete)
// and the webauthn APIImplementation's listCredentialsGET,
// registerCredentialPOST and removeCredentialPOST (the session user's
// webauthn login methods). Comparing the passkey's user with the
// session's user id (the previous rule) fails the first step.
func TestLinkedPasskeyCompletesFactor(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.linking = true
		s.mfa = &multifactorauth.Config{RequireFactors: []string{multifactorauth.FactorWebAuthn}}
	})
	primary, passkeyUser, key := linkedGroup(t, h)
	if passkeyUser == primary {
		t.Fatal("the passkey login method should be its own recipe user")
	}
	cl := passwordSession(h)
	if cl.secret() != 403 {
		t.Fatal("MFA claim not enforced")
	}
	// The group's passkey is set up: the password alone cannot add
	// another one (multifactorauth's set-up rule, through HasCredential of
	// the whole group), on the passkey login method or on the session's user.
	for _, rid := range []string{passkeyUser, primary} {
		opts := cl.registerOptions("ann@example.com")
		if r := cl.do("POST", "/webauthn/credential", ceremony(opts, newAuthenticator(t, website).register(opts), "recipeUserId", rid)); r.Code != 403 {
			t.Fatalf("adding a passkey on %s before completing the factor: %d %s", rid, r.Code, r.Body)
		}
	}
	sopts := cl.signInOptions()
	res := cl.ok("POST", "/webauthn/signin", ceremony(sopts, key.signIn(sopts, nil), "shouldTryLinkingWithSessionUser", true))
	if res["user"].(map[string]any)["id"] != primary || sessionUser(t, cl) != primary {
		t.Fatalf("factor completion answered %v", res)
	}
	if cl.secret() != 200 {
		t.Fatal("the linked passkey did not complete the factor")
	}
	// The list is the group's passkeys, under their recipe user.
	if got := credentialsOf(t, cl); len(got) != 1 || got[key.id()] != passkeyUser {
		t.Fatalf("credentials %v, want %s of %s", got, key.id(), passkeyUser)
	}
	// Another passkey registered on the group's passkey login method.
	second := newAuthenticator(t, website)
	opts := cl.registerOptions("ann@example.com")
	cl.ok("POST", "/webauthn/credential", ceremony(opts, second.register(opts), "recipeUserId", passkeyUser))
	// A sign-up inside the session (shouldTryLinkingWithSessionUser, the
	// reference's signUpPOST with a session) joins the same login method.
	third := newAuthenticator(t, website)
	opts = cl.registerOptions("ann@example.com")
	cl.ok("POST", "/webauthn/signup", ceremony(opts, third.register(opts), "shouldTryLinkingWithSessionUser", true))
	got := credentialsOf(t, cl)
	if len(got) != 3 || got[second.id()] != passkeyUser || got[third.id()] != passkeyUser {
		t.Fatalf("credentials after adding two: %v", got)
	}
	if n := countRows(t, h, &models.WebAuthnUser{}); n != 1 {
		t.Fatalf("%d passkey login methods, want the group's one", n)
	}
	// Removing one of them works from the primary's session.
	cl.ok("POST", "/webauthn/credential/remove", jsonBody(map[string]any{"webauthnCredentialId": second.id()}))
	if got := credentialsOf(t, cl); len(got) != 2 {
		t.Fatalf("credentials after removing one: %v", got)
	}

	// Another user's passkey and login method stay out of reach.
	_, otherKey, other := h.signUp("other@example.com")
	cl2 := passwordSession(h)
	sopts = cl2.signInOptions()
	mustStatus(t, cl2.do("POST", "/webauthn/signin", ceremony(sopts, otherKey.signIn(sopts, nil), "shouldTryLinkingWithSessionUser", true)),
		webauthn.StatusSignInNotAllowed)
	if cl2.secret() != 403 {
		t.Fatal("another account's passkey completed the factor")
	}
	opts = cl.registerOptions("other@example.com")
	r := cl.do("POST", "/webauthn/credential", ceremony(opts, newAuthenticator(t, website).register(opts), "recipeUserId", other))
	if status(r) != webauthn.StatusGeneralError || r.JSON["message"] != "User not found" {
		t.Fatalf("registering on another account: %d %s", r.Code, r.Body)
	}
	mustStatus(t, cl.do("POST", "/webauthn/credential/remove", jsonBody(map[string]any{"webauthnCredentialId": otherKey.id()})),
		webauthn.StatusCredentialNotFound)
	if _, r := h.signIn(otherKey); status(r) != "OK" {
		t.Fatalf("the other account's passkey stopped working: %s", r.Body)
	}
}

// Recovery asks account linking as supertokens-node's webauthn
// APIImplementation.generateRecoverAccountTokenPOST: an address that is
// unverified in a primary user with another address answers
// RECOVER_ACCOUNT_NOT_ALLOWED (ERR_CODE_001) and mails nothing; once it is
// verified, a primary user without a passkey gets a token (linking would
// take a new passkey login method, and isSignUpAllowed agrees), and
// recoverAccountPOST then gives the primary user the passkey. With
// linking off no token is made for it. Drop recoverTarget's checks and the
// first request answers OK with a mail.
func TestRecoverAskLinking(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.linking = true })
	ctx := context.Background()
	owner := h.passwordPrimary("ann@example.com", false)
	bob, err := h.ep.SignUp(ctx, "public", "bob@example.com", "correct horse 1")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.al.LinkAccounts(ctx, bob.ID, owner); err != nil || res.Status != "OK" {
		t.Fatal(res, err)
	}
	cl := h.client()
	r := cl.do("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	mustStatus(t, r, webauthn.StatusRecoverNotAllowed)
	if r.JSON["reason"] != webauthn.ReasonRecoverNotAllowed {
		t.Fatalf("reason %v", r.JSON["reason"])
	}
	if err := h.ev.MarkVerified(ctx, owner, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	h.link.Store(false)
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	h.wa.Close()
	if m := h.mails.all(); len(m) != 0 {
		t.Fatalf("with linking off a token was mailed for a user without a passkey: %+v", m)
	}
	h.link.Store(true)
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	h.wa.Close()
	mails := h.mails.all()
	if len(mails) != 1 || mails[0].To != "ann@example.com" {
		t.Fatalf("mails = %+v", mails)
	}
	token := tokenFromLink(t, mails[0].Link)
	opts := cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"recoverAccountToken": token}))
	key := newAuthenticator(t, website)
	cl.ok("POST", "/user/webauthn/reset", ceremony(opts, key.register(opts), "token", token))
	_, r = h.signIn(key)
	mustStatus(t, r, "OK")
	if r.JSON["user"].(map[string]any)["id"] != owner {
		t.Fatalf("the recovered passkey signs in as %v, want the primary %s", r.JSON["user"], owner)
	}
}

// A recovery of an unlinked passkey account next to a primary user with
// its address verifies it and links it, as the reference's
// recoverAccountPOST (markEmailAsVerified, then
// tryLinkingByAccountInfoOrCreatePrimaryUser). Drop the LinkOrCreatePrimary
// call from handleRecover and the account stays on its own.
func TestRecoverLinksToPrimary(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.linking = true })
	ctx := context.Background()
	h.link.Store(false)
	_, _, passkeyUser := h.signUp("cat@example.com")
	owner := h.passwordPrimary("cat@example.com", true)
	h.link.Store(true)
	cl := h.client()
	cl.ok("POST", "/user/webauthn/reset/token", `{"email":"cat@example.com"}`)
	h.wa.Close()
	mails := h.mails.all()
	if len(mails) != 1 {
		t.Fatalf("mails = %+v", mails)
	}
	token := tokenFromLink(t, mails[0].Link)
	opts := cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"recoverAccountToken": token}))
	cl.ok("POST", "/user/webauthn/reset", ceremony(opts, newAuthenticator(t, website).register(opts), "token", token))
	u, err := h.auth.GetUser(ctx, passkeyUser)
	if err != nil || u.ID != owner {
		t.Fatalf("after recovery the passkey account is %+v (%v), want linked to %s", u, err, owner)
	}
}

// Recoveries racing with several tokens for one primary user without a
// passkey: the first makes its passkey login method, the others add to
// it or, losing the race for its row, answer
// RECOVER_ACCOUNT_TOKEN_INVALID_ERROR (the reference's answer to
// EMAIL_ALREADY_EXISTS_ERROR there) with nothing written. One login
// method, and exactly one stored passkey per recovery that succeeded.
func TestConcurrentRecoveriesForPrimary(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.linking = true })
	h.passwordPrimary("ann@example.com", true)
	const n = 4
	cl := h.client()
	for range n {
		cl.ok("POST", "/user/webauthn/reset/token", `{"email":"ann@example.com"}`)
	}
	h.wa.Close()
	mails := h.mails.all()
	if len(mails) != n {
		t.Fatalf("%d mails, want %d", len(mails), n)
	}
	bodies := make([]string, n)
	for i, m := range mails {
		token := tokenFromLink(t, m.Link)
		opts := cl.ok("POST", "/webauthn/options/register", jsonBody(map[string]any{"recoverAccountToken": token}))
		bodies[i] = ceremony(opts, newAuthenticator(t, website).register(opts), "token", token)
	}
	var okN atomic.Int32
	ginauthtest.Burst(n, func(i int) {
		r := h.client().do("POST", "/user/webauthn/reset", bodies[i])
		switch status(r) {
		case "OK":
			okN.Add(1)
		case webauthn.StatusRecoverTokenInvalid:
		default:
			t.Errorf("recovery %d: %d %s", i, r.Code, r.Body)
		}
	})
	if okN.Load() == 0 {
		t.Fatal("no recovery succeeded")
	}
	if c := countRows(t, h, &models.WebAuthnUser{}); c != 1 {
		t.Fatalf("%d passkey login methods, want 1", c)
	}
	if c := countRows(t, h, &models.WebAuthnCredential{}); c != int64(okN.Load()) {
		t.Fatalf("%d passkeys stored for %d successful recoveries", c, okN.Load())
	}
}
