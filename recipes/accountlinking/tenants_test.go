package accountlinking_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Account linking across tenants. The rule mirrored is the core's check
// behind supertokens-node's Multitenancy.associateUserToTenant
// (recipe/multitenancy): associating a user of a linked group refuses with
// ASSOCIATION_NOT_ALLOWED_ERROR when another primary user holds the
// group's account info in the tenant, so that two primary users never
// share an e-mail there; disassociateUserFromTenant frees it again.

type tenantHarness struct {
	*harness
	mt *multitenancy.Recipe
}

func newTenantHarness(t *testing.T, tenants ...string) *tenantHarness {
	t.Helper()
	mt := multitenancy.New()
	h := &tenantHarness{harness: newHarness(t, mt), mt: mt}
	for _, id := range tenants {
		if _, err := mt.CreateOrUpdateTenant(context.Background(), id, multitenancy.TenantConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// primaryByProvider signs up in public with a provider vouching for email:
// a primary user.
func (h *tenantHarness) primaryByProvider(subject, email string) string {
	h.t.Helper()
	u, err := h.tpSignIn("oidc", subject, email, true)
	if err != nil || !u.IsPrimaryUser {
		h.t.Fatalf("provider sign-up: %+v %v", u, err)
	}
	return u.ID
}

// primaryByCode signs up in tenant with a passwordless e-mail code: a
// primary user there.
func (h *tenantHarness) primaryByCode(tenant, email string) *passwordless.SignInUpResult {
	h.t.Helper()
	res, err := h.pl.SignInUp(context.Background(), tenant, passwordless.EmailContact(email))
	if err != nil || !res.User.IsPrimaryUser {
		h.t.Fatalf("passwordless sign-up in %s: %+v %v", tenant, res, err)
	}
	return res
}

// owners returns the primary users holding the e-mail in tenant.
func (h *tenantHarness) owners(tenant, email string) []string {
	h.t.Helper()
	var ids []string
	if err := h.db.Model(&models.AccountInfo{}).Where("tenant_id = ? AND kind = ? AND value = ?", tenant, "email", email).
		Pluck("primary_user_id", &ids).Error; err != nil {
		h.t.Fatal(err)
	}
	return ids
}

// rowsIn counts userID's membership and login rows in tenant.
func (h *tenantHarness) rowsIn(tenant, userID string) int64 {
	h.t.Helper()
	var a, b int64
	h.db.Model(&models.UserTenant{}).Where("tenant_id = ? AND user_id = ?", tenant, userID).Count(&a)
	h.db.Model(&models.LoginTenant{}).Where("tenant_id = ? AND user_id = ?", tenant, userID).Count(&b)
	return a + b
}

// A primary user cannot be associated with a tenant where another primary
// user has its e-mail: ErrAssociationNotAllowed (400), nothing written.
// Remove the ClaimTenantTx call in multitenancy's AssociateUserToTenant and
// this fails.
func TestAssociationClashWithAnotherPrimaryRefused(t *testing.T) {
	h := newTenantHarness(t, "beta")
	ctx := context.Background()
	p1 := h.primaryByProvider("sub-1", "ann@example.com")
	p2 := h.primaryByCode("beta", "ann@example.com").User.ID
	before := h.owners("public", "ann@example.com")

	_, err := h.mt.AssociateUserToTenant(ctx, "beta", p1)
	var e *ginauth.Error
	if !errors.Is(err, multitenancy.ErrAssociationNotAllowed) || !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("association: %v", err)
	}
	if n := h.rowsIn("beta", p1); n != 0 {
		t.Fatalf("the refused association wrote %d rows", n)
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 1 || o[0] != p2 {
		t.Fatalf("beta's owner of the address: %v", o)
	}
	if o := h.owners("public", "ann@example.com"); len(o) != 1 || o[0] != before[0] {
		t.Fatalf("public's owner of the address: %v", o)
	}
	if u := h.user(p1); len(u.TenantIDs) != 1 {
		t.Fatalf("tenants after the refusal: %v", u.TenantIDs)
	}
	// A user of its own (no linking group) is not concerned.
	h.link.Store(false)
	solo, err := h.tpSignIn("oidc", "sub-2", "ann@example.com", true)
	if err != nil || solo.IsPrimaryUser {
		t.Fatalf("%+v %v", solo, err)
	}
	if _, err := h.mt.AssociateUserToTenant(ctx, "beta", solo.ID); err != nil {
		t.Fatalf("associating a user that is not linked: %v", err)
	}
}

// Once associated, the primary owns its address in the new tenant: a
// sign-up there through another method links to it, or is refused, as in
// the tenant it signed up in (the reference's isSignUpAllowed and
// tryLinkingByAccountInfoOrCreatePrimaryUser, per tenant).
func TestAssociatedPrimaryLinksSignUpsInTheTenant(t *testing.T) {
	h := newTenantHarness(t, "beta")
	ctx := context.Background()
	p1 := h.primaryByProvider("sub-1", "ann@example.com")
	if was, err := h.mt.AssociateUserToTenant(ctx, "beta", p1); err != nil || was {
		t.Fatalf("association: %v %v", was, err)
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 1 || o[0] != p1 {
		t.Fatalf("beta's owner of the address: %v", o)
	}
	// An unverified e-mail/password sign-up is refused in beta as in public.
	for _, base := range []string{"/auth", "/auth/beta"} {
		c := h.client()
		c.APIBasePath = base
		if res := c.SignUp("ann@example.com", "correct horse 1"); res.Status() != "SIGN_UP_NOT_ALLOWED" {
			t.Fatalf("sign-up at %s: %v", base, res.JSON)
		}
	}
	// A passwordless code in beta proves the address: it links to p1.
	res, err := h.pl.SignInUp(ctx, "beta", passwordless.EmailContact("ann@example.com"))
	if err != nil || res.User.ID != p1 || res.RecipeUserID == p1 {
		t.Fatalf("passwordless sign-up in beta: %+v %v", res, err)
	}
	var primaries int64
	h.db.Model(&models.User{}).Where("is_primary = ?", true).Count(&primaries)
	if primaries != 1 {
		t.Fatalf("%d primary users", primaries)
	}
}

// Disassociation frees the address in the tenant, unless another member
// of the group is still there; then another primary may take it.
func TestDisassociationFreesTheAddress(t *testing.T) {
	h := newTenantHarness(t, "beta")
	ctx := context.Background()
	p1 := h.primaryByProvider("sub-1", "ann@example.com")
	// A linked member: a passwordless login in public, linked to p1.
	res, err := h.pl.SignInUp(ctx, "public", passwordless.EmailContact("ann@example.com"))
	if err != nil || res.User.ID != p1 || res.RecipeUserID == p1 {
		t.Fatalf("linking: %+v %v", res, err)
	}
	member := res.RecipeUserID
	for _, id := range []string{p1, member} {
		if _, err := h.mt.AssociateUserToTenant(ctx, "beta", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.mt.DisassociateUserFromTenant(ctx, "beta", p1); err != nil {
		t.Fatal(err)
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 1 || o[0] != p1 {
		t.Fatalf("the member still in beta lost the group's address: %v", o)
	}
	if was, err := h.mt.DisassociateUserFromTenant(ctx, "beta", member); err != nil || !was {
		t.Fatalf("%v %v", was, err)
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 0 {
		t.Fatalf("the address stayed claimed in beta: %v", o)
	}
	if o := h.owners("public", "ann@example.com"); len(o) != 1 || o[0] != p1 {
		t.Fatalf("public lost the address: %v", o)
	}
	// Freed: a new primary user in beta with the address.
	if p2 := h.primaryByCode("beta", "ann@example.com").User.ID; p2 == p1 {
		t.Fatal("the sign-up in beta landed in the disassociated group")
	}
}

// 10 parallel associations of two primary users with one e-mail into one
// tenant: exactly one of them gets in; the other is refused every time.
func TestConcurrentAssociationsOnePrimaryWins(t *testing.T) {
	h := newTenantHarness(t, "beta", "gamma")
	ctx := context.Background()
	p1 := h.primaryByProvider("sub-1", "ann@example.com")
	p2 := h.primaryByCode("gamma", "ann@example.com").User.ID
	var refused, failed atomic.Int32
	ginauthtest.Burst(10, func(i int) {
		id := p1
		if i%2 == 1 {
			id = p2
		}
		_, err := h.mt.AssociateUserToTenant(ctx, "beta", id)
		switch {
		case errors.Is(err, multitenancy.ErrAssociationNotAllowed):
			refused.Add(1)
		case err != nil:
			failed.Add(1)
			t.Log(err)
		}
	})
	if failed.Load() != 0 {
		t.Fatalf("%d associations failed", failed.Load())
	}
	in1, in2 := h.rowsIn("beta", p1) > 0, h.rowsIn("beta", p2) > 0
	if in1 == in2 {
		t.Fatalf("in beta: p1=%v p2=%v", in1, in2)
	}
	winner := p1
	if in2 {
		winner = p2
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 1 || o[0] != winner {
		t.Fatalf("beta's owner %v, winner %s", o, winner)
	}
	if refused.Load() != 5 {
		t.Fatalf("%d refusals, want the loser's 5", refused.Load())
	}
}

// Deleting a tenant drops its claims: made again, it starts with none.
func TestDeletedTenantDropsItsClaims(t *testing.T) {
	h := newTenantHarness(t, "beta")
	h.primaryByCode("beta", "ann@example.com")
	if _, err := h.mt.DeleteTenant(context.Background(), "beta"); err != nil {
		t.Fatal(err)
	}
	if o := h.owners("beta", "ann@example.com"); len(o) != 0 {
		t.Fatalf("claims left behind: %v", o)
	}
}
