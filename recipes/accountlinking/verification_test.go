package accountlinking_test

import (
	"context"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/accountlinking"
)

// stEV returns the st-ev claim's value in a client's access-token payload.
func stEV(t *testing.T, cl *ginauthtest.Client) any {
	t.Helper()
	ev, _ := cl.FrontPayload(t)["st-ev"].(map[string]any)
	return ev["v"]
}

// E-mail verification inside a session is the session's login method's,
// as the reference's emailverification APIs and EmailVerificationClaim use
// the session's recipeUserId: a primary user whose provider address is
// verified, signed in through its linked, unverified e-mail/password
// method, is not verified (st-ev false, GET /user/email/verify false), its
// token is made for that method, and verifying it turns only that
// session's st-ev true. With s.UserID() (the primary) instead, this fails.
func TestEmailVerificationIsTheLoginMethods(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.link.Store(false)
	ep := h.epSignUp("ann@example.com")
	tp, err := h.tpSignIn("oidc", "sub-1", "ann@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.al.CreatePrimaryUser(ctx, tp.ID); err != nil || res.Status != accountlinking.StatusOK {
		t.Fatal(res, err)
	}
	if res, err := h.al.LinkAccounts(ctx, ep, tp.ID); err != nil || res.Status != accountlinking.StatusOK {
		t.Fatal(res, err)
	}

	epc := h.client()
	if res := epc.SignIn("ann@example.com", "correct horse 1"); res.Status() != "OK" || res.UserID() != tp.ID {
		t.Fatalf("sign-in through the linked method: %v", res.JSON)
	}
	if v := stEV(t, epc); v != false {
		t.Fatalf("st-ev of the unverified login method's session = %v", v)
	}
	res := epc.Do("GET", "/auth/user/email/verify", "")
	if res.Status() != "OK" || res.JSON["isVerified"] != false {
		t.Fatalf("GET /user/email/verify: %d %v", res.Code, res.JSON)
	}
	if res := epc.Do("POST", "/auth/user/email/verify/token", "{}"); res.Status() != "OK" {
		t.Fatalf("POST /user/email/verify/token: %d %v", res.Code, res.JSON)
	}
	var toks []models.EmailVerificationToken
	h.db.Find(&toks)
	if len(toks) != 1 || toks[0].UserID != ep {
		t.Fatalf("tokens %+v, want one for the e-mail/password method %s", toks, ep)
	}

	// A session through the provider's (verified) method is verified.
	tpc := h.client()
	s, tokens, err := h.auth.CreateSessionTokens(ctx, ginauth.NewSession{UserID: tp.ID})
	if err != nil || s.RecipeUserID() != tp.ID {
		t.Fatal(s, err)
	}
	tpc.Front = tokens.FrontToken
	if v := stEV(t, tpc); v != true {
		t.Fatalf("st-ev of the verified login method's session = %v", v)
	}

	// Verifying the e-mail/password method updates its session's claim.
	h.verify(ep, "ann@example.com")
	res = epc.Do("GET", "/auth/user/email/verify", "")
	if res.JSON["isVerified"] != true || stEV(t, epc) != true {
		t.Fatalf("after verification: %v st-ev %v", res.JSON, stEV(t, epc))
	}
}
