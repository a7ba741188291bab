package multitenancy_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// TestSignUpAfterDisassociation: once a user is disassociated from the
// tenant it signed up in, the same e-mail, phone number or provider account
// signs up there again as a new user, as in the SuperTokens core, whose
// per-tenant uniqueness lives in its user_to_tenant tables. Defence under
// test: the recipe tables carry no unique index of their own (the old
// (tenant_id, email) indexes made these sign-ups fail with a database
// error); ginauth_login_tenants' key is the only per-tenant rule.
func TestSignUpAfterDisassociation(t *testing.T) {
	h := newLoginHarness(t)
	ep, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "correct-horse-9")
	h.must(err)
	tp, _, err := h.tp.SignInUp(h.ctx, "acme", "google", "g-1", "gus@example.com", true)
	h.must(err)
	ple := h.consume("acme", passwordless.EmailContact("pat@example.com")).User
	plp := h.consume("acme", passwordless.PhoneContact("+14155550123")).User
	for _, id := range []string{ep.ID, tp.ID, ple.ID, plp.ID} {
		_, err := h.mt.AssociateUserToTenant(h.ctx, "beta", id)
		h.must(err)
		if was, err := h.mt.DisassociateUserFromTenant(h.ctx, "acme", id); err != nil || !was {
			t.Fatalf("disassociate %s from acme: %v %v", id, was, err)
		}
	}

	ep2, err := h.ep.SignUp(h.ctx, "acme", "ann@example.com", "other-horse-9")
	if err != nil || ep2.ID == ep.ID {
		t.Fatalf("e-mail/password sign-up in acme after disassociation: %v", err)
	}
	tp2, created, err := h.tp.SignInUp(h.ctx, "acme", "google", "g-1", "gus@example.com", true)
	if err != nil || !created || tp2.ID == tp.ID {
		t.Fatalf("third-party sign-up in acme after disassociation: created=%v %v", created, err)
	}
	for _, c := range []struct {
		ct  passwordless.Contact
		old string
	}{{passwordless.EmailContact("pat@example.com"), ple.ID}, {passwordless.PhoneContact("+14155550123"), plp.ID}} {
		if r := h.consume("acme", c.ct); !r.CreatedNewRecipeUser || r.User.ID == c.old {
			t.Fatalf("passwordless sign-up of %s in acme: created=%v id=%s", c.ct, r.CreatedNewRecipeUser, r.User.ID)
		}
	}
	// Each tenant still signs its own holder in.
	if st, id := h.signIn("beta", "ann@example.com", "correct-horse-9"); st != "OK" || id != ep.ID {
		t.Fatalf("sign-in to beta: %s %s, want %s", st, id, ep.ID)
	}
	if st, id := h.signIn("acme", "ann@example.com", "other-horse-9"); st != "OK" || id != ep2.ID {
		t.Fatalf("sign-in to acme: %s %s, want %s", st, id, ep2.ID)
	}
	// The first holder cannot come back to acme while the address is taken.
	if _, err := h.mt.AssociateUserToTenant(h.ctx, "acme", ep.ID); err == nil {
		t.Fatal("association back to acme over the new holder succeeded")
	}
}

// TestSignUpBurstAfterDisassociation: 20 parallel HTTP sign-ups of an
// address whose former holder was disassociated from the tenant give
// exactly one new account; the others are told the address exists.
func TestSignUpBurstAfterDisassociation(t *testing.T) {
	h := newLoginHarness(t)
	a, err := h.ep.SignUp(h.ctx, "acme", "race@example.com", "correct-horse-9")
	h.must(err)
	_, err = h.mt.DisassociateUserFromTenant(h.ctx, "acme", a.ID)
	h.must(err)
	ok := h.signUpBurst("acme", "race@example.com", 20, nil)
	if ok != 1 {
		t.Fatalf("%d sign-ups won, want exactly 1", ok)
	}
	db := kit.Of(h.auth).DB()
	var holders, rows int64
	h.must(db.Model(&models.LoginTenant{}).
		Where("tenant_id = ? AND method = ? AND account = ?", "acme", models.LoginEmailPassword, "race@example.com").Count(&holders).Error)
	h.must(db.Model(&models.EmailPasswordUser{}).Where("email = ?", "race@example.com").Count(&rows).Error)
	if holders != 1 || rows != 2 { // the disassociated account and the winner; no half-written loser
		t.Fatalf("login rows %d (want 1), recipe rows %d (want 2)", holders, rows)
	}
}

// TestPasswordlessUpdateUserFollowsAssociation: a passwordless user
// associated with beta signs in there with its changed contact, and a
// value another beta user holds is refused although acme has it free.
func TestPasswordlessUpdateUserFollowsAssociation(t *testing.T) {
	h := newLoginHarness(t)
	a := h.consume("acme", passwordless.PhoneContact("+14155550123")).User
	_, err := h.mt.AssociateUserToTenant(h.ctx, "beta", a.ID)
	h.must(err)
	h.consume("beta", passwordless.EmailContact("taken@example.com"))

	e, p := "taken@example.com", "+14155550124"
	res, err := h.pl.UpdateUser(h.ctx, a.ID, &e, nil)
	if err != nil || res.Status != passwordless.UpdateEmailExists {
		t.Fatalf("address held in beta: %+v %v", res, err)
	}
	e = "ann@example.com"
	res, err = h.pl.UpdateUser(h.ctx, a.ID, &e, &p)
	if err != nil || res.Status != passwordless.UpdateOK {
		t.Fatalf("change: %+v %v", res, err)
	}
	for _, tenant := range []string{"acme", "beta"} {
		for _, c := range []passwordless.Contact{passwordless.EmailContact(e), passwordless.PhoneContact(p)} {
			if r := h.consume(tenant, c); r.CreatedNewRecipeUser || r.User.ID != a.ID {
				t.Fatalf("%s in %s: created=%v id=%s", c, tenant, r.CreatedNewRecipeUser, r.User.ID)
			}
		}
	}
	// The old number is free in both tenants.
	if r := h.consume("beta", passwordless.PhoneContact("+14155550123")); !r.CreatedNewRecipeUser {
		t.Fatal("old number still signs in to beta")
	}
}

// signUpBurst sends n parallel HTTP sign-ups of email in tenant, with also
// (when not nil) run at the same moment, and returns how many succeeded;
// an answer other than OK or "already exists" fails the test.
func (h *loginHarness) signUpBurst(tenant, email string, n int, also func()) int {
	var wg sync.WaitGroup
	statuses := make([]string, n)
	start := make(chan struct{})
	body := fmt.Sprintf(`{"formFields":[{"id":"email","value":%q},{"id":"password","value":"other-horse-9"}]}`, email)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			w := h.client().c.Do("POST", "/auth/"+tenant+"/signup", body)
			if w.Code != http.StatusOK {
				statuses[i] = fmt.Sprintf("HTTP %d %s", w.Code, w.Body.String())
				return
			}
			statuses[i], _ = w.JSON["status"].(string)
			if statuses[i] == "FIELD_ERROR" && strings.Contains(w.Body.String(), "already exists") {
				statuses[i] = "EXISTS" // the FDI's answer to a taken address
			}
		}(i)
	}
	if also != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			also()
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch s {
		case "OK":
			ok++
		case "EXISTS":
		default:
			h.t.Errorf("sign-up %d: %s", i, s)
		}
	}
	return ok
}
