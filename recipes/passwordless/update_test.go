package passwordless

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

func ptr(s string) *string { return &s }

// loginRows returns userID's ginauth_login_tenants rows as
// "tenant method account" strings, sorted.
func (h *harness) loginRows(userID string) []string {
	h.t.Helper()
	var rows []models.LoginTenant
	if err := kit.Of(h.auth).DB().Where("user_id = ?", userID).Order("tenant_id, method, account").Find(&rows).Error; err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.TenantID + " " + r.Method + " " + r.Account
	}
	return out
}

func (h *harness) plRow(userID string) models.PasswordlessUser {
	h.t.Helper()
	var row models.PasswordlessUser
	if err := kit.Of(h.auth).DB().Where("user_id = ?", userID).Take(&row).Error; err != nil {
		h.t.Fatal(err)
	}
	return row
}

func (h *harness) update(userID string, email, phone *string) UpdateStatus {
	h.t.Helper()
	res, err := h.pl.UpdateUser(context.Background(), userID, email, phone)
	if err != nil {
		h.t.Fatalf("UpdateUser(%s): %v", userID, err)
	}
	return res.Status
}

// TestUpdateUser mirrors supertokens-node's passwordless updateUser
// (recipe/passwordless/recipeImplementation.ts, answered by the core's
// PUT /recipe/user): nil leaves a value, "" removes it but not both, a
// value another user holds in the tenant is refused with the status of
// its kind, and sign-ins follow the change because its login rows are
// rewritten in the same transaction.
func TestUpdateUser(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactEmailOrPhone })
	ctx := context.Background()
	a, err := h.pl.SignInUp(ctx, "public", EmailContact("ann@example.com"))
	h.must(err)
	b, err := h.pl.SignInUp(ctx, "public", PhoneContact("+14155550100"))
	h.must(err)
	aID, bID := a.User.ID, b.User.ID

	if st := h.update(aID, ptr(" Ann2@Example.com "), nil); st != UpdateOK {
		t.Fatalf("e-mail change: %s", st)
	}
	if u, err := h.pl.GetUserByEmail(ctx, "public", "ann2@example.com"); err != nil || u.ID != aID {
		t.Fatalf("new address does not sign in: %v", err)
	}
	if _, err := h.pl.GetUserByEmail(ctx, "public", "ann@example.com"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("old address still signs in: %v", err)
	}
	// Adding a number: the method now signs in with it too.
	if st := h.update(aID, nil, ptr("+1 (415) 555-0101")); st != UpdateOK {
		t.Fatalf("phone added: %s", st)
	}
	if u, err := h.pl.GetUserByPhoneNumber(ctx, "public", "+14155550101"); err != nil || u.ID != aID {
		t.Fatalf("added number does not sign in: %v", err)
	}
	want := "public passwordless-email ann2@example.com,public passwordless-phone +14155550101"
	if got := strings.Join(h.loginRows(aID), ","); got != want {
		t.Fatalf("login rows %s, want %s", got, want)
	}

	// Values another user holds: refused, nothing changed.
	if st := h.update(aID, ptr("new@example.com"), ptr("+14155550100")); st != UpdatePhoneExists {
		t.Fatalf("phone of another user: %s", st)
	}
	if st := h.update(bID, ptr("ann2@example.com"), nil); st != UpdateEmailExists {
		t.Fatalf("e-mail of another user: %s", st)
	}
	if got := strings.Join(h.loginRows(aID), ","); got != want {
		t.Fatalf("refused change left login rows %s", got)
	}
	if row := h.plRow(aID); deref(row.Email) != "ann2@example.com" || deref(row.PhoneNumber) != "+14155550101" {
		t.Fatalf("refused change left the row %v %v", deref(row.Email), deref(row.PhoneNumber))
	}
	if row := h.plRow(bID); row.Email != nil {
		t.Fatalf("refused change gave b the address %s", *row.Email)
	}

	// Removing one: the other stays; removing both is refused.
	if st := h.update(aID, ptr(""), nil); st != UpdateOK {
		t.Fatalf("e-mail removed: %s", st)
	}
	if row := h.plRow(aID); row.Email != nil {
		t.Fatalf("removed e-mail still stored: %q", *row.Email)
	}
	if got := strings.Join(h.loginRows(aID), ","); got != "public passwordless-phone +14155550101" {
		t.Fatalf("login rows after removal: %s", got)
	}
	if _, err := h.pl.UpdateUser(ctx, aID, nil, ptr("")); !errors.Is(err, ErrInvalidContact) {
		t.Fatalf("removing the last contact: %v", err)
	}
	if _, err := h.pl.UpdateUser(ctx, bID, ptr(""), ptr("")); !errors.Is(err, ErrInvalidContact) {
		t.Fatalf("removing both: %v", err)
	}
	// The freed address signs up as a new user.
	if r, err := h.pl.SignInUp(ctx, "public", EmailContact("ann2@example.com")); err != nil || !r.CreatedNewRecipeUser {
		t.Fatalf("freed address: %v", err)
	}
	res, err := h.pl.UpdateUser(ctx, "no-such-user", ptr("x@example.com"), nil)
	if err != nil || res.Status != UpdateUnknownUser {
		t.Fatalf("unknown user: %v %v", res, err)
	}
}

// TestUpdateUserRefusesHostileInput: a NUL byte, bytes that are not
// UTF-8, an invalid or over-long number or address give ErrInvalidContact
// with a message, before anything is written.
func TestUpdateUserRefusesHostileInput(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactEmailOrPhone })
	ctx := context.Background()
	a, err := h.pl.SignInUp(ctx, "public", EmailContact("ann@example.com"))
	h.must(err)
	id := a.User.ID
	before := strings.Join(h.loginRows(id), ",")
	for _, c := range []struct {
		name         string
		email, phone *string
	}{
		{"NUL in e-mail", ptr("ann\x00@example.com"), nil},
		{"NUL in phone", nil, ptr("+1415\x005550100")},
		{"not UTF-8", ptr("ann\xff@example.com"), nil},
		{"invalid e-mail", ptr("not-an-address"), nil},
		{"invalid phone", nil, ptr("555-CALL-NOW")},
		{"long e-mail", ptr(strings.Repeat("a", 250) + "@example.com"), nil},
		{"long phone", nil, ptr("+1" + strings.Repeat("5", 40))},
		{"e-mail ok, phone bad", ptr("ok@example.com"), ptr("+0")},
	} {
		res, err := h.pl.UpdateUser(ctx, id, c.email, c.phone)
		var ice *InvalidContactError
		if !errors.As(err, &ice) || ice.Message == "" {
			t.Errorf("%s: %v %v, want an *InvalidContactError", c.name, res, err)
		}
	}
	if _, err := h.pl.UpdateUser(ctx, "u\x00", ptr("x@example.com"), nil); err == nil {
		t.Error("NUL in the user id accepted")
	}
	if got := strings.Join(h.loginRows(id), ","); got != before {
		t.Fatalf("refused input changed login rows: %s", got)
	}
	if row := h.plRow(id); deref(row.Email) != "ann@example.com" || row.PhoneNumber != nil {
		t.Fatalf("refused input changed the row: %v %v", deref(row.Email), deref(row.PhoneNumber))
	}
}

// TestConcurrentUpdateUserOneWins: ten users change to one address at
// once; the key of ginauth_login_tenants lets exactly one through and the
// others get EMAIL_ALREADY_EXISTS_ERROR with their rows untouched.
func TestConcurrentUpdateUserOneWins(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactEmailOrPhone })
	ctx := context.Background()
	const n = 10
	ids := make([]string, n)
	for i := range ids {
		r, err := h.pl.SignInUp(ctx, "public", PhoneContact("+1415555010"+string(rune('0'+i))))
		h.must(err)
		ids[i] = r.User.ID
	}
	statuses := make([]UpdateStatus, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			res, err := h.pl.UpdateUser(ctx, ids[i], ptr("same@example.com"), nil)
			errs[i] = err
			if res != nil {
				statuses[i] = res.Status
			}
		}(i)
	}
	close(start)
	wg.Wait()
	winner := ""
	for i := range ids {
		switch {
		case errs[i] != nil:
			t.Errorf("update %d: %v", i, errs[i])
		case statuses[i] == UpdateOK:
			if winner != "" {
				t.Errorf("two winners: %s and %s", winner, ids[i])
			}
			winner = ids[i]
		case statuses[i] != UpdateEmailExists:
			t.Errorf("update %d: %s", i, statuses[i])
		}
	}
	if winner == "" {
		t.Fatal("no update won")
	}
	var holders, rows int64
	db := kit.Of(h.auth).DB()
	h.must(db.Model(&models.LoginTenant{}).Where("method = ? AND account = ?", models.LoginPasswordlessEmail, "same@example.com").Count(&holders).Error)
	h.must(db.Model(&models.PasswordlessUser{}).Where("email = ?", "same@example.com").Count(&rows).Error)
	if holders != 1 || rows != 1 {
		t.Fatalf("%d login rows and %d recipe rows hold the address, want 1 and 1", holders, rows)
	}
	if u, err := h.pl.GetUserByEmail(ctx, "public", "same@example.com"); err != nil || u.ID != winner {
		t.Fatalf("the address signs in as %v (%v), want %s", u, err, winner)
	}
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestSecondFactorPhoneAddedToRowSignsIn: setting up otp-phone for a user
// whose passwordless row has an e-mail adds the number to that row, and
// the number then signs in (its ginauth_login_tenants row is written with
// it). Defence: addContact's addLoginRows (without it the number is stored
// but unknown to sign-in, and nothing keeps another user from holding it).
func TestSecondFactorPhoneAddedToRowSignsIn(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	s, uid := m.signUp("ada@example.com")
	r, d := s.createCode(map[string]any{"email": "ada@example.com"})
	expectStatus(t, r, "OK")
	code, _ := codeFrom(t, m.waitMail())
	expectStatus(t, s.consume(d, code), "OK")
	r, d = s.createCode(map[string]any{"phoneNumber": "+14155550177"})
	expectStatus(t, r, "OK")
	sms := m.waitSMS()
	expectStatus(t, s.consume(d, sms.Code), "OK")
	if row := m.plRow(uid); deref(row.Email) != "ada@example.com" || deref(row.PhoneNumber) != "+14155550177" {
		t.Fatalf("row after the phone set-up: %v %v", deref(row.Email), deref(row.PhoneNumber))
	}
	if u, err := m.pl.GetUserByPhoneNumber(context.Background(), "public", "+14155550177"); err != nil || u.ID != uid {
		t.Fatalf("the set-up number does not sign in: %v", err)
	}
	// Another user cannot take it by a contact change.
	o, err := m.pl.SignInUp(context.Background(), "public", EmailContact("other@example.com"))
	m.must(err)
	if st := m.update(o.RecipeUserID, nil, ptr("+14155550177")); st != UpdatePhoneExists {
		t.Fatalf("another user taking the set-up number: %s", st)
	}
}
