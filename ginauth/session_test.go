package ginauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

func TestSessionCreationCookieMode(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("cookie")
	r := cl.do("POST", "/login?user=u1", "")
	expect(t, r, 200, "")
	cookies := map[string]*http.Cookie{}
	for _, c := range r.Result().Cookies() {
		cookies[c.Name] = c
	}
	at, rt := cookies[CookieAccessToken], cookies[CookieRefreshToken]
	if at == nil || rt == nil {
		t.Fatalf("cookies %v", r.Header()["Set-Cookie"])
	}
	if !at.HttpOnly || at.Path != "/" || at.SameSite != http.SameSiteLaxMode || at.Secure {
		t.Errorf("access cookie %+v", at)
	}
	if !rt.HttpOnly || rt.Path != "/auth/session/refresh" || rt.SameSite != http.SameSiteLaxMode {
		t.Errorf("refresh cookie %+v", rt)
	}
	if d := at.Expires.Sub(h.clock.Now()); d < 364*24*time.Hour {
		t.Errorf("access cookie expires in %s, want a year", d)
	}
	if d := rt.Expires.Sub(h.clock.Now()); d != 100*24*time.Hour {
		t.Errorf("refresh cookie expires in %s, want 100 days", d)
	}
	if r.Header().Get(HeaderAccessToken) != "" || r.Header().Get(HeaderRefreshToken) != "" {
		t.Error("cookie mode sent header tokens")
	}
	exposed := r.Header().Get("Access-Control-Expose-Headers")
	if !strings.Contains(exposed, "front-token") {
		t.Errorf("Access-Control-Expose-Headers %q lacks front-token", exposed)
	}
	checkFrontTokenMatchesJWT(t, cl.Front, at.Value, "u1", h.clock.Now().Add(time.Hour))
}

func TestSessionCreationHeaderMode(t *testing.T) {
	for _, mode := range []string{"header", ""} { // a missing st-auth-mode means header
		h := newHarness(t, nil)
		cl := h.client(mode)
		r := cl.do("POST", "/login?user=u2", "")
		expect(t, r, 200, "")
		if len(r.Result().Cookies()) != 0 {
			t.Fatalf("mode %q set cookies: %v", mode, r.Header()["Set-Cookie"])
		}
		acc, ref := r.Header().Get(HeaderAccessToken), r.Header().Get(HeaderRefreshToken)
		if acc == "" || ref == "" {
			t.Fatalf("mode %q: no header tokens", mode)
		}
		exposed := r.Header().Get("Access-Control-Expose-Headers")
		for _, n := range []string{"front-token", "st-access-token", "st-refresh-token"} {
			if !strings.Contains(exposed, n) {
				t.Errorf("expose %q lacks %s", exposed, n)
			}
		}
		checkFrontTokenMatchesJWT(t, r.Header().Get("front-token"), acc, "u2", h.clock.Now().Add(time.Hour))
		// The handle, then nonce | parent | tag (refreshtoken.go).
		parts := strings.Split(ref, ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if len(parts) != 2 || err != nil || len(raw) != refreshBodyLen {
			t.Fatalf("refresh token %q is not handle.<%d-byte body>", ref, refreshBodyLen)
		}
	}
}

// checkFrontTokenMatchesJWT asserts the front token is base64 JSON
// {uid, ate, up} with up byte-identical to the JWT payload.
func checkFrontTokenMatchesJWT(t *testing.T, front, jwt, user string, exp time.Time) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(front)
	if err != nil {
		t.Fatalf("front-token not std base64: %v", err)
	}
	var ft struct {
		UID string          `json:"uid"`
		ATE int64           `json:"ate"`
		UP  json.RawMessage `json:"up"`
	}
	if err := json.Unmarshal(raw, &ft); err != nil {
		t.Fatalf("front-token JSON: %v", err)
	}
	if ft.UID != user || ft.ATE != exp.UnixMilli() {
		t.Fatalf("front-token uid %q ate %d, want %q %d", ft.UID, ft.ATE, user, exp.UnixMilli())
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWS", jwt)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(body) != string(ft.UP) {
		t.Fatalf("front-token up %s differs from JWT payload %s", ft.UP, body)
	}
	var header map[string]any
	_ = json.Unmarshal(hdr, &header)
	if header["alg"] == "" || header["kid"] == nil || header["version"] != "5" || header["typ"] != "JWT" {
		t.Fatalf("JWT header %s", hdr)
	}
	var p map[string]any
	_ = json.Unmarshal(body, &p)
	for _, k := range []string{"sub", "exp", "iat", "tId", "rsub", "sessionHandle", "refreshTokenHash1", "iss"} {
		if _, ok := p[k]; !ok {
			t.Errorf("payload lacks %s: %s", k, body)
		}
	}
	if p["sub"] != user || p["tId"] != "public" || p["iss"] != "http://localhost:3001/auth" || int64(p["exp"].(float64)) != exp.Unix() {
		t.Errorf("payload %s", body)
	}
}

func TestVerifyAnswers(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("header")
	cl.login("u1")
	good := cl.Access

	// Another instance with its own keys (same issuer).
	other := newHarness(t, nil)
	ocl := other.client("header")
	ocl.login("u1")

	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"u1"`, `"sub":"admin"`, 1))) + "." + parts[2]
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))

	cases := []struct {
		name  string
		token string
		code  int
		msg   string
	}{
		{"valid", good, 200, ""},
		{"no token", "", 401, "unauthorised"},
		// Tokens not shaped like an access token are ignored, as
		// supertokens-node's getAccessTokenFromRequest ignores what fails
		// parseJWTWithoutSignatureVerification or
		// validateAccessTokenStructure: no session, so "unauthorised".
		{"garbage", "not-a-token", 401, "unauthorised"},
		{"alg none without kid", noneHeader + "." + parts[1] + ".", 401, "unauthorised"},
		{"refresh token as access token", cl.Refresh, 401, "unauthorised"},
		{"four parts", good + ".x", 401, "unauthorised"},
		// Tokens shaped like ours that do not verify: "try refresh token".
		{"truncated", good[:len(good)-10], 401, "try refresh token"},
		{"other key", ocl.Access, 401, "try refresh token"},
		{"tampered payload", tampered, 401, "try refresh token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client("header")
			c.Access = tc.token
			expect(t, c.do("GET", "/me", ""), tc.code, tc.msg)
		})
	}
	t.Run("expired", func(t *testing.T) {
		h.clock.Advance(time.Hour + 6*time.Second)
		c := h.client("header")
		c.Access = good
		expect(t, c.do("GET", "/me", ""), 401, "try refresh token")
	})
}

func TestOptionalSession(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("cookie")
	r := cl.do("GET", "/maybe", "")
	expect(t, r, 200, "")
	if r.body["userId"] != "" {
		t.Fatalf("body %s", r.Body)
	}
	cl.login("u9")
	if r := cl.do("GET", "/maybe", ""); r.body["userId"] != "u9" {
		t.Fatalf("body %s", r.Body)
	}
	// A token of ours that does not verify is refused on an optional route
	// too; one that is not shaped like ours means no session there
	// (supertokens-node's getAccessTokenFromRequest).
	good := cl.Cookies[CookieAccessToken].Value
	cl.Cookies[CookieAccessToken].Value = good[:len(good)-4]
	expect(t, cl.do("GET", "/maybe", ""), 401, "try refresh token")
	cl.Cookies[CookieAccessToken].Value = "broken"
	if r := cl.do("GET", "/maybe", ""); r.Code != 200 || r.body["userId"] != "" {
		t.Fatalf("garbage cookie on an optional route: %d %s", r.Code, r.Body)
	}
}

func TestRefreshRotationAndTheft(t *testing.T) {
	for _, mode := range []string{"cookie", "header"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, nil)
			cl := h.client(mode)
			cl.login("u1")
			r0 := cl.RefreshToken()
			oldAccess := cl.AccessToken()

			h.clock.Advance(2 * time.Second)
			r := cl.do("POST", "/auth/session/refresh", "")
			expect(t, r, 200, "")
			if r.Header().Get("front-token") == "" || !strings.Contains(r.Header().Get("Access-Control-Expose-Headers"), "front-token") {
				t.Fatal("refresh without front-token")
			}
			r1 := cl.RefreshToken()
			if r1 == r0 || cl.AccessToken() == oldAccess {
				t.Fatal("refresh did not rotate the tokens")
			}
			expect(t, cl.do("GET", "/me", ""), 200, "")

			expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
			r2 := cl.RefreshToken()
			expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "") // r2 used: r1 is now two rotations old
			newest := cl.RefreshToken()

			thief := h.client(mode)
			thief.SetRefreshToken(r1)
			r = thief.do("POST", "/auth/session/refresh", "")
			expect(t, r, 401, "token theft detected")
			if r.Header().Get("front-token") != "remove" {
				t.Error("theft answer does not clear the frontend's tokens")
			}
			// The whole session is gone: the newest refresh token is dead too.
			expect(t, cl.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
			_ = r2
			victim := h.client(mode)
			victim.SetRefreshToken(newest)
			expect(t, victim.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
			var n int64
			h.auth.db.Model(&models.Session{}).Count(&n)
			if n != 0 {
				t.Fatalf("%d sessions left after theft", n)
			}
		})
	}
}

func TestConcurrentRefreshDoesNotLogOut(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("header")
	cl.login("u1")
	r0 := cl.Refresh
	const tabs = 6
	children := make([]string, tabs)
	codes := make([]int, tabs)
	ginauthtest.Burst(tabs, func(i int) {
		tab := h.client("header")
		tab.Refresh = r0
		r := tab.do("POST", "/auth/session/refresh", "")
		codes[i], children[i] = r.Code, tab.Refresh
	})
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("tab %d got %d", i, c)
		}
	}
	// Whichever response the client kept last, it stays signed in.
	last := h.client("header")
	last.Refresh = children[tabs-1]
	expect(t, last.do("POST", "/auth/session/refresh", ""), 200, "")
	expect(t, last.do("GET", "/me", ""), 200, "")
	expect(t, last.do("POST", "/auth/session/refresh", ""), 200, "")
}

func TestRefreshFailures(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("header")
	cl.login("u1")
	cases := []struct {
		name, token string
	}{
		{"missing", ""},
		{"access token as refresh token", cl.Access},
		{"unknown handle", "00000000-0000-4000-8000-000000000000.AAAA"},
		{"right handle, wrong secret", strings.Split(cl.Refresh, ".")[0] + ".AAAA"},
		{"garbage", "%%%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client("header")
			c.Refresh = tc.token
			r := c.do("POST", "/auth/session/refresh", "")
			expect(t, r, 401, "unauthorised")
			if r.Header().Get("front-token") != "remove" {
				t.Error("failed refresh does not clear tokens")
			}
		})
	}
	// None of that hurt the real session.
	expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
	t.Run("expired session", func(t *testing.T) {
		h.clock.Advance(101 * 24 * time.Hour)
		expect(t, cl.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
	})
}

func TestSignOut(t *testing.T) {
	for _, mode := range []string{"cookie", "header"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, nil)
			cl := h.client(mode)
			cl.login("u1")
			refresh := cl.RefreshToken()
			r := cl.do("POST", "/auth/signout", "")
			expect(t, r, 200, "")
			if r.body["status"] != "OK" || r.Header().Get("front-token") != "remove" {
				t.Fatalf("signout: %s front-token %q", r.Body, r.Header().Get("front-token"))
			}
			if mode == "cookie" {
				cleared := 0
				for _, c := range r.Result().Cookies() {
					if (c.Name == CookieAccessToken || c.Name == CookieRefreshToken) && c.Value == "" && c.Expires.Before(time.Unix(1, 0)) {
						cleared++
					}
				}
				if cleared != 2 {
					t.Fatalf("signout cleared %d cookies: %v", cleared, r.Header()["Set-Cookie"])
				}
			} else if v, ok := r.Header()["St-Access-Token"]; !ok || v[0] != "" {
				t.Fatal("signout did not clear the header token")
			}
			c := h.client(mode)
			c.SetRefreshToken(refresh)
			expect(t, c.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
			expect(t, cl.do("POST", "/auth/signout", ""), 401, "unauthorised")
		})
	}
	t.Run("expired access token", func(t *testing.T) {
		h := newHarness(t, nil)
		cl := h.client("header")
		cl.login("u1")
		h.clock.Advance(2 * time.Hour)
		expect(t, cl.do("POST", "/auth/signout", ""), 401, "try refresh token")
	})
}

func TestCheckDatabaseMakesRevocationImmediate(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("cookie")
	cl.login("u1")
	expect(t, cl.do("GET", "/strict", ""), 200, "")
	n, err := h.auth.RevokeAllSessions(t.Context(), "u1")
	if err != nil || n != 1 {
		t.Fatalf("RevokeAllSessions = %d, %v", n, err)
	}
	// A plain verify is stateless: the token lives until it expires.
	expect(t, cl.do("GET", "/me", ""), 200, "")
	expect(t, cl.do("GET", "/strict", ""), 401, "unauthorised")
}

func TestAntiCSRF(t *testing.T) {
	t.Run("VIA_TOKEN", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = AntiCSRFViaToken })
		cl := h.client("cookie")
		r := cl.do("POST", "/login?user=u1", "")
		if r.Header().Get("anti-csrf") == "" || !strings.Contains(r.Header().Get("Access-Control-Expose-Headers"), "anti-csrf") {
			t.Fatal("no anti-csrf header on session creation")
		}
		token := cl.AntiCSRF
		expect(t, cl.do("POST", "/me", ""), 200, "")
		cl.AntiCSRF = ""
		expect(t, cl.do("GET", "/me", ""), 200, "") // GET is not checked
		expect(t, cl.do("POST", "/me", ""), 401, "try refresh token")
		cl.AntiCSRF = "wrong"
		expect(t, cl.do("POST", "/me", ""), 401, "try refresh token")
		cl.AntiCSRF = "wrong"
		expect(t, cl.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")

		cl2 := h.client("cookie")
		cl2.login("u2")
		first := cl2.AntiCSRF
		r = cl2.do("POST", "/auth/session/refresh", "")
		expect(t, r, 200, "")
		// The token lasts as long as the session (sessions.go rotate): the
		// refresh sends it again, and the new access token carries it.
		if r.Header().Get("anti-csrf") != first || cl2.AntiCSRF != first {
			t.Fatal("refresh did not send the session's anti-csrf token")
		}
		expect(t, cl2.do("POST", "/me", ""), 200, "")
		_ = token

		// Header mode needs no anti-CSRF at all.
		hc := h.client("header")
		hc.login("u3")
		expect(t, hc.do("POST", "/me", ""), 200, "")
	})
	t.Run("VIA_CUSTOM_HEADER", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = AntiCSRFViaCustomHeader })
		cl := h.client("cookie")
		cl.login("u1")
		expect(t, cl.do("POST", "/me", ""), 200, "")
		cl.RID = ""
		expect(t, cl.do("GET", "/me", ""), 200, "")
		expect(t, cl.do("POST", "/me", ""), 401, "try refresh token")
		expect(t, cl.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
	})
}
