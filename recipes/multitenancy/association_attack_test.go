package multitenancy_test

import (
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Associations and disassociations of one user racing, 50 at once, in a
// few rounds: no error, and no login-tenant row left for a tenant the user
// is not a member of (that row would let the user sign in there). An
// association that found the membership present used to add its login
// rows after a concurrent disassociation had deleted them with the
// membership; both now take the user's row lock first (lockUserRow).
// Meaningful on PostgreSQL (GINAUTH_TEST_DATABASE_URL); SQLite runs one
// writer at a time.
func TestConcurrentAssociateDisassociateLeavesNoOrphans(t *testing.T) {
	lh := newLoginHarness(t)
	h := lh.harness
	u, err := lh.ep.SignUp(h.ctx, "public", "ann@example.com", "correct horse 1")
	h.must(err)
	id := u.ID
	db := kit.Of(h.auth).DB()
	for round := range 5 {
		ginauthtest.Burst(50, func(i int) {
			var err error
			if i%2 == 0 {
				_, err = h.mt.AssociateUserToTenant(h.ctx, "acme", id)
			} else {
				_, err = h.mt.DisassociateUserFromTenant(h.ctx, "acme", id)
			}
			if err != nil {
				t.Errorf("round %d call %d: %v", round, i, err)
			}
		})
		var members, logins int64
		h.must(db.Model(&models.UserTenant{}).Where("user_id = ? AND tenant_id = ?", id, "acme").Count(&members).Error)
		h.must(db.Model(&models.LoginTenant{}).Where("user_id = ? AND tenant_id = ?", id, "acme").Count(&logins).Error)
		if members == 0 && logins != 0 {
			t.Fatalf("round %d: %d login rows in acme for a user who is not a member", round, logins)
		}
		if members == 1 && logins == 0 {
			t.Fatalf("round %d: a member of acme without login rows", round)
		}
	}
}
