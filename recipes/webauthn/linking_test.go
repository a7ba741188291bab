package webauthn_test

import (
	"context"
	"testing"

	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

// A passkey sign-up goes through account linking's isSignUpAllowed, as the
// reference's webauthn signUpPOST (preAuthChecks with isVerified false): an
// address a primary user has is refused with SIGN_UP_NOT_ALLOWED and
// ERR_CODE_025, and nothing is written. Drop linkingAllowsSignUp from
// handleSignUp and this fails.
func TestPasskeySignUpRefusedForPrimarysAddress(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.linking = true })
	ctx := context.Background()
	owner := h.passwordPrimary("ann@example.com", true)
	cl := h.client()
	opts := cl.registerOptions("ann@example.com")
	r := cl.do("POST", "/webauthn/signup", ceremony(opts, newAuthenticator(t, website).register(opts)))
	mustStatus(t, r, webauthn.StatusSignUpNotAllowed)
	if r.JSON["reason"] != webauthn.ReasonSignUpNotAllowed {
		t.Fatalf("reason %v", r.JSON["reason"])
	}
	if n := countRows(t, h, &models.WebAuthnUser{}); n != 0 {
		t.Fatalf("the refused sign-up wrote %d passkey accounts", n)
	}
	if n := countRows(t, h, &models.WebAuthnCredential{}); n != 0 {
		t.Fatalf("the refused sign-up stored %d passkeys", n)
	}
	// Without required verification the app accepts the risk, and the
	// passkey joins the primary user (postAuthChecks' linking).
	h.requireVerification.Store(false)
	_, _, id := h.signUp("ann@example.com")
	if id != owner {
		t.Fatalf("passkey sign-up answered user %s, want the primary %s", id, owner)
	}
	if u, err := h.auth.GetUser(ctx, owner); err != nil || len(u.LoginMethods) != 2 {
		t.Fatalf("primary after the passkey sign-up: %+v %v", u, err)
	}
}

// A passkey sign-in goes through isSignInAllowed and then links, as the
// reference's webauthn signInPOST (preAuthChecks, postAuthChecks): an
// unverified passkey account next to a primary with its address is refused
// (SIGN_IN_NOT_ALLOWED, ERR_CODE_030); once its address is verified the
// sign-in links it and the session is the primary's. Drop linkSignIn from
// handleSignIn and this fails.
func TestPasskeySignInLinks(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.linking = true })
	ctx := context.Background()
	h.link.Store(false) // both accounts exist before linking is on
	_, key, passkeyUser := h.signUp("cat@example.com")
	owner := h.passwordPrimary("cat@example.com", true)
	h.link.Store(true)

	_, r := h.signIn(key)
	mustStatus(t, r, webauthn.StatusSignInNotAllowed)
	if r.JSON["reason"] != webauthn.ReasonSignInNotAllowed {
		t.Fatalf("reason %v", r.JSON["reason"])
	}
	if u, _ := h.auth.GetUser(ctx, owner); len(u.LoginMethods) != 1 {
		t.Fatal("the refused sign-in linked")
	}

	if err := h.ev.MarkVerified(ctx, passkeyUser, "cat@example.com"); err != nil {
		t.Fatal(err)
	}
	cl, r := h.signIn(key)
	mustStatus(t, r, "OK")
	if got := sessionUser(t, cl); got != owner {
		t.Fatalf("session of user %s, want the primary %s", got, owner)
	}
	u, err := h.auth.GetUser(ctx, passkeyUser)
	if err != nil || u.ID != owner || len(u.LoginMethods) != 2 {
		t.Fatalf("after the verified sign-in: %+v %v", u, err)
	}
}
