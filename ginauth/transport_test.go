package ginauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/jws"
)

// liveCookies returns the response's Set-Cookie values by name, and the
// names it clears (empty value or an expiry in the past).
func liveCookies(w *httptest.ResponseRecorder) (live map[string]string, cleared map[string]bool) {
	live, cleared = map[string]string{}, map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.Value == "" || c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Unix(1, 0))) {
			cleared[c.Name] = true
		} else {
			live[c.Name] = c.Value
		}
	}
	return live, cleared
}

// oneFrontToken fails unless the response carries exactly one front-token
// and it is a new token, not "remove".
func oneFrontToken(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	v := w.Header().Values(HeaderFrontToken)
	if len(v) != 1 || v[0] == "remove" || v[0] == "" {
		t.Fatalf("front-token %q, want exactly one new token; headers %v", v, w.Header())
	}
}

// Mixed transfer modes (issue 12 item 1). A request that creates or
// refreshes a session in one mode while still carrying tokens of the other
// gets the other mode's tokens cleared BEFORE the new ones are written, so
// that the response ends with the new front-token and never with
// "front-token: remove" (which supertokens-website reads as signed out and
// wipes what it just saved). Mirrors supertokens-node's
// createNewSessionInRequest and refreshSessionInRequest ("clear the tokens
// in all transfer methods we are not going to overwrite", then
// attachToRequestResponse) and clearSession in cookieAndHeaders.ts.
// Writing the clear after the tokens (as before) makes every subtest fail.
func TestMixedTransferModes(t *testing.T) {
	for _, csrf := range []AntiCSRFMode{AntiCSRFNone, AntiCSRFViaToken} {
		t.Run(string(csrf), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = csrf })

			// Old tokens of each mode, as a frontend that switched
			// tokenTransferMethod still holds them.
			oldCookie := h.client("cookie")
			oldCookie.login("old-cookie-user")
			oldHeader := h.client("header")
			oldHeader.login("old-header-user")

			for _, route := range []string{"sign-in", "refresh"} {
				t.Run("header mode with old cookies/"+route, func(t *testing.T) {
					cl := h.client("header")
					for k, v := range oldCookie.Cookies {
						cl.Cookies[k] = v
					}
					var r *resp
					if route == "sign-in" {
						r = cl.do("POST", "/login?user=u1", "")
					} else {
						hc := h.client("header")
						hc.login("u1")
						cl.Access, cl.Refresh = hc.Access, hc.Refresh
						r = cl.do("POST", "/auth/session/refresh", "")
					}
					expect(t, r, 200, "")
					oneFrontToken(t, r.ResponseRecorder)
					if r.Header().Get(HeaderAccessToken) == "" || r.Header().Get(HeaderRefreshToken) == "" {
						t.Fatalf("no header tokens: %v", r.Header())
					}
					live, cleared := liveCookies(r.ResponseRecorder)
					if !cleared[CookieAccessToken] || !cleared[CookieRefreshToken] || len(live) != 0 {
						t.Fatalf("old cookies not cleared: live %v cleared %v", live, cleared)
					}
					if r.Header().Get(HeaderAntiCSRF) != "" {
						t.Fatal("anti-csrf sent in header mode")
					}
					// The SDK kept its new tokens and is signed in as u1.
					if cl.Front == "" || cl.Access == "" || cl.frontPayload()["uid"] != "u1" {
						t.Fatalf("client lost its tokens: front %q", cl.Front)
					}
					r = cl.do("GET", "/me", "")
					expect(t, r, 200, "")
					if r.body["userId"] != "u1" {
						t.Fatalf("signed in as %v", r.body["userId"])
					}
				})
				t.Run("cookie mode with Authorization/"+route, func(t *testing.T) {
					cl := h.client("cookie")
					bearer := oldHeader.Access
					if route == "refresh" {
						cl.login("u2")
						bearer = oldHeader.Refresh
					}
					var r *resp
					if route == "sign-in" {
						r = cl.do("POST", "/login?user=u2", "", "Authorization", "Bearer "+bearer)
					} else {
						// A refresh token of ours in the header wins, as in
						// the reference; an app's own header is the next
						// test. Here the SDK's leftover header token is a
						// foreign-looking string so that the cookie is used.
						r = cl.do("POST", "/auth/session/refresh", "", "Authorization", "Bearer app-api-key")
					}
					expect(t, r, 200, "")
					oneFrontToken(t, r.ResponseRecorder)
					live, _ := liveCookies(r.ResponseRecorder)
					if live[CookieAccessToken] == "" || live[CookieRefreshToken] == "" {
						t.Fatalf("no new cookies: %v", r.Header()["Set-Cookie"])
					}
					for _, name := range []string{"St-Access-Token", "St-Refresh-Token"} {
						if v, ok := r.Header()[name]; !ok || v[0] != "" {
							t.Fatalf("%s not cleared: %v", name, r.Header())
						}
					}
					if csrf == AntiCSRFViaToken && r.Header().Get(HeaderAntiCSRF) == "" {
						t.Fatal("VIA_TOKEN's anti-csrf header lost")
					}
					if cl.Front == "" || cl.frontPayload()["uid"] != "u2" {
						t.Fatalf("client lost its session: front %q", cl.Front)
					}
					expect(t, cl.do("POST", "/me", ""), 200, "")
				})
			}
		})
	}
}

// The SDK in cookie mode with header tokens left in storage sends them as
// Authorization on the refresh too. The reference then refreshes the
// header session (a Bearer refresh token wins) and clears the cookies
// first (refreshSessionInRequest): the client ends up signed in, in header
// mode, not signed out.
func TestMixedRefreshWithLeftoverHeaderRefreshToken(t *testing.T) {
	h := newHarness(t, nil)
	old := h.client("header")
	old.login("header-user")
	cl := h.client("cookie")
	cl.login("cookie-user")
	cl.Access, cl.Refresh = old.Access, old.Refresh
	r := cl.do("POST", "/auth/session/refresh", "", "Authorization", "Bearer "+old.Refresh)
	expect(t, r, 200, "")
	oneFrontToken(t, r.ResponseRecorder)
	if _, cleared := liveCookies(r.ResponseRecorder); !cleared[CookieAccessToken] || !cleared[CookieRefreshToken] {
		t.Fatal("cookies of the mode not used were not cleared")
	}
	if cl.frontPayload()["uid"] != "header-user" || cl.Access == "" {
		t.Fatalf("front %v", cl.frontPayload())
	}
}

// otherServiceJWT is a JWT another service issued: HS256, typ JWT, a kid,
// but none of SuperTokens' session fields.
func otherServiceJWT() string {
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "svc-1"})
	body, _ := json.Marshal(map[string]any{"sub": "svc", "iat": 1, "exp": 4102444800, "scope": "read"})
	return enc.EncodeToString(hdr) + "." + enc.EncodeToString(body) + "." + enc.EncodeToString([]byte("sig"))
}

// An app's own Authorization header (issue 12 item 2) does not hide a
// cookie session: a header token that is not shaped like an access token
// is ignored, as supertokens-node's getAccessTokenFromRequest ignores one
// that fails parseJWTWithoutSignatureVerification or
// validateAccessTokenStructure. Verifying the header token as if it were
// ours (the old behaviour) answers "try refresh token" here.
func TestForeignAuthorizationHeader(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = AntiCSRFViaToken })
	cl := h.client("cookie")
	cl.login("u1")
	// A token of ours with a field missing is not shaped like ours either.
	k, _ := h.auth.keys.signer(t.Context())
	noHandle, _ := json.Marshal(map[string]any{"sub": "u1", "rsub": "u1", "tId": "public", "refreshTokenHash1": "x",
		"iat": h.clock.Now().Unix(), "exp": h.clock.Now().Add(time.Hour).Unix(), "iss": "http://localhost:3001/auth"})
	shapeless, _ := jws.Sign(jws.Header{Alg: k.alg, Typ: "JWT", Kid: k.kid, Version: "5"}, noHandle, k.priv)
	foreign := map[string]string{
		"API key":             "sk_live_0123456789abcdef",
		"other service's JWT": otherServiceJWT(),
		"garbage with dots":   "a.b.c",
		"our refresh token":   cl.RefreshToken(),
		"missing field":       shapeless,
	}
	for name, tok := range foreign {
		t.Run(name, func(t *testing.T) {
			for _, m := range []string{"GET", "POST"} {
				r := cl.do(m, "/me", "", "Authorization", "Bearer "+tok)
				expect(t, r, 200, "")
				if r.body["userId"] != "u1" {
					t.Fatalf("%s: body %s", m, r.Body)
				}
				if r.Header().Get(HeaderFrontToken) == "remove" {
					t.Fatal("front-token: remove")
				}
			}
			// On an optional route without a cookie: no session.
			anon := h.client("cookie")
			r := anon.do("GET", "/maybe", "", "Authorization", "Bearer "+tok)
			expect(t, r, 200, "")
			if r.body["userId"] != "" {
				t.Fatalf("optional route: %s", r.Body)
			}
			// On a required route without a cookie: no session, and
			// nothing is cleared (clearTokens false, as the reference).
			r = anon.do("GET", "/me", "", "Authorization", "Bearer "+tok)
			expect(t, r, 401, "unauthorised")
			if r.Header().Get(HeaderFrontToken) != "" {
				t.Fatal("tokens cleared for a request without a session")
			}
			// Cookie-mode refresh with the app's header: the cookie is used.
			rc := h.client("cookie")
			rc.login("u9")
			r = rc.do("POST", "/auth/session/refresh", "", "Authorization", "Bearer "+tok)
			if name == "our refresh token" {
				return // a refresh token of ours in the header is used (tested above)
			}
			expect(t, r, 200, "")
			oneFrontToken(t, r.ResponseRecorder)
			if rc.frontPayload()["uid"] != "u9" {
				t.Fatalf("refreshed %v", rc.frontPayload()["uid"])
			}
			expect(t, rc.do("POST", "/me", ""), 200, "")
		})
	}
	// A header token that IS shaped like ours but does not verify still
	// wins over the cookie and asks for a refresh, as in the reference.
	hc := h.client("header")
	hc.login("u2")
	expired := hc.Access
	h.clock.Advance(2 * time.Hour)
	cl2 := h.client("cookie")
	cl2.login("u3")
	expect(t, cl2.do("GET", "/me", "", "Authorization", "Bearer "+expired), 401, "try refresh token")
	expect(t, cl2.do("GET", "/maybe", "", "Authorization", "Bearer "+expired), 401, "try refresh token")
}

// rawRequest sends a request with exactly the given Cookie header lines.
func rawRequest(h *harness, method, path string, cookieLines []string, extra ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("rid", "session")
	for _, l := range cookieLines {
		req.Header.Add("Cookie", l)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	h.r.ServeHTTP(w, req)
	return w
}

// Duplicate session cookies (issue 21 item 3), refused as current
// supertokens-node refuses them: getAccessTokenFromRequest answers "try
// refresh token" when sAccessToken appears twice (hasMultipleCookiesForTokenType);
// refreshSessionInRequest first runs clearSessionCookiesFromOlderCookieDomain,
// which fails with a 500 naming the setting when olderCookieDomain is not
// configured, and otherwise clears the duplicated cookies under the older
// domain and answers 200 with a message (onClearDuplicateSessionCookies).
func TestDuplicateSessionCookies(t *testing.T) {
	for _, older := range []string{"", ".example.test"} {
		t.Run("older="+older, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Session.OlderCookieDomain = older })
			a := h.client("cookie")
			a.login("u1")
			b := h.client("cookie")
			b.login("u2")
			at, rt := a.Cookies[CookieAccessToken].Value, a.Cookies[CookieRefreshToken].Value
			bt, brt := b.Cookies[CookieAccessToken].Value, b.Cookies[CookieRefreshToken].Value

			// One cookie: fine. Two (both valid, even): try refresh.
			expect(t, &resp{ResponseRecorder: rawRequest(h, "GET", "/me", []string{"sAccessToken=" + at})}, 200, "")
			for _, lines := range [][]string{
				{"sAccessToken=" + at + "; sAccessToken=" + bt},
				{"sAccessToken=" + at, "sAccessToken=" + at},      // split over two Cookie headers
				{"sAccessToken=" + at + "; s%41ccessToken=" + bt}, // names compared decoded
			} {
				w := rawRequest(h, "GET", "/me", lines)
				if w.Code != 401 || !strings.Contains(w.Body.String(), "try refresh token") {
					t.Fatalf("%q: %d %s", lines, w.Code, w.Body)
				}
				if w.Header().Get(HeaderFrontToken) != "" {
					t.Fatal("tokens cleared on a verify")
				}
			}
			// Header mode is not concerned: the Bearer token is used.
			hc := h.client("header")
			hc.login("u3")
			w := rawRequest(h, "GET", "/me", []string{"sAccessToken=" + at + "; sAccessToken=" + bt}, "Authorization", "Bearer "+hc.Access)
			if w.Code != 200 {
				t.Fatalf("header mode with duplicate cookies: %d %s", w.Code, w.Body)
			}

			// Refresh with duplicates: nothing is rotated.
			for _, lines := range [][]string{
				{"sRefreshToken=" + rt + "; sRefreshToken=" + brt},
				{"sAccessToken=" + at + "; sAccessToken=" + bt + "; sRefreshToken=" + rt},
			} {
				w := rawRequest(h, "POST", "/auth/session/refresh", lines)
				if w.Header().Get(HeaderFrontToken) != "" || w.Header().Get(HeaderAccessToken) != "" {
					t.Fatalf("tokens written: %v", w.Header())
				}
				live, cleared := liveCookies(w)
				if len(live) != 0 {
					t.Fatalf("new cookies: %v", live)
				}
				if older == "" {
					// supertokens-website's fetch.test.js "test duplicate ... cookies
					// makes refresh throw a 500" looks for supertokens-node's sentence.
					if w.Code != 500 || !strings.Contains(w.Body.String(), "OlderCookieDomain") ||
						!strings.Contains(w.Body.String(), "The request contains multiple session cookies.") {
						t.Fatalf("%d %s, want a 500 with supertokens-node's sentence, naming OlderCookieDomain", w.Code, w.Body)
					}
					continue
				}
				if w.Code != 200 || !strings.Contains(w.Body.String(), `"message"`) {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				for _, c := range w.Result().Cookies() {
					if c.Domain != strings.TrimPrefix(older, ".") {
						t.Fatalf("cleared %s under domain %q, want %q", c.Name, c.Domain, older)
					}
				}
				dupName := CookieRefreshToken
				if strings.Contains(lines[0], "sAccessToken") {
					dupName = CookieAccessToken
				}
				if len(cleared) != 1 || !cleared[dupName] {
					t.Fatalf("cleared %v, want only %s", cleared, dupName)
				}
			}
			// Both sessions' refresh tokens still work afterwards.
			expect(t, a.do("POST", "/auth/session/refresh", ""), 200, "")
			expect(t, b.do("POST", "/auth/session/refresh", ""), 200, "")
		})
	}
}

// Sign-out in mixed mode: a cookie session with the app's own
// Authorization header signs the cookie session out (getSession picks it,
// as getAccessTokenFromRequest does) and ends with front-token: remove.
func TestSignOutWithForeignAuthorization(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("cookie")
	cl.login("u1")
	handle := ""
	if r := cl.do("GET", "/me", ""); r.Code == 200 {
		handle, _ = r.body["handle"].(string)
	}
	r := cl.do("POST", "/auth/signout", "", "Authorization", "Bearer "+otherServiceJWT())
	expect(t, r, 200, "")
	if r.Header().Get(HeaderFrontToken) != "remove" {
		t.Fatal("sign-out did not clear the session")
	}
	if _, err := h.auth.GetSessionInfo(t.Context(), handle); err == nil {
		t.Fatal("session not revoked")
	}
}

// The access-token payload always carries parentRefreshTokenHash1 and
// antiCsrfToken, null when unused (issue 21 item 1): with no claims the
// payload has exactly the ten keys of supertokens-node's v5 tokens
// (protectedProps in constants.ts but "stt", plus "iss"), in the JWT, in
// the front-token, in Session.AccessTokenPayload and Payload, and after a
// refresh and a payload merge.
func TestPayloadAlwaysCarriesNullableKeys(t *testing.T) {
	want := []string{"sub", "iat", "exp", "sessionHandle", "parentRefreshTokenHash1", "refreshTokenHash1",
		"antiCsrfToken", "rsub", "tId", "iss"}
	for _, csrf := range []AntiCSRFMode{AntiCSRFNone, AntiCSRFViaToken} {
		for _, mode := range []string{"cookie", "header"} {
			t.Run(string(csrf)+"/"+mode, func(t *testing.T) {
				h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = csrf })
				h.r.GET("/payload", h.auth.VerifySession(), func(c *gin.Context) {
					s := MustSession(c)
					c.JSON(200, gin.H{"copy": s.AccessTokenPayload(), "view": s.Payload()})
				})
				h.r.POST("/merge", h.auth.VerifySession(), func(c *gin.Context) {
					s := MustSession(c)
					if err := s.MergeIntoAccessTokenPayload(c, map[string]any{"k": "v"}); err != nil {
						h.auth.writeError(c, err)
						return
					}
					c.JSON(200, gin.H{"view": s.Payload()})
				})
				cl := h.client(mode)
				cl.login("u1")
				withCSRF := csrf == AntiCSRFViaToken && mode == "cookie"
				// parent: "null" before any refresh; "string" on a refreshed
				// token (its parent's hash until the child is used, as the
				// reference's refreshSession gives); "any" after a use.
				check := func(where, parent string, p map[string]any, extra ...string) {
					t.Helper()
					keys := append(append([]string(nil), want...), extra...)
					if len(p) != len(keys) {
						t.Fatalf("%s: %d keys %v, want %d", where, len(p), p, len(keys))
					}
					for _, k := range keys {
						if _, ok := p[k]; !ok {
							t.Fatalf("%s: no %q in %v", where, k, p)
						}
					}
					ph, isString := p["parentRefreshTokenHash1"].(string)
					if (parent == "null" && p["parentRefreshTokenHash1"] != nil) || (parent == "string" && (!isString || ph == "")) ||
						(p["parentRefreshTokenHash1"] != nil && !isString) {
						t.Fatalf("%s: parentRefreshTokenHash1 %#v, want %s", where, p["parentRefreshTokenHash1"], parent)
					}
					if csrf, ok := p["antiCsrfToken"].(string); withCSRF != ok || (ok && csrf == "") {
						t.Fatalf("%s: antiCsrfToken %#v", where, p["antiCsrfToken"])
					}
				}
				jwtPayload := func() map[string]any {
					parts := strings.Split(cl.AccessToken(), ".")
					b, _ := base64.RawURLEncoding.DecodeString(parts[1])
					// Decoded with the verifier's own decoder: keys whose
					// value is null are kept.
					m, err := jws.DecodePayload(b)
					if err != nil {
						t.Fatal(err)
					}
					return m
				}
				check("jwt", "null", jwtPayload())
				check("front-token", "null", cl.frontPayload()["up"].(map[string]any))
				r := cl.do("GET", "/payload", "")
				expect(t, r, 200, "")
				check("AccessTokenPayload", "null", r.body["copy"].(map[string]any))
				check("Payload", "null", r.body["view"].(map[string]any))
				expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
				check("jwt after refresh", "string", jwtPayload())
				check("front-token after refresh", "string", cl.frontPayload()["up"].(map[string]any))
				r = cl.do("POST", "/merge", "")
				expect(t, r, 200, "")
				check("after merge", "any", r.body["view"].(map[string]any), "k")
				check("jwt after merge", "any", jwtPayload(), "k")
				check("front-token after merge", "any", cl.frontPayload()["up"].(map[string]any), "k")
			})
		}
	}
}

// Session.Payload is the request's own copy (issue 13 item 5): the
// verified-token cache shares one decoded payload between every request
// presenting the same token, so a handler that modifies what Payload
// returned must not change what the next request (or a parallel one) sees.
// Returning s.tok.payload itself (as before) fails this, and under -race
// the burst reports the data race.
func TestPayloadIsPerRequest(t *testing.T) {
	h := newHarness(t, nil)
	h.r.GET("/mutate", h.auth.VerifySession(), func(c *gin.Context) {
		s := MustSession(c)
		p := s.Payload()
		tag0 := ""
		if tags, ok := p["tags"].([]any); ok && len(tags) > 0 {
			tag0, _ = tags[0].(string)
		}
		seen := gin.H{"sub": p["sub"], "tag0": tag0, "extra": p["extra"]}
		p["sub"] = "admin"
		p["extra"] = c.Query("n")
		delete(p, "exp")
		if tags, ok := p["tags"].([]any); ok && len(tags) > 0 {
			tags[0] = "root"
		}
		if nested, ok := p["nested"].(map[string]any); ok {
			nested["role"] = "admin"
		}
		// Later calls in the same request see this request's changes.
		if s.Payload()["sub"] != "admin" {
			c.JSON(500, gin.H{"message": "Payload not stable within a request"})
			return
		}
		c.JSON(200, gin.H{"seen": seen, "userId": s.UserID(), "full": s.AccessTokenPayload()})
	})
	h.r.POST("/login-payload", func(c *gin.Context) {
		_, err := h.auth.CreateSession(c, NewSession{UserID: "u1", AccessTokenPayload: map[string]any{
			"tags": []any{"user"}, "nested": map[string]any{"role": "user"}}})
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		c.JSON(200, gin.H{})
	})
	cl := h.client("header")
	expect(t, cl.do("POST", "/login-payload", ""), 200, "")
	check := func(r *resp) {
		t.Helper()
		expect(t, r, 200, "")
		seen := r.body["seen"].(map[string]any)
		if seen["sub"] != "u1" || seen["extra"] != nil || r.body["userId"] != "u1" {
			t.Fatalf("a previous request's change is visible: %s", r.Body)
		}
		if seen["tag0"] != "user" {
			t.Fatalf("nested change visible: %s", r.Body)
		}
	}
	for i := 0; i < 3; i++ {
		check(cl.do("GET", "/mutate?n=1", ""))
	}
	// The cached entry itself is untouched.
	tok, err := h.auth.verifyAccessToken(t.Context(), cl.Access)
	if err != nil {
		t.Fatal(err)
	}
	if tok.payload["sub"] != "u1" || tok.payload["nested"].(map[string]any)["role"] != "user" || tok.payload["exp"] == nil {
		t.Fatalf("cached payload changed: %v", tok.payload)
	}
	// A parallel burst against the same cached token.
	const n = 32
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			<-start
			req := httptest.NewRequest("GET", "/mutate?n=x", nil)
			req.Header.Set("Authorization", "Bearer "+cl.Access)
			w := httptest.NewRecorder()
			h.r.ServeHTTP(w, req)
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			seen, _ := body["seen"].(map[string]any)
			if w.Code != http.StatusOK || seen == nil || seen["sub"] != "u1" || seen["extra"] != nil {
				errs <- w.Body.String()
				return
			}
			errs <- ""
		}()
	}
	close(start)
	for i := 0; i < n; i++ {
		if e := <-errs; e != "" {
			t.Fatalf("parallel request saw another's change: %s", e)
		}
	}
}

// Session.ExposeAccessTokenInCookieMode mirrors supertokens-node's
// exposeAccessTokenToFrontendInCookieBasedAuth (setAccessTokenInResponse in
// recipe/session/utils.ts): every response that writes a cookie-mode access
// token (sign-in, refresh, a payload update) also carries it in
// st-access-token, exposed to CORS, and nothing else changes: no refresh
// token in a header, one front-token, cookies as before. Off (the default),
// a cookie-mode token never appears where page scripts can read it: that
// subtest fails if the header is written regardless of the setting.
func TestExposeAccessTokenInCookieMode(t *testing.T) {
	for _, expose := range []bool{false, true} {
		t.Run(fmt.Sprintf("expose=%t", expose), func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Session.ExposeAccessTokenInCookieMode = expose
				c.Session.AntiCSRF = AntiCSRFViaToken
			})
			h.r.POST("/merge", h.auth.VerifySession(), func(c *gin.Context) {
				if err := MustSession(c).MergeIntoAccessTokenPayload(c, map[string]any{"k": "v"}); err != nil {
					h.auth.writeError(c, err)
					return
				}
				c.JSON(200, gin.H{})
			})
			cl := h.client("cookie")
			check := func(step string, r *resp) {
				t.Helper()
				expect(t, r, 200, "")
				oneFrontToken(t, r.ResponseRecorder)
				live, _ := liveCookies(r.ResponseRecorder)
				if live[CookieAccessToken] == "" {
					t.Fatalf("%s: no access-token cookie", step)
				}
				hdr, ok := r.Header()["St-Access-Token"]
				if !expose {
					if ok {
						t.Fatalf("%s: cookie-mode token exposed in a header without the setting", step)
					}
					return
				}
				if !ok || len(hdr) != 1 || hdr[0] != live[CookieAccessToken] {
					t.Fatalf("%s: st-access-token %q, want the cookie's token %q", step, hdr, live[CookieAccessToken])
				}
				if !strings.Contains(strings.ToLower(strings.Join(r.Header().Values("Access-Control-Expose-Headers"), ",")), HeaderAccessToken) {
					t.Fatalf("%s: st-access-token not in Access-Control-Expose-Headers: %v", step, r.Header())
				}
				if _, ok := r.Header()["St-Refresh-Token"]; ok {
					t.Fatalf("%s: refresh token sent in a header in cookie mode", step)
				}
			}
			check("sign-in", cl.do("POST", "/login?user=u1", ""))
			if expose && cl.Access != cl.Cookies[CookieAccessToken].Value {
				t.Fatal("the frontend's stored token differs from the cookie's")
			}
			check("refresh", cl.do("POST", "/auth/session/refresh", ""))
			check("payload update", cl.do("POST", "/merge", ""))
			if expose {
				// The exposed token is a working access token (for calls to
				// other services), and the cookie session goes on.
				w := rawRequest(h, "GET", "/me", nil, "Authorization", "Bearer "+cl.Access)
				if w.Code != 200 || !strings.Contains(w.Body.String(), `"k":"v"`) {
					t.Fatalf("exposed token as Bearer: %d %s", w.Code, w.Body)
				}
			}
			expect(t, cl.do("GET", "/me", ""), 200, "")

			// Header mode is unchanged by the setting.
			hc := h.client("header")
			r := hc.do("POST", "/login?user=u2", "")
			if r.Header().Get(HeaderAccessToken) == "" || r.Header().Get(HeaderRefreshToken) == "" || len(r.Result().Cookies()) != 0 {
				t.Fatalf("header mode: %v", r.Header())
			}
		})
	}
}

// A browser holding the pre-v3 sIdRefreshToken cookie next to a current
// session is migrated as supertokens-node does (getSessionFromRequest and
// refreshSessionInRequest in recipe/session/sessionRequestFunctions.ts):
// every verify, optional or not, whatever the transfer mode, answers "try
// refresh token" while the cookie is there, and the refresh clears it,
// after which the session works. supertokens-website's
// cross.token_migration.test.js checks this in the browser. Without the
// verify check the first request succeeds and no refresh clears the cookie;
// without the clearing the refresh loops.
func TestLegacyIDRefreshCookie(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("cookie")
	cl.login("u1")
	legacy := &http.Cookie{Name: "sIdRefreshToken", Value: "asdf", Path: "/"}
	cl.Cookies[legacy.Name] = legacy
	for _, path := range []string{"/me", "/maybe"} {
		expect(t, cl.do("GET", path, ""), 401, "try refresh token")
	}
	hc := h.client("header")
	hc.login("u2")
	hc.Cookies[legacy.Name] = legacy
	expect(t, hc.do("GET", "/me", ""), 401, "try refresh token")

	for name, c := range map[string]*client{"cookie": cl, "header": hc} {
		r := c.do("POST", "/auth/session/refresh", "")
		expect(t, r, 200, "")
		oneFrontToken(t, r.ResponseRecorder)
		if _, cleared := liveCookies(r.ResponseRecorder); !cleared["sIdRefreshToken"] {
			t.Fatalf("%s: the refresh did not clear sIdRefreshToken: %v", name, r.Header().Values("Set-Cookie"))
		}
		if _, ok := c.Cookies["sIdRefreshToken"]; ok {
			t.Fatalf("%s: client still holds sIdRefreshToken", name)
		}
		expect(t, c.do("GET", "/me", ""), 200, "")
	}

	// A refresh with the legacy cookie and no refresh token: 401, and the
	// legacy cookie is cleared with the rest.
	w := rawRequest(h, "POST", "/auth/session/refresh", []string{"sIdRefreshToken=asdf"})
	if _, cleared := liveCookies(w); w.Code != 401 || !cleared["sIdRefreshToken"] {
		t.Fatalf("%d %v", w.Code, w.Header().Values("Set-Cookie"))
	}
	// Verify without the cookie is untouched by the check, and a cookie
	// whose name merely contains the legacy one does not count.
	w = rawRequest(h, "GET", "/maybe", []string{"xsIdRefreshTokenx=1"})
	if w.Code != 200 {
		t.Fatalf("look-alike cookie: %d %s", w.Code, w.Body)
	}
}
