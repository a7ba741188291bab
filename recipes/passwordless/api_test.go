package passwordless

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

func TestGoAPI(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ContactMethod = ContactEmailOrPhone })
	ctx := t.Context()
	pl := h.pl

	if _, err := pl.CreateCode(ctx, "", Contact{}); !errors.Is(err, ErrInvalidContact) {
		t.Fatalf("no contact: %v", err)
	}
	if _, err := pl.CreateCode(ctx, "", Contact{Email: "a@b.co", PhoneNumber: "+14155550123"}); !errors.Is(err, ErrInvalidContact) {
		t.Fatalf("both: %v", err)
	}
	var ic *InvalidContactError
	if _, err := pl.CreateCode(ctx, "", EmailContact("nope")); !errors.As(err, &ic) || ic.Message != MsgEmailInvalid {
		t.Fatalf("invalid: %v", err)
	}

	code, err := pl.CreateCode(ctx, "", EmailContact("Y@Example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if len(code.UserInputCode) != 6 || len(code.LinkCode) < 43 || code.ExpiresAt.Sub(code.CreatedAt) != 15*time.Minute {
		t.Fatalf("code %+v", code)
	}
	_, err = pl.ConsumeCode(ctx, "", ConsumeInput{PreAuthSessionID: code.PreAuthSessionID, DeviceID: code.DeviceID, UserInputCode: wrongCode(code.UserInputCode)})
	var ce *CodeError
	if !errors.As(err, &ce) || !errors.Is(err, ErrIncorrectCode) || ce.FailedAttempts != 1 || ce.MaxAttempts != 5 {
		t.Fatalf("wrong code: %v", err)
	}
	again, err := pl.ResendCode(ctx, "", code.DeviceID, code.PreAuthSessionID)
	if err != nil || again.PreAuthSessionID != code.PreAuthSessionID {
		t.Fatalf("resend: %v", err)
	}
	if _, err := pl.ResendCode(ctx, "", "other", code.PreAuthSessionID); !errors.Is(err, ErrRestartFlow) {
		t.Fatalf("resend with a wrong device: %v", err)
	}
	res, err := pl.ConsumeCode(ctx, "", ConsumeInput{PreAuthSessionID: code.PreAuthSessionID, LinkCode: again.LinkCode})
	if err != nil || !res.CreatedNewRecipeUser || res.Factor != FactorLinkEmail || res.Contact.Email != "y@example.com" {
		t.Fatalf("consume: %+v %v", res, err)
	}
	if _, err := pl.ConsumeCode(ctx, "", ConsumeInput{PreAuthSessionID: code.PreAuthSessionID}); !errors.Is(err, ginauth.ErrBadRequest) {
		t.Fatalf("empty input: %v", err)
	}
	if _, err := pl.ConsumeCode(ctx, "", ConsumeInput{PreAuthSessionID: code.PreAuthSessionID, LinkCode: code.LinkCode}); !errors.Is(err, ErrRestartFlow) {
		t.Fatalf("used device: %v", err)
	}

	u, err := pl.GetUserByEmail(ctx, "", " y@EXAMPLE.com")
	if err != nil || u.ID != res.User.ID {
		t.Fatalf("GetUserByEmail: %v", err)
	}
	if _, err := pl.GetUserByEmail(ctx, "other", "y@example.com"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("other tenant: %v", err)
	}

	// SignInUp by phone, twice: one user.
	p1, err := pl.SignInUp(ctx, "", PhoneContact("+44 20 7183 8750"))
	if err != nil || !p1.CreatedNewRecipeUser {
		t.Fatalf("SignInUp: %+v %v", p1, err)
	}
	p2, err := pl.SignInUp(ctx, "", PhoneContact("+442071838750"))
	if err != nil || p2.CreatedNewRecipeUser || p2.User.ID != p1.User.ID {
		t.Fatalf("SignInUp again: %+v %v", p2, err)
	}
	if u, err := pl.GetUserByPhoneNumber(ctx, "", "+44 (20) 7183-8750"); err != nil || u.ID != p1.User.ID {
		t.Fatalf("GetUserByPhoneNumber: %v", err)
	}

	// Magic links and revoking.
	link, err := pl.CreateMagicLink(ctx, "acme", EmailContact("z@example.com"))
	if err != nil || !strings.HasPrefix(link, "http://localhost:3000/auth/verify?preAuthSessionId=") || !strings.Contains(link, "&tenantId=acme#") {
		t.Fatalf("link %q %v", link, err)
	}
	if _, err := pl.CreateCode(ctx, "acme", EmailContact("z@example.com")); err != nil {
		t.Fatal(err)
	}
	if n, err := pl.RevokeAllCodes(ctx, "acme", EmailContact("Z@example.com")); err != nil || n != 2 {
		t.Fatalf("RevokeAllCodes = %d, %v", n, err)
	}
	if n := h.count(&models.PasswordlessCode{}); n != 0 {
		t.Fatalf("%d codes after revoking", n)
	}

	// Expired codes are deleted on demand.
	if _, err := pl.CreateCode(ctx, "", EmailContact("old@example.com")); err != nil {
		t.Fatal(err)
	}
	fresh, _ := pl.CreateCode(ctx, "", EmailContact("new@example.com"))
	h.clock.Advance(10 * time.Minute)
	if _, err := pl.ResendCode(ctx, "", fresh.DeviceID, fresh.PreAuthSessionID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(6 * time.Minute)
	if n, err := pl.DeleteExpiredCodes(ctx); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredCodes = %d, %v", n, err)
	}
	if n := h.count(&models.PasswordlessDevice{}); n != 1 {
		t.Fatalf("%d devices left, want the one with a live code", n)
	}

	// ListUsers finds passwordless users by e-mail; DeleteUser removes
	// their rows.
	users, _, err := h.auth.ListUsers(ctx, ginauth.ListUsersOptions{Email: "Y@example.com"})
	if err != nil || len(users) != 1 || users[0].ID != res.User.ID {
		t.Fatalf("ListUsers: %v %v", users, err)
	}
	if _, err := pl.CreateCode(ctx, "", EmailContact("y@example.com")); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.auth.DeleteUser(ctx, res.User.ID); !ok || err != nil {
		t.Fatalf("DeleteUser: %v %v", ok, err)
	}
	if _, err := pl.GetUserByEmail(ctx, "", "y@example.com"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("after delete: %v", err)
	}
	var n int64
	kit.Of(h.auth).DB().Model(&models.PasswordlessDevice{}).Where("email = ?", "y@example.com").Count(&n)
	if n != 0 {
		t.Fatal("the deleted user's devices remain")
	}
}

func TestNotSetUp(t *testing.T) {
	pl := New(Config{})
	if _, err := pl.CreateCode(t.Context(), "", EmailContact("a@b.co")); !errors.Is(err, ErrNotSetUp) {
		t.Fatal(err)
	}
	if got := pl.FactorIDs(); strings.Join(got, ",") != "otp-email,link-email" {
		t.Fatalf("default FactorIDs %v", got)
	}
}

func TestValidators(t *testing.T) {
	for in, want := range map[string]string{
		" +1 (415) 555-0123 ": "+14155550123",
		"0044 20 7183 8750":   "+442071838750",
		"+49.30.123456":       "+4930123456",
	} {
		if got := NormalisePhoneNumber(in); got != want {
			t.Errorf("NormalisePhoneNumber(%q) = %q", in, got)
		}
	}
	for _, ok := range []string{"+14155550123", "+442071838750", "+8613800138000"} {
		if msg := DefaultValidatePhoneNumber(t.Context(), ok, ""); msg != "" {
			t.Errorf("%s: %s", ok, msg)
		}
	}
	for _, ok := range []string{"a@b.co", "first.last+tag@sub.example.org"} {
		if msg := DefaultValidateEmail(t.Context(), ok, ""); msg != "" {
			t.Errorf("%s: %s", ok, msg)
		}
	}
	for _, bad := range []string{"a@b", "a@@b.co", "a b@c.co", "@b.co", "a@b.c"} {
		if msg := DefaultValidateEmail(t.Context(), bad, ""); msg != MsgEmailInvalid {
			t.Errorf("%s accepted", bad)
		}
	}
}
