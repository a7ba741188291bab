package emailverification_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/smtptest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailverification"
)

// TestRequiredModeOverSMTP is the whole story: an unverified user is
// refused everywhere, asks for a link, the mail goes through a real SMTP
// exchange, the link's token verifies the address from another device,
// and the user's sessions get through (one at once via GET
// /user/email/verify, one after the claim's refetch).
func TestRequiredModeOverSMTP(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Username: "mailer", Password: "s3cret"})
	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{Host: srv.Host(), Port: srv.Port(),
		Username: "mailer", Password: "s3cret", From: "Todos <noreply@todos.example>", TLSConfig: srv.ClientTLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{ev: emailverification.Config{EmailSender: sender}})

	laptop := h.client("header")
	userID := laptop.signup("Zoe@Example.com")
	if v, ok := laptop.ev(); !ok || v {
		t.Fatalf("new session st-ev = %v (present %v), want false", v, ok)
	}
	phone := h.client("cookie")
	phone.signin(userID)

	r := laptop.do("GET", "/protected", "")
	expectMessage(t, r, 403, "invalid claim")
	var body struct {
		ClaimValidationErrors []struct {
			ID     string         `json:"id"`
			Reason map[string]any `json:"reason"`
		} `json:"claimValidationErrors"`
	}
	_ = json.Unmarshal(r.Body.Bytes(), &body)
	if len(body.ClaimValidationErrors) != 1 || body.ClaimValidationErrors[0].ID != "st-ev" {
		t.Fatalf("claimValidationErrors = %s", r.Body)
	}
	if reason := body.ClaimValidationErrors[0].Reason; reason["message"] != "wrong value" || reason["expectedValue"] != true ||
		reason["actualValue"] != false {
		t.Fatalf("reason = %v", reason)
	}

	// The verification routes skip the claim, so the unverified user can
	// use them.
	expectStatus(t, laptop.do("GET", "/auth/user/email/verify", ""), 200, "OK")
	expectStatus(t, laptop.do("POST", "/auth/user/email/verify/token", "{}"), 200, "OK")

	m := srv.WaitForMessage(t, 10*time.Second)
	if !m.TLS || m.AuthUser != "mailer" || len(m.To) != 1 || m.To[0] != "Zoe@Example.com" {
		t.Fatalf("mail: %v", m)
	}
	if m.Subject != "Verify your e-mail address for Todos" {
		t.Errorf("Subject = %q", m.Subject)
	}
	links := m.Links()
	if len(links) != 1 {
		t.Fatalf("links in the mail: %q", links)
	}
	token := tokenFrom(t, links[0], "public")
	if !strings.Contains(m.HTML, strings.ReplaceAll(links[0], "&", "&amp;")) {
		t.Errorf("the HTML part lacks the link")
	}

	// At rest, only the token's SHA-256 exists.
	var rows []models.EmailVerificationToken
	if err := h.db.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	if len(rows) != 1 || rows[0].TokenHash != hex.EncodeToString(sum[:]) || rows[0].UserID != userID ||
		rows[0].Email != "zoe@example.com" || rows[0].TenantID != "public" {
		t.Fatalf("token rows = %+v", rows)
	}
	var clear int64
	h.db.Model(&models.EmailVerificationToken{}).Where("token_hash = ? OR email = ? OR user_id = ?", token, token, token).Count(&clear)
	if clear != 0 {
		t.Fatal("the token is stored in the clear")
	}

	// Verify from a third device with no session.
	stranger := h.client("header")
	r = stranger.do("POST", "/auth/user/email/verify", verifyBody(token))
	expectStatus(t, r, 200, "OK")
	if r.Header().Get("front-token") != "" {
		t.Error("a request without a session got a front-token")
	}
	// The OK body is the status alone, as supertokens-node's emailVerify
	// API (recipe/emailverification/api/emailVerify.ts) answers.
	if len(r.body) != 1 {
		t.Errorf("verify body = %v, want only the status", r.body)
	}
	u, err := h.auth.GetUser(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.LoginMethods[0].Verified {
		t.Errorf("login method not marked verified: %+v", u.LoginMethods[0])
	}
	if n := h.count(&models.EmailVerificationToken{}); n != 0 {
		t.Errorf("%d tokens left after use", n)
	}

	// Used once, dead after.
	expectStatus(t, stranger.do("POST", "/auth/user/email/verify", verifyBody(token)), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")

	// The phone asks GET /user/email/verify (as the pre-built UI does): the
	// claim is refreshed in its token at once.
	r = phone.do("GET", "/auth/user/email/verify", "")
	expectStatus(t, r, 200, "OK")
	if r.body["isVerified"] != true {
		t.Fatalf("isVerified = %v", r.body["isVerified"])
	}
	if r.Header().Get("front-token") == "" || phone.c.Cookie("sAccessToken") == nil {
		t.Fatal("no new access token / front-token after the claim changed")
	}
	if v, _ := phone.ev(); !v {
		t.Fatal("phone's st-ev not true after GET /user/email/verify")
	}
	expectStatus(t, phone.do("GET", "/protected", ""), 200, "")
	r = phone.do("GET", "/auth/user/email/verify", "")
	if r.Header().Get("front-token") != "" {
		t.Error("GET /user/email/verify sent a new token although st-ev did not change")
	}

	// The laptop's false value is trusted for 10 s, then read again.
	expectMessage(t, laptop.do("GET", "/protected", ""), 403, "invalid claim")
	h.clock.Advance(11 * time.Second)
	r = laptop.do("GET", "/protected", "")
	expectStatus(t, r, 200, "")
	if r.Header().Get("front-token") == "" {
		t.Fatal("the refetch sent no new front-token")
	}
	if v, _ := laptop.ev(); !v {
		t.Fatal("laptop's st-ev not true after the refetch")
	}

	// Asking again now: already verified.
	expectStatus(t, laptop.do("POST", "/auth/user/email/verify/token", ""), 200, "EMAIL_ALREADY_VERIFIED_ERROR")
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d mails sent, want 1", n)
	}
}

// A verification made with the user's own session updates that session at
// once.
func TestVerifyWithOwnSession(t *testing.T) {
	for _, mode := range []string{"header", "cookie"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, setup{})
			cl := h.client(mode)
			cl.signup("a@example.com")
			expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
			r := cl.do("POST", "/auth/user/email/verify", verifyBody(tokenFrom(t, h.mail.last(t).Link, "public")))
			expectStatus(t, r, 200, "OK")
			if r.Header().Get("front-token") == "" {
				t.Fatal("no front-token")
			}
			if v, _ := cl.ev(); !v {
				t.Fatal("st-ev not true")
			}
			expectStatus(t, cl.do("GET", "/protected", ""), 200, "")
		})
	}
}

// Another user's session does not get the claim.
func TestVerifyWithOtherUsersSession(t *testing.T) {
	h := newHarness(t, setup{})
	alice, bob := h.client("header"), h.client("header")
	alice.signup("alice@example.com")
	bob.signup("bob@example.com")
	expectStatus(t, alice.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	r := bob.do("POST", "/auth/user/email/verify", verifyBody(tokenFrom(t, h.mail.last(t).Link, "public")))
	expectStatus(t, r, 200, "OK")
	if r.Header().Get("front-token") != "" {
		t.Error("bob's session was changed by alice's verification")
	}
	expectMessage(t, bob.do("GET", "/protected", ""), 403, "invalid claim")
	h.clock.Advance(11 * time.Second)
	expectStatus(t, alice.do("GET", "/protected", ""), 200, "")
}

func TestExpiredToken(t *testing.T) {
	h := newHarness(t, setup{ev: emailverification.Config{TokenLifetime: time.Hour}})
	cl := h.client("header")
	userID := cl.signup("a@example.com")

	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	if e := h.mail.last(t); !strings.Contains(e.Text, "expires in 1 hour") || e.Kind != emaildelivery.KindEmailVerification {
		t.Errorf("mail text does not give the lifetime: %q", e.Text)
	}
	first := tokenFrom(t, h.mail.last(t).Link, "public")
	h.clock.Advance(time.Hour)
	anon := h.client("header") // the access token has expired too; verifying needs no session
	expectStatus(t, anon.do("POST", "/auth/user/email/verify", verifyBody(first)), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
	if n := h.count(&models.EmailVerificationToken{}); n != 0 {
		t.Errorf("expired token kept: %d rows", n)
	}
	if n := h.count(&models.VerifiedEmail{}); n != 0 {
		t.Fatal("an expired token verified the address")
	}

	second, err := h.ev.CreateVerificationToken(context.Background(), "public", userID, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour - time.Second)
	expectStatus(t, anon.do("POST", "/auth/user/email/verify", verifyBody(second)), 200, "OK")
}

// Tokens work in the tenant they were made for; the session routes take the
// tenant prefix and use the session's tenant.
func TestTenants(t *testing.T) {
	for _, routes := range []bool{false, true} {
		name := "Middleware"
		if routes {
			name = "RegisterRoutes"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, setup{routes: routes})
			cl := h.client("header")
			cl.signup("a@example.com")
			expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
			token := tokenFrom(t, h.mail.last(t).Link, "public")

			expectStatus(t, cl.do("POST", "/auth/t1/user/email/verify", verifyBody(token)), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
			// The session routes take the tenant prefix too (supertokens-node's
			// RecipeModule.returnAPIIdIfCanHandleRequest matches it for every
			// route) and use the session's tenant, as its
			// generateEmailVerifyTokenPOST does: the link is for "public".
			expectStatus(t, cl.do("POST", "/auth/t1/user/email/verify/token", ""), 200, "OK")
			tokenFrom(t, h.mail.last(t).Link, "public")
			expectStatus(t, cl.do("GET", "/auth/t1/user/email/verify", ""), 200, "OK")
			if got := cl.do("GET", "/auth/not_a_tenant/user/email/verify", ""); got.Code != 404 {
				t.Errorf("invalid tenant id: %d", got.Code)
			}
			expectStatus(t, cl.do("POST", "/auth/public/user/email/verify", verifyBody(token)), 200, "OK")

			// A user of tenant t1 gets links for t1.
			other := h.client("header")
			other.do("POST", "/auth/t1/test/signup", `{"email":"b@example.com"}`)
			expectStatus(t, other.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
			t1 := tokenFrom(t, h.mail.last(t).Link, "t1")
			expectStatus(t, other.do("POST", "/auth/user/email/verify", verifyBody(t1)), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
			expectStatus(t, other.do("POST", "/auth/t1/user/email/verify", verifyBody(t1)), 200, "OK")

			if routes {
				var paths []string
				for _, r := range h.r.Routes() {
					if strings.Contains(r.Path, "/user/email/verify") {
						paths = append(paths, r.Method+" "+r.Path)
					}
				}
				sort.Strings(paths)
				want := "GET /auth/:tenantId/user/email/verify|GET /auth/user/email/verify|POST /auth/:tenantId/user/email/verify|POST /auth/:tenantId/user/email/verify/token|POST /auth/user/email/verify|POST /auth/user/email/verify/token"
				if strings.Join(paths, "|") != want {
					t.Errorf("routes = %q", paths)
				}
			}
		})
	}
}

func TestOptionalMode(t *testing.T) {
	h := newHarness(t, setup{ev: emailverification.Config{Mode: emailverification.ModeOptional}, extraRoutes: func(h *harness) {
		h.r.GET("/recipe-validator", h.auth.VerifySession(), h.auth.RequireClaim(h.ev.Validator()), func(c *gin.Context) { c.JSON(200, gin.H{}) })
	}})
	cl := h.client("header")
	cl.signup("a@example.com")
	if v, ok := cl.ev(); !ok || v {
		t.Fatalf("st-ev = %v, %v; want false, present", v, ok)
	}
	expectStatus(t, cl.do("GET", "/protected", ""), 200, "")
	expectMessage(t, cl.do("GET", "/needs-verified", ""), 403, "invalid claim")
	expectMessage(t, cl.do("GET", "/recipe-validator", ""), 403, "invalid claim")

	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", "{}"), 200, "OK")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(tokenFrom(t, h.mail.last(t).Link, "public"))), 200, "OK")
	expectStatus(t, cl.do("GET", "/needs-verified", ""), 200, "")
	expectStatus(t, cl.do("GET", "/recipe-validator", ""), 200, "")
}

func TestStatusesAndErrors(t *testing.T) {
	t.Run("no session", func(t *testing.T) {
		h := newHarness(t, setup{})
		cl := h.client("header")
		expectMessage(t, cl.do("POST", "/auth/user/email/verify/token", ""), 401, "unauthorised")
		expectMessage(t, cl.do("GET", "/auth/user/email/verify", ""), 401, "unauthorised")
		// Not shaped like an access token: no session (supertokens-node's
		// getAccessTokenFromRequest ignores it).
		cl.c.Access = "not-a-jwt"
		expectMessage(t, cl.do("POST", "/auth/user/email/verify/token", ""), 401, "unauthorised")
		// The verify route's session is optional: the token decides.
		expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody("x")), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
		// Shaped like one but not ours: try refresh token.
		cl.c.Access = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsiLCJ2ZXJzaW9uIjoiNSJ9." +
			"eyJzdWIiOiJ1IiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjEsInNlc3Npb25IYW5kbGUiOiJoIiwicmVmcmVzaFRva2VuSGFzaDEiOiJ4IiwicnN1YiI6InUifQ." +
			"c2ln"
		expectMessage(t, cl.do("POST", "/auth/user/email/verify/token", ""), 401, "try refresh token")
	})
	t.Run("user without an e-mail counts as verified", func(t *testing.T) {
		h := newHarness(t, setup{})
		cl := h.client("header")
		cl.signup("")
		if v, _ := cl.ev(); !v {
			t.Fatal("st-ev false for a user without an e-mail")
		}
		expectStatus(t, cl.do("GET", "/protected", ""), 200, "")
		r := cl.do("GET", "/auth/user/email/verify", "")
		expectStatus(t, r, 200, "OK")
		if r.body["isVerified"] != true {
			t.Fatalf("isVerified = %v", r.body["isVerified"])
		}
		expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "EMAIL_ALREADY_VERIFIED_ERROR")
		if h.mail.count() != 0 {
			t.Error("a mail was sent to nobody")
		}
	})
	t.Run("already verified sets the claim", func(t *testing.T) {
		h := newHarness(t, setup{})
		cl := h.client("header")
		id := cl.signup("a@example.com")
		if err := h.ev.MarkVerified(context.Background(), id, "A@example.com"); err != nil {
			t.Fatal(err)
		}
		r := cl.do("POST", "/auth/user/email/verify/token", "{}")
		expectStatus(t, r, 200, "EMAIL_ALREADY_VERIFIED_ERROR")
		if r.Header().Get("front-token") == "" {
			t.Fatal("no new front-token")
		}
		if v, _ := cl.ev(); !v {
			t.Fatal("st-ev not set true")
		}
		expectStatus(t, cl.do("GET", "/protected", ""), 200, "")
	})
	t.Run("sender fails", func(t *testing.T) {
		h := newHarness(t, setup{})
		h.mail.fail = errors.New("relay down")
		cl := h.client("header")
		cl.signup("a@example.com")
		r := cl.do("POST", "/auth/user/email/verify/token", "")
		expectStatus(t, r, 200, "GENERAL_ERROR")
		if msg, _ := r.body["message"].(string); msg == "" || strings.Contains(msg, "relay") {
			t.Errorf("message = %q (should be set, and not leak the cause)", msg)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		h := newHarness(t, setup{})
		_, toks, err := h.auth.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "no-such-user"})
		if err != nil {
			t.Fatal(err)
		}
		cl := h.client("header")
		cl.c.Access = toks.AccessToken
		expectMessage(t, cl.do("GET", "/auth/user/email/verify", ""), 401, "unauthorised")
		cl.c.Access = toks.AccessToken
		expectMessage(t, cl.do("POST", "/auth/user/email/verify/token", ""), 401, "unauthorised")
		cl.c.Access = toks.AccessToken
		expectMessage(t, cl.do("GET", "/protected", ""), 403, "invalid claim")
	})
	t.Run("GET keeps a false claim fresh", func(t *testing.T) {
		h := newHarness(t, setup{})
		cl := h.client("header")
		cl.signup("a@example.com")
		h.clock.Advance(time.Minute)
		r := cl.do("GET", "/auth/user/email/verify", "")
		if r.body["isVerified"] != false || r.Header().Get("front-token") == "" {
			t.Fatalf("isVerified %v, front-token %q", r.body["isVerified"], r.Header().Get("front-token"))
		}
	})
}

// Malformed input gets a 400 that says what is wrong, and changes nothing.
func TestBadInput(t *testing.T) {
	h := newHarness(t, setup{})
	cl := h.client("header")
	cl.signup("a@example.com")
	expectStatus(t, cl.do("POST", "/auth/user/email/verify/token", ""), 200, "OK")
	token := tokenFrom(t, h.mail.last(t).Link, "public")
	// Over the body cap in short strings: a single long string is refused
	// by the core's input check first (ginauth/input.go).
	huge := `{"method":"token","token":"x","pad":[` + strings.Repeat(`"xxxxxxxx",`, 2000) + `""]}`
	cases := []struct {
		name, path, body, message string
		code                      int
	}{
		{"empty body", "/auth/user/email/verify", "", "the request body is empty: send a JSON object", 400},
		{"not JSON", "/auth/user/email/verify", "method=token", "must be a JSON object", 400},
		{"truncated JSON", "/auth/user/email/verify", `{"method":"token","token":"` + token, "must be a JSON object", 400},
		{"array", "/auth/user/email/verify", `["token"]`, "must be a JSON object", 400},
		{"null", "/auth/user/email/verify", `null`, "must be a JSON object", 400},
		{"no token", "/auth/user/email/verify", `{"method":"token"}`, "Please provide the email verification token", 400},
		{"null token", "/auth/user/email/verify", `{"method":"token","token":null}`, "Please provide the email verification token", 400},
		{"number token", "/auth/user/email/verify", `{"method":"token","token":5}`, "must be a string", 400},
		{"object token", "/auth/user/email/verify", `{"method":"token","token":{"$ne":""}}`, "must be a string", 400},
		{"wrong method", "/auth/user/email/verify", `{"method":"otp","token":"` + token + `"}`, `method must be "token"`, 400},
		{"method not a string", "/auth/user/email/verify", `{"method":1,"token":"` + token + `"}`, `method must be "token"`, 400},
		{"huge body", "/auth/user/email/verify", huge, "the request body is larger than 16384 bytes", 413},
		{"invalid UTF-8", "/auth/user/email/verify", "{\"token\":\"a\xff\"}", "the request body is not valid UTF-8", 400},
		{"two objects", "/auth/user/email/verify", `{"token":"a"} {}`, "the request body must hold a single JSON object", 400},
		{"token route: not JSON", "/auth/user/email/verify/token", "{", "must be a JSON object", 400},
		{"token route: huge body", "/auth/user/email/verify/token", huge, "the request body is larger than 16384 bytes", 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectMessage(t, cl.do("POST", tc.path, tc.body), tc.code, tc.message)
		})
	}
	if n := h.count(&models.EmailVerificationToken{}); n != 1 {
		t.Errorf("%d tokens after bad requests, want 1", n)
	}
	if n := h.count(&models.VerifiedEmail{}); n != 0 {
		t.Errorf("%d verified rows after bad requests", n)
	}
	if h.mail.count() != 1 {
		t.Errorf("bad requests sent mail")
	}
	// Odd but well-formed tokens are just invalid.
	// A NUL is refused before the handler (ginauth/input.go).
	expectMessage(t, cl.do("POST", "/auth/user/email/verify", verifyBody("ünï\u0000cödé")), 400, "NUL")
	for _, odd := range []string{"", "' OR 1=1 --", strings.Repeat("a", 300), "ünïcödé", token + "x"} {
		expectStatus(t, cl.do("POST", "/auth/user/email/verify", verifyBody(odd)), 200, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
	}
	// No method field is accepted, as older frontends send it.
	expectStatus(t, cl.do("POST", "/auth/user/email/verify", `{"token":"`+token+`"}`), 200, "OK")
}
