package accountlinking_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Contact changes of a linked group's login methods. Mirrored:
// supertokens-node's passwordless updateUser and emailpassword
// updateEmailOrPassword (isEmailChangeAllowed first, then the core's
// PUT /recipe/user and /recipe/user of emailpassword, which answer
// EMAIL_CHANGE_NOT_ALLOWED_ERROR / PHONE_NUMBER_CHANGE_NOT_ALLOWED_ERROR
// when another primary user holds the new value): the group's account info
// follows the change in the same transaction.

// infoOf returns primaryID's account-info rows as "tenant kind value".
func (h *tenantHarness) infoOf(primaryID string) []string {
	h.t.Helper()
	var rows []models.AccountInfo
	if err := h.db.Where("primary_user_id = ?", primaryID).Find(&rows).Error; err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.TenantID + " " + r.Kind + " " + r.Value
	}
	sort.Strings(out)
	return out
}

func has(rows []string, want string) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}

// linkedGroup makes a primary e-mail/password user in primaryTenant and
// links to it a passwordless user with phone in plTenant.
func (h *tenantHarness) linkedGroup(primaryTenant, email, plTenant, phone string) (primary, pl string) {
	h.t.Helper()
	ctx := context.Background()
	p, err := h.ep.SignUp(ctx, primaryTenant, email, "correct horse 1")
	if err != nil {
		h.t.Fatal(err)
	}
	if res, err := h.al.CreatePrimaryUser(ctx, p.ID); err != nil || res.Status != "OK" {
		h.t.Fatalf("primary %s: %+v %v", email, res, err)
	}
	l, err := h.pl.SignInUp(ctx, plTenant, passwordless.PhoneContact(phone))
	if err != nil {
		h.t.Fatal(err)
	}
	if res, err := h.al.LinkAccounts(ctx, l.RecipeUserID, p.ID); err != nil || res.Status != "OK" {
		h.t.Fatalf("link %s: %+v %v", phone, res, err)
	}
	return p.ID, l.RecipeUserID
}

func TestPasswordlessUpdateUserInLinkedGroup(t *testing.T) {
	h := newTenantHarness(t, "beta", "gamma")
	h.link.Store(false) // groups are made by hand below
	ctx := context.Background()
	// Q's group claims q@x.io and +14155550199 in beta and public.
	q, _ := h.linkedGroup("beta", "q@x.io", "public", "+14155550199")
	// P's group: P in beta, its passwordless method in gamma.
	p, l := h.linkedGroup("beta", "p@x.io", "gamma", "+14155550150")

	// The number is free among gamma's passwordless users but Q's group
	// holds it in beta, a tenant of P's group.
	res, err := h.pl.UpdateUser(ctx, l, nil, ptr("+14155550199"))
	if err != nil || res.Status != passwordless.UpdatePhoneChangeNotAllowed {
		t.Fatalf("phone of another primary user: %+v %v", res, err)
	}
	// The same for an address, refused before anything is written.
	res, err = h.pl.UpdateUser(ctx, l, ptr("q@x.io"), nil)
	if err != nil || res.Status != passwordless.UpdateEmailChangeNotAllowed || res.Reason == "" {
		t.Fatalf("e-mail of another primary user: %+v %v", res, err)
	}
	before := []string{"beta phone +14155550150", "gamma phone +14155550150"}
	for _, w := range before {
		if !has(h.infoOf(p), w) {
			t.Fatalf("refused change lost %q: %v", w, h.infoOf(p))
		}
	}
	if u, err := h.pl.GetUserByPhoneNumber(ctx, "gamma", "+14155550150"); err != nil || u.ID != p {
		t.Fatalf("refused change moved the sign-in: %v", err)
	}

	// A free number and address: the group's claims follow.
	res, err = h.pl.UpdateUser(ctx, l, ptr("l@x.io"), ptr("+14155550151"))
	if err != nil || res.Status != passwordless.UpdateOK {
		t.Fatalf("free values: %+v %v", res, err)
	}
	info := h.infoOf(p)
	for _, w := range []string{"beta phone +14155550151", "gamma phone +14155550151", "beta email l@x.io", "gamma email l@x.io", "beta email p@x.io"} {
		if !has(info, w) {
			t.Errorf("missing claim %q: %v", w, info)
		}
	}
	if has(info, "beta phone +14155550150") || has(info, "gamma phone +14155550150") {
		t.Errorf("old number still claimed: %v", info)
	}
	// The freed number can become Q's.
	if len(h.infoOf(q)) == 0 {
		t.Fatal("Q lost its claims")
	}
}

// TestEmailPasswordChangeUpdatesAccountInfo: an e-mail/password address
// change moves the linked group's claim (before, the old address stayed
// claimed and the new one was not, so another primary user could take
// it); an address another primary user holds is refused.
func TestEmailPasswordChangeUpdatesAccountInfo(t *testing.T) {
	h := newTenantHarness(t, "beta")
	h.link.Store(false)
	ctx := context.Background()
	h.linkedGroup("beta", "q@x.io", "beta", "+14155550199")
	p, _ := h.linkedGroup("beta", "p@x.io", "beta", "+14155550150")

	e := "q@x.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, p, &e, nil, ""); !errors.Is(err, emailpassword.ErrEmailChangeNotAllowed) {
		t.Fatalf("address of another primary user: %v", err)
	}
	e = "p2@x.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, p, &e, nil, ""); err != nil {
		t.Fatal(err)
	}
	info := strings.Join(h.infoOf(p), ",")
	if !strings.Contains(info, "beta email p2@x.io") || strings.Contains(info, "p@x.io") {
		t.Fatalf("claims after the change: %s", info)
	}
	if got := h.owners("beta", "p2@x.io"); len(got) != 1 || got[0] != p {
		t.Fatalf("owners of the new address: %v", got)
	}
}

func ptr(s string) *string { return &s }

// A provider that reports a new address for an existing account moves the
// primary user's claim with it (the reference core updates the account
// info when thirdparty's manuallyCreateOrUpdateUser changes the e-mail):
// the new address is the group's, and the old one is free for another
// primary user.
func TestThirdPartyEmailChangeUpdatesAccountInfo(t *testing.T) {
	h := newTenantHarness(t)
	a := h.primaryByProvider("sub-a", "a@x.io")
	h.primaryByProvider("sub-b", "b@x.io")

	if _, err := h.tpSignIn("oidc", "sub-a", "b@x.io", true); err == nil {
		t.Fatal("a provider moving an account onto another primary user's address was accepted")
	}
	if info := h.infoOf(a); !has(info, "public email a@x.io") {
		t.Fatalf("claims after the refused change: %v", info)
	}
	u, err := h.tpSignIn("oidc", "sub-a", "a2@x.io", true)
	if err != nil || u.ID != a {
		t.Fatalf("sign-in with the provider's new address: %+v %v", u, err)
	}
	if info := h.infoOf(a); !has(info, "public email a2@x.io") || has(info, "public email a@x.io") {
		t.Fatalf("claims after the change: %v", info)
	}
	c := h.primaryByProvider("sub-c", "a@x.io")
	if got := h.owners("public", "a@x.io"); len(got) != 1 || got[0] != c {
		t.Fatalf("owners of the freed address: %v", got)
	}
}
