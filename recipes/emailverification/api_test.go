package emailverification_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailverification"
)

func TestGoAPI(t *testing.T) {
	h := newHarness(t, setup{})
	ctx := context.Background()
	cl := h.client("header")
	id := cl.signup("Zoe@Example.com")
	ev := h.ev

	if email, ok, err := ev.GetEmail(ctx, id); err != nil || !ok || email != "Zoe@Example.com" {
		t.Fatalf("GetEmail = %q, %v, %v", email, ok, err)
	}
	if _, _, err := ev.GetEmail(ctx, "nobody"); !errors.Is(err, ginauth.ErrNotFound) {
		t.Fatalf("GetEmail(unknown) err = %v", err)
	}
	if v, err := ev.IsVerified(ctx, id, "zoe@example.com"); err != nil || v {
		t.Fatalf("IsVerified = %v, %v", v, err)
	}

	// Tokens: a few live ones at most per address.
	var tokens []string
	for i := 0; i < 7; i++ {
		tok, err := ev.CreateVerificationToken(ctx, "", id, "zoe@example.com")
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
		h.clock.Advance(time.Second)
	}
	if n := h.count(&models.EmailVerificationToken{}); n != 5 {
		t.Errorf("%d live tokens, want 5", n)
	}
	if _, _, err := ev.VerifyUsingToken(ctx, "", tokens[0]); !errors.Is(err, emailverification.ErrInvalidToken) {
		t.Errorf("oldest token still works: %v", err)
	}
	if err := ev.RevokeVerificationTokens(ctx, id, "ZOE@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ev.VerifyUsingToken(ctx, "public", tokens[6]); !errors.Is(err, emailverification.ErrInvalidToken) {
		t.Errorf("revoked token works: %v", err)
	}

	tok, err := ev.CreateVerificationToken(ctx, "public", id, " ZOE@example.com ")
	if err != nil {
		t.Fatal(err)
	}
	uid, email, err := ev.VerifyUsingToken(ctx, "public", tok)
	if err != nil || uid != id || email != "zoe@example.com" {
		t.Fatalf("VerifyUsingToken = %q, %q, %v", uid, email, err)
	}
	if v, err := ev.IsVerified(ctx, id, "ZOE@EXAMPLE.COM"); err != nil || !v {
		t.Fatalf("IsVerified after verifying = %v, %v", v, err)
	}
	if _, err := ev.CreateVerificationToken(ctx, "public", id, "zoe@example.com"); !errors.Is(err, emailverification.ErrEmailAlreadyVerified) {
		t.Fatalf("CreateVerificationToken for a verified address: %v", err)
	}
	if err := ev.SendVerificationEmail(ctx, "", id, ""); !errors.Is(err, emailverification.ErrEmailAlreadyVerified) {
		t.Fatalf("SendVerificationEmail for a verified address: %v", err)
	}
	u, err := h.auth.GetUser(ctx, id)
	if err != nil || !u.LoginMethods[0].Verified {
		t.Fatalf("GetUser: %+v, %v", u, err)
	}

	// MarkUnverified also updates the payload stored with the sessions, so
	// that the next refresh carries st-ev false.
	if err := ev.MarkUnverified(ctx, id, "zoe@example.com"); err != nil {
		t.Fatal(err)
	}
	if v, _ := ev.IsVerified(ctx, id, "zoe@example.com"); v {
		t.Fatal("still verified")
	}
	sessions, err := h.auth.ListSessions(ctx, id)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("ListSessions = %v, %v", sessions, err)
	}
	if v, ok := ev.Claim().Get(sessions[0].AccessTokenPayload); !ok || v {
		t.Errorf("stored st-ev = %v, %v; want false", v, ok)
	}
	if err := ev.MarkVerified(ctx, id, "zoe@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := ev.MarkVerified(ctx, id, "zoe@example.com"); err != nil {
		t.Fatalf("MarkVerified twice: %v", err)
	}
	sessions, _ = h.auth.ListSessions(ctx, id)
	if v, _ := ev.Claim().Get(sessions[0].AccessTokenPayload); !v {
		t.Error("stored st-ev not true after MarkVerified")
	}

	// SendVerificationEmail for an address given explicitly.
	if err := ev.SendVerificationEmail(ctx, "public", id, "second@example.com"); err != nil {
		t.Fatal(err)
	}
	if e := h.mail.last(t); e.To != "second@example.com" || e.Link == "" {
		t.Errorf("mail = %+v", e)
	}

	// Deleting the user deletes the recipe's rows.
	if _, err := h.auth.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := h.count(&models.EmailVerificationToken{}) + h.count(&models.VerifiedEmail{}); n != 0 {
		t.Errorf("%d rows left after DeleteUser", n)
	}
}

func TestAfterVerifyHook(t *testing.T) {
	var got []string
	h := newHarness(t, setup{ev: emailverification.Config{AfterVerify: func(ctx context.Context, userID, email string) error {
		got = append(got, userID+" "+email)
		return errors.New("logged, not fatal")
	}}})
	cl := h.client("header")
	id := cl.signup("a@example.com")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(tokenFrom(t, h.mail.last(t).Link, "public"))), 200, "OK")
	if len(got) != 1 || got[0] != id+" a@example.com" {
		t.Errorf("AfterVerify calls = %q", got)
	}
}

func TestCustomGetEmail(t *testing.T) {
	h := newHarness(t, setup{ev: emailverification.Config{GetEmail: func(ctx context.Context, userID string) (string, bool, error) {
		return "custom-" + userID[:4] + "@example.com", true, nil
	}}})
	cl := h.client("header")
	id := cl.signup("")
	if v, _ := cl.ev(); v {
		t.Fatal("GetEmail override ignored: user counted as verified")
	}
	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	if to := h.mail.last(t).To; to != "custom-"+id[:4]+"@example.com" {
		t.Errorf("mail to %q", to)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]emailverification.Config{
		"bad mode":          {Mode: "SOMETIMES"},
		"negative lifetime": {TokenLifetime: -time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			db := newHarness(t, setup{}).db // a migrated database
			_, err := ginauth.New(ginauth.Config{DB: db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
				Recipes: []ginauth.Recipe{emailverification.New(cfg)}, Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"}})
			if !errors.Is(err, ginauth.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	t.Run("one recipe, two Auths", func(t *testing.T) {
		h := newHarness(t, setup{})
		_, err := ginauth.New(ginauth.Config{DB: h.db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
			Recipes: []ginauth.Recipe{h.ev}, Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"}})
		if !errors.Is(err, ginauth.ErrConfig) {
			t.Fatalf("err = %v, want ErrConfig", err)
		}
	})
	t.Run("not set up", func(t *testing.T) {
		r := emailverification.New(emailverification.Config{})
		if _, err := r.IsVerified(context.Background(), "u", "a@b.c"); !errors.Is(err, emailverification.ErrNotSetUp) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing tables", func(t *testing.T) {
		h := newHarness(t, setup{})
		if err := h.db.Migrator().DropTable(models.TableVerifiedEmails); err != nil {
			t.Fatal(err)
		}
		_, err := ginauth.New(ginauth.Config{DB: h.db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
			Recipes: []ginauth.Recipe{emailverification.New(emailverification.Config{})}, Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"}})
		if !errors.Is(err, ginauth.ErrMissingTables) {
			t.Fatalf("err = %v, want ErrMissingTables", err)
		}
	})
}

// The refetch rule of fdi-protocol §5.2, checked without a database.
func TestIsVerifiedValidator(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := emailverification.EmailVerificationClaim
	at := func(v bool, age time.Duration) claims.Payload { return c.Update(v, now.Add(-age)) }
	cases := []struct {
		name        string
		v           claims.Validator
		p           claims.Payload
		wantRefetch bool
		wantMessage string
	}{
		{"missing", emailverification.IsVerified(), claims.Payload{}, true, "value does not exist"},
		{"true, old", emailverification.IsVerified(), at(true, 1000*time.Hour), false, ""},
		{"false, fresh", emailverification.IsVerified(), at(false, 10*time.Second), false, "wrong value"},
		{"false, stale", emailverification.IsVerified(), at(false, 10*time.Second+time.Millisecond), true, "wrong value"},
		{"false, custom refetch", emailverification.IsVerified(emailverification.RefetchOnFalse(time.Minute)), at(false, 30*time.Second), false, "wrong value"},
		{"true within max age", emailverification.IsVerified(emailverification.MaxAge(time.Hour)), at(true, time.Hour), false, ""},
		{"true past max age", emailverification.IsVerified(emailverification.MaxAge(time.Hour)), at(true, time.Hour+time.Millisecond), true, "expired"},
		{"no fetch time", emailverification.IsVerified(), claims.Payload{"st-ev": map[string]any{"v": false}}, true, "wrong value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.ShouldRefetch(tc.p, now); got != tc.wantRefetch {
				t.Errorf("ShouldRefetch = %v, want %v", got, tc.wantRefetch)
			}
			e := tc.v.Validate(tc.p, now)
			if tc.wantMessage == "" {
				if e != nil {
					t.Errorf("Validate = %+v", e)
				}
				return
			}
			if e == nil || e.ID != "st-ev" || e.Reason["message"] != tc.wantMessage {
				t.Fatalf("Validate = %+v, want %q", e, tc.wantMessage)
			}
			if tc.wantMessage == "wrong value" && (e.Reason["expectedValue"] != true || e.Reason["actualValue"] != false) {
				t.Errorf("reason = %v", e.Reason)
			}
		})
	}
	if id := emailverification.IsVerified(emailverification.ValidatorID("ev-check")).ID(); id != "ev-check" {
		t.Errorf("ValidatorID: %q", id)
	}
	if v := emailverification.IsVerified(); v.Claim().Key() != "st-ev" {
		t.Errorf("claim key %q", v.Claim().Key())
	}
}

// A token used by several requests at once verifies once.
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, setup{})
	ctx := context.Background()
	id := h.client("header").signup("a@example.com")
	tok, err := h.ev.CreateVerificationToken(ctx, "public", id, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, _, err := h.ev.VerifyUsingToken(ctx, "public", tok)
			results <- err
		}()
	}
	ok := 0
	for i := 0; i < n; i++ {
		err := <-results
		switch {
		case err == nil:
			ok++
		case errors.Is(err, emailverification.ErrInvalidToken), errors.Is(err, ginauth.ErrDatabase):
			// the losers: the token is gone (or, on SQLite, the write lock was taken)
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d successful uses of one token", ok)
	}
	if v, _ := h.ev.IsVerified(ctx, id, "a@example.com"); !v {
		t.Error("not verified")
	}
}

func TestDeleteExpiredTokens(t *testing.T) {
	h := newHarness(t, setup{})
	ctx := context.Background()
	id := h.client("header").signup("a@example.com")
	for i := 0; i < 3; i++ {
		if _, err := h.ev.CreateVerificationToken(ctx, "", id, "a@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := h.ev.DeleteExpiredTokens(ctx); n != 0 || err != nil {
		t.Fatalf("DeleteExpiredTokens = %d, %v", n, err)
	}
	h.clock.Advance(25 * time.Hour)
	if n, err := h.ev.DeleteExpiredTokens(ctx); n != 3 || err != nil {
		t.Fatalf("DeleteExpiredTokens = %d, %v", n, err)
	}
}
