package webauthn_test

import (
	"context"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

// TestAssociatedTenantSignIn: a passkey user associated with another tenant
// signs in there with the same passkey and user id, and no longer after
// disassociation (supertokens-node's multitenancy associateUserToTenant /
// disassociateUserFromTenant). An address an associated user holds cannot
// sign up in that tenant.
func TestAssociatedTenantSignIn(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.tenants = true })
	ctx := context.Background()
	rc, _ := h.auth.Recipe(multitenancy.RecipeID)
	mt := rc.(*multitenancy.Recipe)
	if _, err := mt.CreateOrUpdateTenant(ctx, "beta", multitenancy.TenantConfig{}); err != nil {
		t.Fatal(err)
	}
	_, a, id := h.signUp("ann@example.com")
	signInBeta := func() *ginauthtest.Response {
		cl := h.client()
		opts := cl.ok("POST", "/beta/webauthn/options/signin", "{}")
		return cl.do("POST", "/beta/webauthn/signin", ceremony(opts, a.signIn(opts, nil)))
	}
	if r := signInBeta(); status(r) == "OK" {
		t.Fatalf("signed in to beta before association: %s", r.Body)
	}
	if _, err := mt.AssociateUserToTenant(ctx, "beta", id); err != nil {
		t.Fatal(err)
	}
	r := signInBeta()
	mustStatus(t, r, "OK")
	if got := r.JSON["user"].(map[string]any)["id"]; got != id {
		t.Fatalf("signed in to beta as %v, want %s", got, id)
	}
	cl := h.client()
	opts := cl.ok("POST", "/beta/webauthn/options/register", jsonBody(map[string]any{"email": "ann@example.com"}))
	b := newAuthenticator(t, website)
	if r := cl.do("POST", "/beta/webauthn/signup", ceremony(opts, b.register(opts))); status(r) != "EMAIL_ALREADY_EXISTS_ERROR" {
		t.Fatalf("sign-up in beta of an associated address: %s", r.Body)
	}
	if _, err := mt.DisassociateUserFromTenant(ctx, "beta", id); err != nil {
		t.Fatal(err)
	}
	if r := signInBeta(); status(r) == "OK" {
		t.Fatalf("signed in to beta after disassociation: %s", r.Body)
	}
}
