package accountlinking_test

import (
	"context"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Passwordless second factors next to account linking: the session's user
// is the primary user, and a contact may be on a login method linked to it.

// mfaClaim returns st-mfa's completed factors and v from a client's front
// token.
func mfaClaim(t *testing.T, cl *ginauthtest.Client) (map[string]any, bool) {
	t.Helper()
	v, _ := cl.FrontPayload(t)[multifactorauth.ClaimKey].(map[string]any)
	c, _ := v["c"].(map[string]any)
	ok, _ := v["v"].(bool)
	return c, ok
}

// consumeInSession consumes a code with shouldTryLinkingWithSessionUser.
func consumeInSession(cl *ginauthtest.Client, code *passwordless.Code) *ginauthtest.Response {
	return cl.Do("POST", "/auth/signinup/code/consume", map[string]any{"preAuthSessionId": code.PreAuthSessionID,
		"deviceId": code.DeviceID, "userInputCode": code.UserInputCode, "shouldTryLinkingWithSessionUser": true}, "rid", "passwordless")
}

// A code to the address of a passwordless login method linked to the
// session's primary user completes otp-email in that session: the login
// method is the session user's own, as in supertokens-node's
// consumeCodePOST with a session (postAuthChecks sees the recipe user
// already linked to the session user). A code to the address of a
// passwordless user of someone else's group is still refused
// (ERR_CODE_017). Comparing the contact's recipe user with the session's
// primary id alone refuses the first.
func TestLinkedPasswordlessMethodIsASecondFactor(t *testing.T) {
	mfa := multifactorauth.New(multifactorauth.Config{RequireFactors: []string{passwordless.FactorOTPEmail}})
	h := newHarness(t, recipetest.AnyTenant(), mfa)
	ctx := context.Background()
	ann := h.epSignUp("ann@example.com")
	h.verify(ann, "ann@example.com")
	res, err := h.pl.SignInUp(ctx, "public", passwordless.EmailContact("ann@example.com"))
	if err != nil || res.User.ID != ann || res.RecipeUserID == ann {
		t.Fatalf("passwordless sign-in did not link into ann: %+v %v", res, err)
	}
	// Someone else's passwordless account.
	if _, err := h.pl.SignInUp(ctx, "public", passwordless.EmailContact("eve@example.com")); err != nil {
		t.Fatal(err)
	}

	cl := h.client()
	if r := cl.SignIn("ann@example.com", "correct horse 1"); r.Status() != "OK" {
		t.Fatalf("sign-in: %d %v", r.Code, r.JSON)
	}
	if _, v := mfaClaim(t, cl); v {
		t.Fatal("otp-email is required")
	}
	code, err := h.pl.CreateCode(ctx, "public", passwordless.EmailContact("eve@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	// Refused either way: as another user's (ERR_CODE_017), or as a set-up
	// before the set-up factor is completed (403).
	if r := consumeInSession(cl, code); r.Status() != passwordless.StatusSignInUpNotAllowed && r.Code != 403 {
		t.Fatalf("another user's address: %d %v", r.Code, r.JSON)
	}
	code, err = h.pl.CreateCode(ctx, "public", passwordless.EmailContact("ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	r := consumeInSession(cl, code)
	if r.Status() != "OK" || r.JSON["createdNewRecipeUser"] != false {
		t.Fatalf("ann's linked address: %d %v", r.Code, r.JSON)
	}
	if c, v := mfaClaim(t, cl); !v || c[passwordless.FactorOTPEmail] == nil {
		t.Fatalf("st-mfa c=%v v=%v", c, v)
	}
	if u := h.user(ann); len(u.LoginMethods) != 2 {
		t.Fatalf("ann's methods %v", recipeUsers(u))
	}
}

// Setting up otp-phone in a primary user's session stores the number on
// the user, and claims it for the user's group in the tenant in the same
// transaction, as any other account info of a primary user
// (checkInvariants): otherwise the account-info table would not know the
// group's phone. Remove the ClaimTenantTx call in consumeForSession and
// this fails.
func TestSecondFactorSetUpClaimsAccountInfo(t *testing.T) {
	mfa := multifactorauth.New(multifactorauth.Config{RequireFactors: []string{passwordless.FactorOTPPhone}})
	h := newHarness(t, recipetest.AnyTenant(), mfa)
	ctx := context.Background()
	ann := h.epSignUp("ann@example.com")
	h.verify(ann, "ann@example.com")
	if !h.user(ann).IsPrimaryUser {
		t.Fatal("ann is not primary after verification")
	}
	cl := h.client()
	if r := cl.SignIn("ann@example.com", "correct horse 1"); r.Status() != "OK" {
		t.Fatalf("sign-in: %d %v", r.Code, r.JSON)
	}
	code, err := h.pl.CreateCode(ctx, "public", passwordless.PhoneContact("+14155550100"))
	if err != nil {
		t.Fatal(err)
	}
	if r := consumeInSession(cl, code); r.Status() != "OK" || r.JSON["createdNewRecipeUser"] != true {
		t.Fatalf("set-up: %d %v", r.Code, r.JSON)
	}
	if c, v := mfaClaim(t, cl); !v || c[passwordless.FactorOTPPhone] == nil {
		t.Fatalf("st-mfa c=%v v=%v", c, v)
	}
	checkInvariants(t, h)
}
