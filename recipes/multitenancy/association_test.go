package multitenancy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/passwordless"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

// These tests mirror supertokens-node's multitenancy associateUserToTenant
// and disassociateUserFromTenant (recipe/multitenancy/recipeImplementation,
// answered by the core's per-recipe user_to_tenant tables): an associated
// user signs in to the tenant with its own accounts, and a tenant holds one
// account per e-mail, phone number or provider account per recipe.

type loginHarness struct {
	*harness
	ep *emailpassword.Recipe
	tp *thirdparty.Recipe
	pl *passwordless.Recipe
}

func newLoginHarness(t *testing.T) *loginHarness {
	ep, tp := newEmailPassword(), newThirdParty()
	pl := passwordless.New(passwordless.Config{ContactMethod: passwordless.ContactEmailOrPhone})
	h := newHarness(t, withRecipes(ep, tp, pl))
	h.createTenant("acme", multitenancy.TenantConfig{})
	h.createTenant("beta", multitenancy.TenantConfig{})
	return &loginHarness{harness: h, ep: ep, tp: tp, pl: pl}
}

// signIn signs in with e-mail and password over HTTP in tenant and returns
// the FDI status and user id.
func (h *loginHarness) signIn(tenant, email, password string) (string, string) {
	h.t.Helper()
	body := fmt.Sprintf(`{"formFields":[{"id":"email","value":%q},{"id":"password","value":%q}]}`, email, password)
	r := h.client().do("POST", "/auth/"+tenant+"/signin", body)
	if r.code != http.StatusOK {
		h.t.Fatalf("signin in %s: %d %s", tenant, r.code, r.raw)
	}
	status, _ := r.body["status"].(string)
	id := ""
	if u, ok := r.body["user"].(map[string]any); ok {
		id, _ = u["id"].(string)
	}
	return status, id
}

// consume signs in with a passwordless code in tenant and returns the user.
func (h *loginHarness) consume(tenant string, c passwordless.Contact) *passwordless.SignInUpResult {
	h.t.Helper()
	code, err := h.pl.CreateCode(h.ctx, tenant, c)
	h.must(err)
	res, err := h.pl.ConsumeCode(h.ctx, tenant, passwordless.ConsumeInput{PreAuthSessionID: code.PreAuthSessionID,
		DeviceID: code.DeviceID, UserInputCode: code.UserInputCode})
	h.must(err)
	return res
}

func TestAssociatedUserSignsInToOtherTenant(t *testing.T) {
	h := newLoginHarness(t)
	epUser, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "correct-horse-9")
	h.must(err)
	tpUser, _, err := h.tp.SignInUp(h.ctx, "acme", "google", "g-1", "gus@example.com", true)
	h.must(err)
	plRes := h.consume("acme", passwordless.PhoneContact("+14155550123"))

	// Before: the accounts are unknown in beta.
	if st, _ := h.signIn("beta", "ann@example.com", "correct-horse-9"); st != "WRONG_CREDENTIALS_ERROR" {
		t.Fatalf("sign-in to beta before association: %s", st)
	}
	for _, id := range []string{epUser.ID, tpUser.ID, plRes.User.ID} {
		if _, err := h.mt.AssociateUserToTenant(h.ctx, "beta", id); err != nil {
			t.Fatalf("associate %s: %v", id, err)
		}
	}

	// The FDI user object lists the tenant for the login method.
	u0, err := h.auth.GetUser(h.ctx, epUser.ID)
	h.must(err)
	if got := strings.Join(u0.LoginMethods[0].TenantIDs, ","); got != "acme,beta" {
		t.Fatalf("login method tenantIds = %s, want acme,beta", got)
	}
	// Password over HTTP: same user id.
	if st, id := h.signIn("beta", "ann@example.com", "correct-horse-9"); st != "OK" || id != epUser.ID {
		t.Fatalf("password sign-in to beta: %s %s, want OK %s", st, id, epUser.ID)
	}
	// Third party: the same provider account in beta is the same user, not a new one.
	u, created, err := h.tp.SignInUp(h.ctx, "beta", "google", "g-1", "gus@example.com", true)
	h.must(err)
	if created || u.ID != tpUser.ID {
		t.Fatalf("third-party sign-in to beta: created=%v id=%s, want %s", created, u.ID, tpUser.ID)
	}
	// Passwordless code: the same user, not a sign-up.
	if r := h.consume("beta", passwordless.PhoneContact("+14155550123")); r.CreatedNewRecipeUser || r.User.ID != plRes.User.ID {
		t.Fatalf("passwordless sign-in to beta: created=%v id=%s, want %s", r.CreatedNewRecipeUser, r.User.ID, plRes.User.ID)
	}
	// A password reset asked for in beta works in beta.
	tok, err := h.ep.CreateResetPasswordToken(h.ctx, "beta", epUser.ID)
	h.must(err)
	if _, err := h.ep.ResetPasswordUsingToken(h.ctx, "beta", tok, "new-horse-10"); err != nil {
		t.Fatalf("reset in beta: %v", err)
	}

	// Disassociation removes the access (defence: the delete of the
	// tenant's ginauth_login_tenants rows in DisassociateUserFromTenant).
	for _, id := range []string{epUser.ID, tpUser.ID, plRes.User.ID} {
		if was, err := h.mt.DisassociateUserFromTenant(h.ctx, "beta", id); err != nil || !was {
			t.Fatalf("disassociate %s: %v %v", id, was, err)
		}
	}
	if st, _ := h.signIn("beta", "ann@example.com", "new-horse-10"); st != "WRONG_CREDENTIALS_ERROR" {
		t.Fatalf("password sign-in to beta after disassociation: %s", st)
	}
	if u, err := h.tp.GetUserByThirdPartyInfo(h.ctx, "beta", "google", "g-1"); err == nil {
		t.Fatalf("third-party account still found in beta: %s", u.ID)
	}
	if _, err := h.pl.GetUserByPhoneNumber(h.ctx, "beta", "+14155550123"); !errors.Is(err, passwordless.ErrUnknownUser) {
		t.Fatalf("passwordless account still found in beta: %v", err)
	}
	// ... and the user still signs in where it signed up.
	if st, id := h.signIn("acme", "ann@example.com", "new-horse-10"); st != "OK" || id != epUser.ID {
		t.Fatalf("password sign-in to acme: %s %s", st, id)
	}
}

func TestAssociationConflicts(t *testing.T) {
	h := newLoginHarness(t)
	// Users of acme, and users of beta holding the same accounts.
	epA, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "correct-horse-9")
	h.must(err)
	_, err = h.ep.SignUp(h.ctx, "beta", "ann@example.com", "other-horse-9")
	h.must(err)
	tpA, _, err := h.tp.SignInUp(h.ctx, "acme", "google", "g-1", "", false)
	h.must(err)
	_, _, err = h.tp.SignInUp(h.ctx, "beta", "google", "g-1", "", false)
	h.must(err)
	phA := h.consume("acme", passwordless.PhoneContact("+14155550123")).User
	h.consume("beta", passwordless.PhoneContact("+14155550123"))
	emA := h.consume("acme", passwordless.EmailContact("pat@example.com")).User
	h.consume("beta", passwordless.EmailContact("pat@example.com"))

	for _, c := range []struct {
		name, user string
		want       error
	}{
		{"emailpassword", epA.ID, multitenancy.ErrEmailAlreadyExists},
		{"thirdparty", tpA.ID, multitenancy.ErrThirdPartyUserAlreadyExists},
		{"passwordless phone", phA.ID, multitenancy.ErrPhoneNumberAlreadyExists},
		{"passwordless email", emA.ID, multitenancy.ErrEmailAlreadyExists},
		{"unknown user", "no-such-user", multitenancy.ErrUnknownUserID},
	} {
		_, err := h.mt.AssociateUserToTenant(h.ctx, "beta", c.user)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		var ge *ginauth.Error
		if !errors.As(err, &ge) || ge.Status/100 != 4 {
			t.Errorf("%s: not a 4xx *ginauth.Error: %#v", c.name, err)
		}
		// Nothing changed: not a member of beta.
		if u, err := h.auth.GetUser(h.ctx, c.user); err == nil && len(u.TenantIDs) != 1 {
			t.Errorf("%s: refused association left tenantIds %v", c.name, u.TenantIDs)
		}
	}
	// Unknown user also reads as not found.
	if _, err := h.mt.AssociateUserToTenant(h.ctx, "beta", "no-such-user"); !errors.Is(err, ginauth.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// An e-mail and password account does not clash with a passwordless
	// one of the same address (separate recipes, as the core's tables).
	c, err := h.ep.SignUp(h.ctx, "acme", "pat@example.com", "correct-horse-9")
	h.must(err)
	if _, err := h.mt.AssociateUserToTenant(h.ctx, "beta", c.ID); err != nil {
		t.Fatalf("emailpassword vs passwordless e-mail: %v", err)
	}
}

func TestSignUpRefusedForAssociatedAddress(t *testing.T) {
	h := newLoginHarness(t)
	a, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "correct-horse-9")
	h.must(err)
	_, err = h.mt.AssociateUserToTenant(h.ctx, "beta", a.ID)
	h.must(err)
	// Defence: the primary key of ginauth_login_tenants (and the sign-up's
	// lookup through it).
	if _, err := h.ep.SignUp(h.ctx, "beta", "ann@example.com", "other-horse-9"); !errors.Is(err, emailpassword.ErrEmailExists) {
		t.Fatalf("sign-up of an associated address in beta: %v", err)
	}
	// Changing another beta user's e-mail to it is refused too.
	b, err := h.ep.SignUp(h.ctx, "beta", "bob@example.com", "correct-horse-9")
	h.must(err)
	e := "ann@example.com"
	if err := h.ep.UpdateEmailOrPassword(h.ctx, b.ID, &e, nil, ""); !errors.Is(err, emailpassword.ErrEmailExists) {
		t.Fatalf("e-mail change to an associated address: %v", err)
	}
	// And the associated user's own change follows it into beta.
	e = "ann2@example.com"
	h.must(h.ep.UpdateEmailOrPassword(h.ctx, a.ID, &e, nil, ""))
	if st, id := h.signIn("beta", e, "correct-horse-9"); st != "OK" || id != a.ID {
		t.Fatalf("sign-in to beta with the changed e-mail: %s %s", st, id)
	}
	// A passwordless sign-in in beta with the phone an associated user
	// holds signs that user in rather than making a new one.
	p := h.consume("acme", passwordless.PhoneContact("+14155550999")).User
	_, err = h.mt.AssociateUserToTenant(h.ctx, "beta", p.ID)
	h.must(err)
	if r := h.consume("beta", passwordless.PhoneContact("+14155550999")); r.CreatedNewRecipeUser || r.User.ID != p.ID {
		t.Fatalf("passwordless in beta: created=%v id=%s", r.CreatedNewRecipeUser, r.User.ID)
	}
}

func TestDeleteTenantKeepsAssociatedUsers(t *testing.T) {
	h := newLoginHarness(t)
	a, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "correct-horse-9")
	h.must(err)
	_, err = h.mt.AssociateUserToTenant(h.ctx, "beta", a.ID)
	h.must(err)
	_, err = h.ep.SignUp(h.ctx, "acme", "solo@example.com", "correct-horse-9")
	h.must(err)
	if _, err := h.mt.DeleteTenant(h.ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if st, id := h.signIn("beta", "ann@example.com", "correct-horse-9"); st != "OK" || id != a.ID {
		t.Fatalf("sign-in to beta after acme went: %s %s", st, id)
	}
	var n int64
	h.must(kit.Of(h.auth).DB().Model(&models.LoginTenant{}).Where("tenant_id = ?", "acme").Count(&n).Error)
	if n != 0 {
		t.Fatalf("%d login rows left in the deleted tenant", n)
	}
	// Deleting the user frees the address in beta.
	_, err = h.auth.DeleteUser(h.ctx, a.ID)
	h.must(err)
	if _, err := h.ep.SignUp(h.ctx, "beta", "ann@example.com", "other-horse-9"); err != nil {
		t.Fatalf("sign-up after the holder was deleted: %v", err)
	}
}

// TestAssociationRacesSignUps: 20 parallel HTTP sign-ups of one e-mail in
// beta race the association of an acme user holding it; exactly one
// account ends up signing in to beta with the address.
func TestAssociationRacesSignUps(t *testing.T) {
	h := newLoginHarness(t)
	a, err := h.ep.SignUp(h.ctx, "acme", "race@example.com", "correct-horse-9")
	h.must(err)
	var assocErr error
	ok := h.signUpBurst("beta", "race@example.com", 20, func() {
		_, assocErr = h.mt.AssociateUserToTenant(context.Background(), "beta", a.ID)
	})
	if assocErr == nil {
		ok++
	} else if !errors.Is(assocErr, multitenancy.ErrEmailAlreadyExists) {
		t.Errorf("association: %v", assocErr)
	}
	if ok != 1 {
		t.Fatalf("%d winners (association err %v), want exactly 1", ok, assocErr)
	}
	var holders int64
	h.must(kit.Of(h.auth).DB().Model(&models.LoginTenant{}).
		Where("tenant_id = ? AND method = ? AND account = ?", "beta", models.LoginEmailPassword, "race@example.com").Count(&holders).Error)
	if holders != 1 {
		t.Fatalf("%d accounts hold the address in beta", holders)
	}
	// A refused association changed nothing.
	if assocErr != nil {
		u, err := h.auth.GetUser(h.ctx, a.ID)
		h.must(err)
		if len(u.TenantIDs) != 1 {
			t.Fatalf("refused association left tenantIds %v", u.TenantIDs)
		}
	}
}
