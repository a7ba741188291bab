package security

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// Token attacks end to end, through a full app with the emailpassword
// recipe behind a real HTTP server. The single-package attacks (alg none,
// HS/RS confusion, kid, exp, iat, nbf, iss, jku, tampering, key rotation,
// concurrent refreshes) are in ginauth/token_test.go and
// ginauth/session_test.go; these are the ones that need users, recipes and
// the database.

const pw = "correct-horse-42"

// A deleted user's tokens: refused at once on routes that check the
// database, and the refresh token is dead.
func TestDeletedUserTokensRefused(t *testing.T) {
	a := newApp(t, appOptions{})
	c, uid := a.signedUp("deleted@example.com", pw)
	expect(t, c.do("GET", "/strict", nil), 200, "")

	existed, err := a.auth.DeleteUser(t.Context(), uid)
	if err != nil || !existed {
		t.Fatalf("DeleteUser: %v %v", existed, err)
	}
	r := c.do("GET", "/strict", nil)
	expect(t, r, 401, "unauthorised")
	if r.hdr.Get("front-token") != "remove" {
		t.Error("a revoked session's tokens are not cleared")
	}
	refresh := a.client("header")
	refresh.Refresh = c.Refresh
	expect(t, refresh.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
	expect(t, a.client("header").signIn("deleted@example.com", pw), 200, "WRONG_CREDENTIALS_ERROR")
	for _, table := range []string{models.TableUserTenants, models.TableEmailPasswordUsers, models.TableSessions} {
		if n := count(t, a.db, table, "user_id = ?", uid); n != 0 {
			t.Errorf("%s still has %d rows of the deleted user", table, n)
		}
	}
	if n := count(t, a.db, models.TableUsers, "id = ?", uid); n != 0 {
		t.Errorf("the user row survived")
	}
}

// A revoked session is refused at once on CheckDatabase routes, and its
// refresh token is dead; the user's other sessions are untouched.
func TestRevokedSessionRefused(t *testing.T) {
	a := newApp(t, appOptions{})
	c1, _ := a.signedUp("revoked@example.com", pw)
	c2 := a.client("header")
	expect(t, c2.signIn("revoked@example.com", pw), 200, "OK")

	handle := c1.do("GET", "/me", nil).str("handle")
	if ok, err := a.auth.RevokeSession(t.Context(), handle); err != nil || !ok {
		t.Fatalf("RevokeSession: %v %v", ok, err)
	}
	expect(t, c1.do("GET", "/strict", nil), 401, "unauthorised")
	expect(t, c1.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
	expect(t, c2.do("GET", "/strict", nil), 200, "")
	expect(t, c2.do("POST", "/auth/session/refresh", nil), 200, "")
}

// Sign-out kills the refresh token at once.
func TestSignOutKillsRefreshToken(t *testing.T) {
	a := newApp(t, appOptions{})
	c, _ := a.signedUp("signout@example.com", pw)
	access, refresh := c.Access, c.Refresh
	expect(t, c.do("POST", "/auth/signout", nil), 200, "OK")

	old := a.client("header")
	old.Access, old.Refresh = access, refresh
	expect(t, old.do("GET", "/strict", nil), 401, "unauthorised")
	expect(t, old.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
}

// A password reset revokes every session of the user, and its token works
// once.
func TestPasswordResetRevokesSessions(t *testing.T) {
	a := newApp(t, appOptions{})
	c, _ := a.signedUp("reset@example.com", pw)
	anon := a.client("header")
	expect(t, anon.do("POST", "/auth/user/password/reset/token", ginauthtest.Form("email", "reset@example.com")), 200, "OK")
	token := tokenFromLink(t, a.mail.waitFor(t, "password-reset", "reset@example.com").Link)
	body := map[string]any{"method": "token", "token": token,
		"formFields": []map[string]string{{"id": "password", "value": "new-password-77"}}}
	expect(t, anon.do("POST", "/auth/user/password/reset", body), 200, "OK")
	expect(t, anon.do("POST", "/auth/user/password/reset", body), 200, "RESET_PASSWORD_INVALID_TOKEN_ERROR")

	expect(t, c.do("GET", "/strict", nil), 401, "unauthorised")
	expect(t, c.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
	expect(t, a.client("header").signIn("reset@example.com", pw), 200, "WRONG_CREDENTIALS_ERROR")
	expect(t, a.client("header").signIn("reset@example.com", "new-password-77"), 200, "OK")
}

// A password change through the Go API revokes the user's other sessions
// and keeps the one that made the change.
func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	a := newApp(t, appOptions{})
	keep, _ := a.signedUp("change@example.com", pw)
	other := a.client("header")
	expect(t, other.signIn("change@example.com", pw), 200, "OK")
	expect(t, keep.do("POST", "/me/password", map[string]string{"password": "changed-pass-99"}), 200, "OK")
	expect(t, other.do("GET", "/strict", nil), 401, "unauthorised")
	expect(t, other.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
	expect(t, keep.do("GET", "/strict", nil), 200, "")
	expect(t, keep.do("POST", "/auth/session/refresh", nil), 200, "")
}

// Replaying a refresh token after its successor was used is theft: 401
// "token theft detected", the session is gone, and every token of it is
// dead. Cookie mode, as a browser does it.
func TestRefreshReplayIsTheft(t *testing.T) {
	a := newApp(t, appOptions{})
	victim := a.client("cookie")
	expect(t, victim.signUp("theft@example.com", pw), 200, "OK")
	handle := victim.do("GET", "/me", nil).str("handle")
	r0 := cookieValue(t, victim, "/auth/session/refresh", "sRefreshToken")

	expect(t, victim.do("POST", "/auth/session/refresh", nil), 200, "") // R0 -> R1
	if cookieValue(t, victim, "/auth/session/refresh", "sRefreshToken") == r0 {
		t.Fatal("refresh did not rotate the refresh token")
	}
	expect(t, victim.do("POST", "/auth/session/refresh", nil), 200, "") // R1 used: R0 superseded

	thief := a.client("header")
	thief.Refresh = r0
	r := thief.do("POST", "/auth/session/refresh", nil)
	expect(t, r, 401, "token theft detected")
	if r.hdr.Get("front-token") != "remove" {
		t.Error("theft answer does not clear tokens")
	}
	if n := count(t, a.db, models.TableSessions, "handle = ?", handle); n != 0 {
		t.Fatalf("session survived theft detection")
	}
	expect(t, victim.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
	expect(t, victim.do("GET", "/strict", nil), 401, "unauthorised")
	if ev := a.events.of(ginauth.EventTokenTheft); len(ev) != 1 || ev[0].SessionHandle != handle {
		t.Errorf("theft events %+v", ev)
	}
}

func cookieValue(t *testing.T, c *client, path, name string) string {
	t.Helper()
	if ck := c.Cookie(name); ck != nil && strings.HasPrefix(path, ck.Path) {
		return ck.Value
	}
	t.Fatalf("no %s cookie for %s", name, path)
	return ""
}

// Tokens used in the wrong place are refused: a refresh token as an access
// token, an access token as a refresh token, in headers and in cookies.
func TestTokenTypeConfusion(t *testing.T) {
	a := newApp(t, appOptions{})
	c, _ := a.signedUp("confused@example.com", pw)

	asAccess := a.client("header")
	asAccess.Access = c.Refresh
	// Not shaped like an access token, so ignored: no session (as
	// supertokens-node's getAccessTokenFromRequest).
	expect(t, asAccess.do("GET", "/me", nil), 401, "unauthorised")

	asRefresh := a.client("header")
	asRefresh.Refresh = c.Access
	expect(t, asRefresh.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")

	cookieAccess := a.client("cookie")
	r := cookieAccess.do("GET", "/me", nil, "Cookie", "sAccessToken="+c.Refresh)
	expect(t, r, 401, "unauthorised")
	r = cookieAccess.do("POST", "/auth/session/refresh", nil, "Cookie", "sRefreshToken="+c.Access)
	expect(t, r, 401, "unauthorised")

	// None of it hurt the real session.
	expect(t, c.do("GET", "/strict", nil), 200, "")
	expect(t, c.do("POST", "/auth/session/refresh", nil), 200, "")
}

// Tokens of another ginauth app (its own database and keys, same domains)
// are worthless here.
func TestOtherAppsTokensRefused(t *testing.T) {
	a := newApp(t, appOptions{})
	b := newApp(t, appOptions{})
	foreign, _ := b.signedUp("foreign@example.com", pw)
	_, _ = a.signedUp("foreign@example.com", pw)

	c := a.client("header")
	c.Access, c.Refresh = foreign.Access, foreign.Refresh
	expect(t, c.do("GET", "/me", nil), 401, "try refresh token")
	expect(t, c.do("POST", "/auth/session/refresh", nil), 401, "unauthorised")
}

// Refresh tokens carry at least 256 random bits and differ every time.
func TestRefreshTokenEntropy(t *testing.T) {
	a := newApp(t, appOptions{})
	c, _ := a.signedUp("entropy@example.com", pw)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		_, secret, ok := strings.Cut(c.Refresh, ".")
		if !ok {
			t.Fatalf("refresh token %q has no secret part", c.Refresh)
		}
		raw, err := base64.RawURLEncoding.DecodeString(secret)
		if err != nil || len(raw) < 32 {
			t.Fatalf("refresh secret %q: %d bytes, %v", secret, len(raw), err)
		}
		if seen[secret] {
			t.Fatal("a refresh secret repeated")
		}
		seen[secret] = true
		expect(t, c.do("POST", "/auth/session/refresh", nil), 200, "")
	}
}

// Tokens signed with the app's real key (read from its database, as an
// attacker with a copy of a backup could not but a test can) are still
// refused when their header asks for another key source, another
// algorithm or extensions, or their payload lacks a standard field. The
// control token, the same forgery without the hostile part, is accepted,
// which proves the forging works.
func TestForgedWithRealKey(t *testing.T) {
	a := newApp(t, appOptions{})
	c, uid := a.signedUp("forged@example.com", pw)
	var key models.SigningKey
	if err := a.db.Order("created_at desc").Take(&key).Error; err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv := parsed.(*ecdsa.PrivateKey)

	// The real token's payload, re-signed.
	parts := strings.Split(c.Access, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var payload map[string]any
	_ = json.Unmarshal(raw, &payload)
	payload["exp"] = time.Now().Add(time.Hour).Unix()
	without := func(k string) map[string]any {
		p := map[string]any{}
		for kk, v := range payload {
			if kk != k {
				p[kk] = v
			}
		}
		return p
	}
	header := func(extra ...any) map[string]any {
		h := map[string]any{"alg": "ES256", "typ": "JWT", "kid": key.KID, "version": "5"}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	cases := []struct {
		name  string
		hdr   map[string]any
		body  map[string]any
		admit bool
	}{
		{"control", header(), payload, true},
		{"x5u", header("x5u", "https://evil.example/cert.pem"), payload, false},
		{"jku", header("jku", "https://evil.example/jwks.json"), payload, false},
		{"embedded jwk", header("jwk", map[string]any{"kty": "EC", "crv": "P-256"}), payload, false},
		{"x5c", header("x5c", []string{"MIIB"}), payload, false},
		{"crit", header("crit", []string{"exp"}), payload, false},
		{"alg RS256 on an EC key", header("alg", "RS256"), payload, false},
		{"alg ES384", header("alg", "ES384"), payload, false},
		{"no kid", map[string]any{"alg": "ES256", "typ": "JWT"}, payload, false},
		{"no tenant", header(), without("tId"), false},
		{"no exp", header(), without("exp"), false},
		{"other user, tampered after signing", header(), payload, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := signES256(t, priv, tc.hdr, tc.body)
			if strings.HasPrefix(tc.name, "other user") {
				p := map[string]any{}
				for k, v := range tc.body {
					p[k] = v
				}
				p["sub"] = "someone-else"
				b, _ := json.Marshal(p)
				s := strings.Split(tok, ".")
				tok = s[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + s[2]
			}
			f := a.client("header")
			f.Access = tok
			r := f.do("GET", "/me", nil)
			if tc.admit {
				expect(t, r, 200, "")
				if r.str("userId") != uid {
					t.Fatalf("control token is for %q", r.str("userId"))
				}
				return
			}
			// A header without a kid, or a payload without a standard
			// field, is not shaped like an access token: it is ignored, as
			// supertokens-node's validateAccessTokenStructure has it, and
			// the request has no session.
			if tc.name == "no kid" || tc.name == "no exp" {
				expect(t, r, 401, "unauthorised")
				return
			}
			expect(t, r, 401, "try refresh token")
		})
	}
}

func signES256(t *testing.T, priv *ecdsa.PrivateKey, hdr, body map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(hdr)
	bb, _ := json.Marshal(body)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(bb)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Over https the session cookies are Secure and HttpOnly, the refresh
// cookie only goes to the refresh path, and a cross-site website gets
// SameSite=None with the custom-header anti-CSRF check on.
func TestCookieAttributesOverHTTPS(t *testing.T) {
	a := newApp(t, appOptions{mod: func(c *ginauth.Config) {
		c.AppInfo.APIDomain = "https://api.example.com"
		c.AppInfo.WebsiteDomain = "https://example.org"
	}})
	c := a.client("cookie")
	r := c.signUp("cookies@example.com", pw)
	expect(t, r, 200, "OK")
	cookies := map[string]*http.Cookie{}
	for _, line := range r.hdr.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		cookies[ck.Name] = ck
	}
	at, rt := cookies["sAccessToken"], cookies["sRefreshToken"]
	if at == nil || rt == nil {
		t.Fatalf("cookies: %v", r.hdr.Values("Set-Cookie"))
	}
	for _, ck := range []*http.Cookie{at, rt} {
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteNoneMode {
			t.Errorf("cookie %s: HttpOnly=%v Secure=%v SameSite=%v", ck.Name, ck.HttpOnly, ck.Secure, ck.SameSite)
		}
	}
	if rt.Path != "/auth/session/refresh" {
		t.Errorf("refresh cookie path %q", rt.Path)
	}
	// Cross-site: a refresh without the rid header (a forged form post) is
	// refused and the real one, with rid, works.
	csrf := a.client("cookie")
	expect(t, csrf.do("POST", "/auth/session/refresh", nil, "Cookie", "sRefreshToken="+rt.Value), 401, "unauthorised")
	expect(t, csrf.do("POST", "/auth/session/refresh", nil, "Cookie", "sRefreshToken="+rt.Value, "rid", "session"), 200, "")
}
