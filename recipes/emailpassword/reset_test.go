package emailpassword

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/smtptest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// resetBody builds a POST /user/password/reset body.
func resetBody(token, password string) string {
	return `{"method":"token","token":` + mustJSON(token) + `,"formFields":[{"id":"password","value":` + mustJSON(password) + `}]}`
}

// requestReset asks for a reset link and returns the token from the mail.
func (h *harness) requestReset(path, email string) (string, emaildelivery.Email) {
	h.t.Helper()
	expectStatus(h.t, h.do("POST", path, ginauthtest.Form("email", email)), "OK")
	m := h.waitMail()
	u, err := url.Parse(m.Link)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Query().Get("token"), m
}

func TestResetFlow(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.mustSignUp("ann@b.io", "secret123")
	old := h.signIn("ann@b.io", "secret123")
	expectStatus(t, old, "OK")

	// Unknown address: the same answer, and no mail.
	expectStatus(t, h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "nobody@b.io")), "OK")
	h.noMail()

	token, m := h.requestReset("/auth/user/password/reset/token", " ANN@b.io")
	if m.To != "ann@b.io" || m.Kind != emaildelivery.KindPasswordReset || !strings.Contains(m.Text, m.Link) || m.Subject == "" {
		t.Fatalf("mail %+v", m)
	}
	wantPrefix := "http://localhost:3000/auth/reset-password?"
	if !strings.HasPrefix(m.Link, wantPrefix) || !strings.Contains(m.Link, "tenantId=public") || len(token) < 43 {
		t.Fatalf("link %q", m.Link)
	}

	// The secret is nowhere in the database.
	assertNotStored(t, h, token, "secret123")

	expectFieldError(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "weak")), "password", MsgPasswordTooShort)
	expectFieldError(t, h.do("POST", "/auth/user/password/reset", `{"token":"x","formFields":[]}`), "password", MsgFieldNotOptional)
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "OK")

	// Every session of the user is gone; the old refresh token is dead.
	if s, _ := h.auth.ListSessions(ctx, id); len(s) != 0 {
		t.Fatalf("%d sessions survived the reset", len(s))
	}
	if r := h.do("POST", "/auth/session/refresh", "", "rid", "session", "Authorization", "Bearer "+old.Header().Get("st-refresh-token")); r.Code != 401 {
		t.Fatalf("refresh after reset: %d", r.Code)
	}
	if r := h.do("GET", "/me", "", "Authorization", "Bearer "+old.Header().Get("st-access-token")); r.Code != 401 {
		t.Fatalf("access token after reset (database-checked route): %d", r.Code)
	}

	expectStatus(t, h.signIn("ann@b.io", "secret123"), "WRONG_CREDENTIALS_ERROR")
	expectStatus(t, h.signIn("ann@b.io", "newsecret456"), "OK")

	// Single use.
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "another789")), "RESET_PASSWORD_INVALID_TOKEN_ERROR")
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody("made-up-token", "another789")), "RESET_PASSWORD_INVALID_TOKEN_ERROR")
	if n := h.count(&models.PasswordResetToken{}); n != 0 {
		t.Fatalf("%d reset tokens left", n)
	}
}

func TestResetTokenExpiry(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ResetTokenValidity = 30 * time.Minute })
	h.mustSignUp("ann@b.io", "secret123")
	token, m := h.requestReset("/auth/user/password/reset/token", "ann@b.io")
	if !strings.Contains(m.Text, "30 minutes") {
		t.Fatalf("mail text does not give the validity: %q", m.Text)
	}
	h.clock.Advance(31 * time.Minute)
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "RESET_PASSWORD_INVALID_TOKEN_ERROR")
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	// A new request sweeps the expired token.
	h.requestReset("/auth/user/password/reset/token", "ann@b.io")
	if n := h.count(&models.PasswordResetToken{}); n != 1 {
		t.Fatalf("%d tokens, want 1", n)
	}
}

func TestResetTenants(t *testing.T) {
	h := newHarness(t, nil)
	expectStatus(t, h.do("POST", "/auth/acme/signup", ginauthtest.Form("email", "ann@b.io", "password", "secret123")), "OK")
	token, m := h.requestReset("/auth/acme/user/password/reset/token", "ann@b.io")
	if !strings.Contains(m.Link, "tenantId=acme") {
		t.Fatalf("link %q", m.Link)
	}
	// The public tenant has no such account, and the token is acme's.
	expectStatus(t, h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "ann@b.io")), "OK")
	h.noMail()
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "RESET_PASSWORD_INVALID_TOKEN_ERROR")
	expectStatus(t, h.do("POST", "/auth/acme/user/password/reset", resetBody(token, "newsecret456")), "OK")
}

func TestResetGoAPI(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	u, err := h.ep.SignUp(ctx, "", "ann@b.io", "secret123")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ep.CreateResetPasswordToken(ctx, "", "no-such-user"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := h.ep.CreateResetPasswordToken(ctx, "acme", u.ID); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("other tenant: %v", err)
	}
	tok1, err := h.ep.CreateResetPasswordToken(ctx, "", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok2, _ := h.ep.CreateResetPasswordToken(ctx, "", u.ID)
	if _, err := h.ep.ResetPasswordUsingToken(ctx, "", tok1, "short"); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("weak password: %v", err)
	}
	got, err := h.ep.ResetPasswordUsingToken(ctx, "", tok1, "newsecret456")
	if err != nil || got.ID != u.ID {
		t.Fatalf("reset: %v %v", got, err)
	}
	// The user's other tokens died with the one used.
	if _, err := h.ep.ResetPasswordUsingToken(ctx, "", tok2, "newsecret789"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("second token: %v", err)
	}

	// A token stops working when the account's e-mail changes.
	tok3, _ := h.ep.CreateResetPasswordToken(ctx, "", u.ID)
	newEmail := "ann2@b.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, u.ID, &newEmail, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ep.ResetPasswordUsingToken(ctx, "", tok3, "newsecret789"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token after e-mail change: %v", err)
	}
}

func TestUpdateEmailOrPassword(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.mustSignUp("ann@b.io", "secret123")
	h.mustSignUp("bob@b.io", "secret123")
	h.clock.Advance(time.Second) // so that ListSessions' order is known
	keep := h.signIn("ann@b.io", "secret123")
	expectStatus(t, keep, "OK")
	sessions, _ := h.auth.ListSessions(ctx, id)
	if len(sessions) != 2 {
		t.Fatalf("%d sessions", len(sessions))
	}
	keepHandle := sessions[1].Handle

	taken := "BOB@b.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, &taken, nil, ""); !errors.Is(err, ErrEmailExists) {
		t.Fatalf("taken e-mail: %v", err)
	}
	bad := "nope"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, &bad, nil, ""); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("bad e-mail: %v", err)
	}
	weak := "123"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, nil, &weak, ""); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("weak password: %v", err)
	}
	if err := h.ep.UpdateEmailOrPassword(ctx, "nobody", nil, nil, ""); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("unknown: %v", err)
	}
	pw := "changed123"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, nil, &pw, keepHandle); err != nil {
		t.Fatal(err)
	}
	sessions, _ = h.auth.ListSessions(ctx, id)
	if len(sessions) != 1 || sessions[0].Handle != keepHandle {
		t.Fatalf("sessions after password change: %+v", sessions)
	}
	expectStatus(t, h.signIn("ann@b.io", "changed123"), "OK")
	email := " Ann.New@b.io"
	if err := h.ep.UpdateEmailOrPassword(ctx, id, &email, nil, ""); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, h.signIn("ann.new@b.io", "changed123"), "OK")
	// An e-mail change alone keeps the sessions.
	if s, _ := h.auth.ListSessions(ctx, id); len(s) != 3 {
		t.Fatalf("%d sessions after e-mail change, want 3", len(s))
	}
}

func TestDeleteUser(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.mustSignUp("ann@b.io", "secret123")
	if _, err := h.ep.CreateResetPasswordToken(ctx, "", id); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.auth.DeleteUser(ctx, id); !ok || err != nil {
		t.Fatalf("DeleteUser: %v %v", ok, err)
	}
	if a, tk := h.count(&models.EmailPasswordUser{}), h.count(&models.PasswordResetToken{}); a != 0 || tk != 0 {
		t.Fatalf("%d accounts, %d tokens left", a, tk)
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "WRONG_CREDENTIALS_ERROR")
	h.mustSignUp("ann@b.io", "secret123") // the address is free again
}

// assertNotStored scans every row of the recipe's and the session tables
// for the given secrets.
func assertNotStored(t *testing.T, h *harness, secrets ...string) {
	t.Helper()
	for _, table := range append(models.EmailPasswordTables(), models.TableSessions, models.TableUsers) {
		rows, err := kit.Of(h.auth).DB().Table(table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				}
				for _, secret := range secrets {
					if strings.Contains(s, secret) {
						t.Fatalf("%s.%s holds a secret in the clear: %q", table, cols[i], s)
					}
				}
			}
		}
		_ = rows.Close()
	}
}

// The reset e-mail goes over a real SMTP conversation (STARTTLS, AUTH) to
// an in-process server; the link read off that server resets the password
// once.
func TestResetOverSMTP(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Username: "mailer", Password: "mail-pass"})
	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "mail-pass",
		From: "Test <noreply@example.com>", TLS: emaildelivery.TLSStartTLS, TLSConfig: srv.ClientTLSConfig(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.EmailSender = sender })
	h.mustSignUp("smtp@b.io", "secret123")
	expectStatus(t, h.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "smtp@b.io")), "OK")
	m := srv.WaitForMessage(t, 10*time.Second)
	if !m.TLS || m.AuthUser != "mailer" || len(m.To) != 1 || m.To[0] != "smtp@b.io" {
		t.Fatalf("message: TLS %v, auth %q, to %v", m.TLS, m.AuthUser, m.To)
	}
	var link string
	for _, l := range m.Links() {
		if strings.Contains(l, "/reset-password?") {
			link = l
		}
	}
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" || u.Query().Get("tenantId") != "public" {
		t.Fatalf("no reset link in %q (links %v)", m.Text, m.Links())
	}
	token := u.Query().Get("token")
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "newsecret456")), "OK")
	expectStatus(t, h.signIn("smtp@b.io", "newsecret456"), "OK")
	expectStatus(t, h.do("POST", "/auth/user/password/reset", resetBody(token, "third789x")), "RESET_PASSWORD_INVALID_TOKEN_ERROR")
}
