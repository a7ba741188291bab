package accountlinking_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ginauth/ginauth/recipes/emailpassword"
)

// The Go API of e-mail and password decides as its HTTP API: a sign-up for
// a primary user's address is refused (the reference's isSignUpAllowed,
// ERR_CODE_007), an unverified sign-in next to a primary is refused
// (isSignInAllowed, ERR_CODE_008), and a verified one links (the
// reference's emailpassword signUp/signIn functions go through
// authUtils.postAuthChecks likewise). Drop linkingAllowsSignUp or
// linkSignIn from emailpassword's SignUp/SignIn and this fails.
func TestEmailPasswordGoAPILinks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	owner, err := h.tpSignIn("oidc", "sub-1", "ann@example.com", true)
	if err != nil || !owner.IsPrimaryUser {
		t.Fatalf("verified provider sign-up: %+v %v", owner, err)
	}
	if _, err := h.ep.SignUp(ctx, "public", "ann@example.com", "correct horse 1"); !errors.Is(err, emailpassword.ErrSignUpNotAllowed) {
		t.Fatalf("Go sign-up for a primary's address: %v", err)
	}
	if n, _ := h.auth.CountUsers(ctx, ""); n != 1 {
		t.Fatalf("the refused sign-up wrote a user (%d)", n)
	}

	// An account made before linking was on, then a primary took its
	// address: its unverified sign-in is refused until it verifies.
	h.link.Store(false)
	b, err := h.ep.SignUp(ctx, "public", "bob@example.com", "correct horse 1")
	if err != nil || b.IsPrimaryUser {
		t.Fatalf("sign-up without linking: %+v %v", b, err)
	}
	p, err := h.tpSignIn("oidc", "sub-2", "bob@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.al.CreatePrimaryUser(ctx, p.ID); err != nil || res.Status != "OK" {
		t.Fatal(res, err)
	}
	h.link.Store(true)
	if _, err := h.ep.SignIn(ctx, "public", "bob@example.com", "correct horse 1"); !errors.Is(err, emailpassword.ErrSignInNotAllowed) {
		t.Fatalf("Go sign-in next to a primary: %v", err)
	}
	if len(h.user(p.ID).LoginMethods) != 1 {
		t.Fatal("the refused sign-in linked")
	}
	h.link.Store(false) // verify without linking, so the sign-in is what links
	h.verify(b.ID, "bob@example.com")
	h.link.Store(true)
	u, err := h.ep.SignIn(ctx, "public", "bob@example.com", "correct horse 1")
	if err != nil || u.ID != p.ID || len(u.LoginMethods) != 2 {
		t.Fatalf("verified Go sign-in: %+v %v", u, err)
	}

	// Without required verification a Go sign-up of a fresh address
	// becomes primary at once (tryLinkingByAccountInfoOrCreatePrimaryUser).
	h.requireVerification.Store(false)
	u, err = h.ep.SignUp(ctx, "public", "cat@example.com", "correct horse 1")
	if err != nil || !u.IsPrimaryUser {
		t.Fatalf("sign-up with linking and no verification required becomes primary: %+v %v", u, err)
	}
}
