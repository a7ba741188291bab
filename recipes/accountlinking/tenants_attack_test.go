package accountlinking_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

// 50 concurrent associations, disassociations, links and unlinks of two
// primary users with one address and a third user linked to one of them:
// only ErrAssociationNotAllowed refusals (no deadlock surfacing as a 503,
// no database error), at most one owner of the address in the tenant, no
// login-tenant row of a user outside the tenant, and the account-info
// table exactly the groups' claims (checkInvariants). Association and
// disassociation lock the same user rows as link and unlink; the core
// refuses association conflicts with ASSOCIATION_NOT_ALLOWED_ERROR
// (supertokens-node's Multitenancy.associateUserToTenant).
func TestConcurrentAssociationsAndLinks(t *testing.T) {
	h := newTenantHarness(t, "t2")
	ctx := context.Background()
	ann := h.primaryByProvider("ann-sub", "ann@example.com")
	bob := h.primaryByCode("t2", "ann@example.com").User.ID
	cat := h.epSignUp("cat@example.com")
	var bad atomic.Int32
	ginauthtest.Burst(50, func(i int) {
		var err error
		switch i % 6 {
		case 0:
			_, err = h.mt.AssociateUserToTenant(ctx, "t2", ann)
		case 1:
			_, err = h.mt.DisassociateUserFromTenant(ctx, "t2", ann)
		case 2:
			_, err = h.mt.AssociateUserToTenant(ctx, "t2", cat)
		case 3:
			_, err = h.mt.DisassociateUserFromTenant(ctx, "t2", bob)
		case 4:
			_, err = h.al.LinkAccounts(ctx, cat, ann)
		case 5:
			_, err = h.al.UnlinkAccount(ctx, cat)
		}
		if err != nil && !errors.Is(err, multitenancy.ErrAssociationNotAllowed) {
			bad.Add(1)
			t.Logf("call %d: %v", i, err)
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d calls failed", bad.Load())
	}
	checkInvariants(t, h.harness)
	if o := h.owners("t2", "ann@example.com"); len(o) > 1 {
		t.Fatalf("owners in t2: %v", o)
	}
	var orphans int64
	if err := h.db.Model(&models.LoginTenant{}).
		Where("NOT EXISTS (SELECT 1 FROM " + models.TableUserTenants + " ut WHERE ut.user_id = " + models.TableLoginTenants + ".user_id AND ut.tenant_id = " + models.TableLoginTenants + ".tenant_id)").
		Count(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d login-tenant rows of users outside their tenant", orphans)
	}
}
