package conformance

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// These tests keep the conformance server honest without the suite: each
// endpoint answers what supertokens-website's test/server/index.js (the
// reference, on supertokens-node) answers, as far as the suite looks.

// testWebsite is the page's origin: another port, as in the suite.
const testWebsite = "http://localhost:5999"

func newTestServer(t *testing.T) (*httptest.Server, *client) {
	t.Helper()
	return newTestServerAt(t, nil)
}

// newTestServerAt is newTestServer with ginauth's clock (nil: time.Now).
func newTestServerAt(t *testing.T, now func() time.Time) (*httptest.Server, *client) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	apps := NewApps(t.TempDir(), secret)
	t.Cleanup(apps.Close)
	var srv *httptest.Server
	// The API domain must be known before the listener exists: start the
	// listener first, then build the server on its address.
	srv = httptest.NewUnstartedServer(nil)
	domain := "http://" + srv.Listener.Addr().String()
	s, err := NewServer(Options{APIDomain: domain, WebsiteDomain: testWebsite, PackageVersion: "20.1.7", Now: now}, apps)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &client{t: t, base: srv.URL, http: &http.Client{Jar: jar}}
}

type client struct {
	t        *testing.T
	base     string
	http     *http.Client
	antiCSRF string
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(method, path, body string, headers ...string) resp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if v := r.Header.Get("anti-csrf"); v != "" {
		c.antiCSRF = v
	}
	return resp{r.StatusCode, string(b), r.Header}
}

func (c *client) want(r resp, status int, body string) {
	c.t.Helper()
	if r.status != status || (body != "*" && r.body != body) {
		c.t.Fatalf("got %d %q, want %d %q", r.status, r.body, status, body)
	}
}

// setup makes an app with the given access-token lifetime and initialises
// the backend on it, as the suite's setupCoreApp + setupST do.
func (c *client) setup(validitySeconds float64, antiCSRF bool) {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"coreConfig": map[string]any{"access_token_validity": validitySeconds}})
	r := c.do("POST", "/test/setup/app", string(body))
	c.want(r, 200, "*")
	if !strings.HasPrefix(r.body, AppURLPrefix) {
		c.t.Fatalf("core URL %q", r.body)
	}
	st, _ := json.Marshal(map[string]any{"coreUrl": r.body, "enableAntiCsrf": antiCSRF})
	c.want(c.do("POST", "/test/setup/st", string(st)), 200, "")
}

func (c *client) login(user string) {
	c.t.Helper()
	c.want(c.do("POST", "/login", `{"userId":"`+user+`"}`, "st-auth-mode", "cookie"), 200, user)
}

func (c *client) counter(path string) string {
	c.t.Helper()
	return c.do("GET", path, "").body
}

// The suite's refresh test: login, wait past the access token's lifetime,
// a protected call is refused with 401 (try refresh), the app's refresh
// route refreshes through ginauth and counts it, and the call then works.
// Mirrors the reference test server's POST /auth/session/refresh and GET /.
// ginauth runs on a test clock: a 1 s lifetime measured on the wall clock
// could pass between login and the first call on a loaded machine. The clock
// starts at the real time because the cookie jar judges cookie expiry by it,
// on a whole second because the token's exp is in whole seconds.
func TestRefreshRouteCountsAndRefreshes(t *testing.T) {
	clock := ginauthtest.NewClock(time.Now().Truncate(time.Second))
	_, c := newTestServerAt(t, clock.Now)
	c.setup(1, true)
	c.want(c.do("POST", "/beforeeach", ""), 200, "")
	c.login("user-1")
	if c.antiCSRF == "" {
		t.Fatal("no anti-csrf header on login in VIA_TOKEN mode")
	}
	c.want(c.do("GET", "/", ""), 200, "user-1")
	c.want(c.do("GET", "/getSessionCalledTime", ""), 200, "1")

	clock.Advance(999 * time.Millisecond)
	c.want(c.do("GET", "/", ""), 200, "user-1") // still valid just before exp
	clock.Advance(2 * time.Millisecond)
	r := c.do("GET", "/", "")
	c.want(r, 401, "*")
	if !strings.Contains(r.body, "try refresh token") {
		t.Fatalf("expired token: %q", r.body)
	}
	// The SDK's refresh: rid and the anti-CSRF token.
	c.want(c.do("POST", "/auth/session/refresh", "", "rid", "session", "anti-csrf", c.antiCSRF), 200, "refresh success")
	if got := c.counter("/refreshCalledTime"); got != "1" {
		t.Fatalf("refreshCalledTime %s", got)
	}
	c.want(c.do("GET", "/", ""), 200, "user-1")

	// No refresh token at all: ginauth's 401, answered as the reference's
	// onUnauthorised ({}); counted as attempted, not as called.
	anon := &client{t: t, base: c.base, http: &http.Client{}}
	c.want(anon.do("POST", "/auth/session/refresh", "", "rid", "session"), 401, "{}")
	if got := c.counter("/refreshAttemptedTime"); got != "2" {
		t.Fatalf("refreshAttemptedTime %s", got)
	}
	if got := c.counter("/refreshCalledTime"); got != "1" {
		t.Fatalf("refreshCalledTime %s after a failed refresh", got)
	}

	c.want(c.do("POST", "/beforeeach", ""), 200, "")
	for _, p := range []string{"/refreshCalledTime", "/refreshAttemptedTime", "/getSessionCalledTime"} {
		if got := c.counter(p); got != "0" {
			t.Fatalf("%s = %s after /beforeeach", p, got)
		}
	}
}

// Anti-CSRF mode comes from /test/setup/st: with VIA_TOKEN a POST without
// the token is refused, with NONE it passes.
func TestSetupSwitchesAntiCSRF(t *testing.T) {
	_, c := newTestServer(t)
	c.setup(60, true)
	c.login("u")
	c.want(c.do("POST", "/session-claims-error", "{}", "rid", "session"), 401, "*")

	c.setup(60, false)
	c.login("u")
	r := c.do("POST", "/session-claims-error", "{}", "rid", "session")
	// Past the anti-CSRF check, the failing claim of the route answers.
	c.want(r, 403, "*")
	var body struct {
		Message string `json:"message"`
		Errors  []struct {
			ID     string         `json:"id"`
			Reason map[string]any `json:"reason"`
		} `json:"claimValidationErrors"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Message != "invalid claim" || len(body.Errors) != 1 || body.Errors[0].ID != "test-claim-failing" ||
		body.Errors[0].Reason["message"] != "testReason" {
		t.Fatalf("claims error %s", r.body)
	}
}

// /update-jwt replaces the custom payload (keys left out are removed) and
// keeps the session's own fields; GET reads it back from the new token.
func TestUpdateJWT(t *testing.T) {
	_, c := newTestServer(t)
	c.setup(60, false)
	c.login("u")
	r := c.do("POST", "/update-jwt", `{"key":"value","other":1}`)
	c.want(r, 200, "*")
	r = c.do("POST", "/update-jwt", `{"key2":"value2"}`)
	c.want(r, 200, "*")
	var p map[string]any
	if err := json.Unmarshal([]byte(c.do("GET", "/update-jwt", "").body), &p); err != nil {
		t.Fatal(err)
	}
	if p["key2"] != "value2" || p["key"] != nil || p["other"] != nil || p["sub"] != "u" || p["sessionHandle"] == nil {
		t.Fatalf("payload %v", p)
	}

	// By handle: the stored payload changes; the next refresh carries it.
	c.want(c.do("POST", "/update-jwt-with-handle", `{"byHandle":true}`), 200, "*")
	c.want(c.do("POST", "/auth/session/refresh", "", "rid", "session"), 200, "refresh success")
	p = nil // Unmarshal into a non-nil map would keep the old keys
	if err := json.Unmarshal([]byte(c.do("GET", "/update-jwt", "").body), &p); err != nil {
		t.Fatal(err)
	}
	if p["byHandle"] != true || p["key2"] != nil {
		t.Fatalf("payload after update by handle and refresh %v", p)
	}

	c.want(c.do("POST", "/update-jwt", `[1]`), 400, "*")
}

// Logout and revokeAll end sessions; the next call is unauthorised.
func TestLogoutAndRevokeAll(t *testing.T) {
	_, c := newTestServer(t)
	c.setup(60, false)
	c.login("u")
	c.want(c.do("POST", "/logout", ""), 200, "success")
	c.want(c.do("GET", "/", ""), 401, "*")

	c.login("v")
	other := &client{t: t, base: c.base, http: &http.Client{}}
	// A second session of the same user, in header mode.
	r := other.do("POST", "/login", `{"userId":"v"}`, "st-auth-mode", "header")
	refresh := r.header.Get("st-refresh-token")
	if refresh == "" {
		t.Fatal("no refresh token header in header mode")
	}
	c.want(c.do("POST", "/revokeAll", ""), 200, "success")
	other.want(other.do("POST", "/auth/session/refresh", "", "rid", "session", "Authorization", "Bearer "+refresh), 401, "*")
}

// The fixed endpoints the suite reads.
func TestPlainEndpoints(t *testing.T) {
	_, c := newTestServer(t)
	c.want(c.do("GET", "/ping", ""), 200, "success")
	c.want(c.do("GET", "/getPackageVersion", ""), 200, "20.1.7")
	c.want(c.do("GET", "/featureFlags", ""), 200, `{"duplicateCookieHandling":true,"sessionClaims":true,"sessionJwt":false,"v3AccessToken":true}`)
	r := c.do("PUT", "/testing", "", "testing", "x")
	c.want(r, 200, "success")
	if r.header.Get("testing") != "x" {
		t.Fatal("testing header not echoed")
	}
	c.want(c.do("GET", "/testError?code=502", ""), 502, "test error message")
	c.want(c.do("GET", "/testError", ""), 500, "test error message")
	c.want(c.do("POST", "/403-without-body", ""), 403, "")
	c.want(c.do("GET", "/check-rid-no-session", "", "rid", "anti-csrf"), 200, "success")
	c.want(c.do("GET", "/check-rid-no-session", ""), 200, "fail")
	c.want(c.do("GET", "/testHeader", "", "st-custom-header", "1"), 200, `{"success":true}`)
	c.want(c.do("POST", "/checkAllowCredentials", ""), 200, "false")
	c.want(c.do("POST", "/multipleInterceptors", "", "interceptorheader1", "a", "interceptorheader2", "b"), 200, "success")
	c.want(c.do("GET", "/no-such-route", ""), 404, "")
	c.want(c.do("POST", "/login-2.18", `{"userId":"u"}`), 501, "*")

	// Bad input: clear 4xx, and the backend stays as it was.
	c.want(c.do("POST", "/login", `{}`), 400, "*")
	c.want(c.do("POST", "/test/setup/st", `{"coreUrl":"http://localhost:3567"}`), 400, "*")
	c.want(c.do("POST", "/test/setup/app", `{"appId":"../x"}`), 400, "*")
	c.want(c.do("POST", "/test/setup/app", `{"coreConfig":{"access_token_validity":-1}}`), 400, "*")
	c.login("still-works")

	// CORS as the reference's express cors(): only the website's origin may
	// send the SDK's headers with credentials; the headers are on every
	// response, same-origin ones included (the suite reads them there).
	if h := c.do("GET", "/ping", "").header; h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("no CORS headers on a plain response: %v", h)
	}
	r = c.do("OPTIONS", "/", "", "Origin", testWebsite, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "rid,anti-csrf,st-auth-mode,content-type")
	if r.status >= 300 || r.header.Get("Access-Control-Allow-Credentials") != "true" ||
		r.header.Get("Access-Control-Allow-Origin") != testWebsite {
		t.Fatalf("preflight %d %v", r.status, r.header)
	}
	r = c.do("OPTIONS", "/", "", "Origin", "http://evil.test", "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Origin") != testWebsite {
		t.Fatalf("preflight from another origin allowed: %v", r.header)
	}
}

// The suite fires many parallel calls on an expired token and checks that
// exactly one refresh happens (the SDK serialises it). Here: parallel
// refreshes with the same token are counted exactly once each as attempts,
// and the server stays consistent (every call is answered, no 5xx).
func TestParallelRequestsAndRefreshes(t *testing.T) {
	_, c := newTestServer(t)
	c.setup(60, false)
	c.login("p")
	c.want(c.do("POST", "/beforeeach", ""), 200, "")
	var wg sync.WaitGroup
	statuses := make(chan int, 60)
	for i := 0; i < 30; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", c.base+"/", nil)
			r, err := c.http.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			r.Body.Close()
			statuses <- r.StatusCode
		}()
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", c.base+"/auth/session/refresh", nil)
			req.Header.Set("rid", "session")
			r, err := (&http.Client{}).Do(req) // no cookies: refused
			if err != nil {
				statuses <- 0
				return
			}
			r.Body.Close()
			statuses <- r.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 && s != 401 {
			t.Fatalf("status %d under load", s)
		}
	}
	if got := c.counter("/refreshAttemptedTime"); got != "30" {
		t.Fatalf("refreshAttemptedTime %s, want 30", got)
	}
	if got := c.counter("/getSessionCalledTime"); got != "30" {
		t.Fatalf("getSessionCalledTime %s, want 30", got)
	}
}

// The suite fires /test/setup/st without waiting for it and logs in right
// after, so /test/setup/app (which it does wait for) must leave every server
// of the app ready: setup/st then only switches to a prepared instance.
// Without the warm-up, a login could land on the previous app's instance.
func TestSetupAppPreparesEveryServer(t *testing.T) {
	gin.SetMode(gin.TestMode)
	apps := NewApps(t.TempDir(), make([]byte, 32))
	t.Cleanup(apps.Close)
	var servers []*Server
	for _, d := range []string{"http://localhost:1", "http://localhost:2"} {
		s, err := NewServer(Options{APIDomain: d, WebsiteDomain: testWebsite}, apps)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, s)
	}
	srv := httptest.NewServer(servers[0].Handler())
	t.Cleanup(srv.Close)
	c := &client{t: t, base: srv.URL, http: &http.Client{}}
	r := c.do("POST", "/test/setup/app", `{"appId":"a1","coreConfig":{"access_token_validity":2}}`)
	c.want(r, 200, AppURLPrefix+"a1")
	app, err := apps.Get("a1", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range servers {
		before := len(s.instances)
		if err := s.setup(app, true, false); err != nil {
			t.Fatal(err)
		}
		if len(s.instances) != before {
			t.Fatalf("server %d built a new instance in setup/st instead of using the prepared one", i)
		}
		if got := s.cur.Load().app.AccessValidity; got != 2*time.Second {
			t.Fatalf("server %d: validity %v", i, got)
		}
	}
}

// In JWT mode the reference test server sets supertokens-node's
// exposeAccessTokenToFrontendInCookieBasedAuth (getConfig in
// test/server/index.js): a cookie-mode login also answers st-access-token,
// which cross.basic_jwt.test.js reads with getAccessToken(). Without JWT
// mode it does not.
func TestJWTModeExposesAccessTokenInCookieMode(t *testing.T) {
	for _, jwt := range []bool{false, true} {
		_, c := newTestServer(t)
		body, _ := json.Marshal(map[string]any{"coreConfig": map[string]any{}})
		core := c.do("POST", "/test/setup/app", string(body)).body
		st, _ := json.Marshal(map[string]any{"coreUrl": core, "enableAntiCsrf": true, "enableJWT": jwt})
		c.want(c.do("POST", "/test/setup/st", string(st)), 200, "")
		r := c.do("POST", "/login", `{"userId":"u1"}`, "st-auth-mode", "cookie")
		c.want(r, 200, "u1")
		tok := r.header.Get("st-access-token")
		if jwt != (tok != "") {
			t.Fatalf("jwt=%t: st-access-token %q", jwt, tok)
		}
		if jwt && !strings.Contains(r.header.Get("Set-Cookie")+strings.Join(r.header.Values("Set-Cookie"), ";"), "sAccessToken="+tok) {
			t.Fatalf("the exposed token is not the cookie's: %v", r.header.Values("Set-Cookie"))
		}
	}
}

// Every case of the suite makes a new app and waits for it: the next app's
// database (migrated, with its signing key) is made in the background, and
// a new app takes it, so that the wait is not a migration and an RSA key
// generation on a busy machine. The app still works as any other.
func TestNewAppTakesThePreparedDatabase(t *testing.T) {
	apps := NewApps(t.TempDir(), make([]byte, 32))
	t.Cleanup(apps.Close)
	if _, err := apps.Get("a", time.Second); err != nil {
		t.Fatal(err)
	}
	var spare *gorm.DB
	for deadline := time.Now().Add(60 * time.Second); spare == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no spare database was prepared")
		}
		apps.mu.Lock()
		spare = apps.spare
		apps.mu.Unlock()
	}
	b, err := apps.Get("b", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if b.DB != spare {
		t.Fatal("the new app did not take the prepared database")
	}
	var keys int64
	if err := b.DB.Model(&models.SigningKey{}).Count(&keys).Error; err != nil || keys != 1 {
		t.Fatalf("prepared database: %d signing keys, %v", keys, err)
	}
	s, err := NewServer(Options{APIDomain: "http://localhost:1", WebsiteDomain: testWebsite}, apps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.setup(b, true, false); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: srv.URL, http: &http.Client{Jar: jar}}
	c.login("u-spare")
	c.want(c.do("GET", "/", ""), 200, "u-spare")
	if err := b.DB.Model(&models.SigningKey{}).Count(&keys).Error; err != nil || keys != 1 {
		t.Fatalf("after login: %d signing keys (the prepared one unused?), %v", keys, err)
	}
}

// The suite's "only 1 refresh" cases send 100 calls on an expired token and
// count on every refusal leaving the page's session state alone: a refusal
// that set or cleared tokens would move the SDK's lastAccessTokenUpdate and
// start more refreshes. As supertokens-node's TRY_REFRESH_TOKEN handling
// (sendTryRefreshTokenResponse) does, the 401 carries no token headers, in
// both transfer modes.
func TestTryRefreshAnswerCarriesNoTokens(t *testing.T) {
	for _, mode := range []string{"cookie", "header"} {
		clock := ginauthtest.NewClock(time.Now().Truncate(time.Second))
		_, c := newTestServerAt(t, clock.Now)
		c.setup(15, true)
		login := c.do("POST", "/login", `{"userId":"u"}`, "st-auth-mode", mode)
		c.want(login, 200, "u")
		headers := []string{"st-auth-mode", mode, "rid", "anti-csrf"}
		if mode == "header" {
			headers = append(headers, "Authorization", "Bearer "+login.header.Get("st-access-token"))
		}
		clock.Advance(17 * time.Second) // the case's delay(17) on a 15 s token
		for i := 0; i < 3; i++ {
			r := c.do("GET", "/", "", headers...)
			c.want(r, 401, `{"message":"try refresh token"}`)
			for _, h := range []string{"Set-Cookie", "front-token", "st-access-token", "st-refresh-token", "anti-csrf"} {
				if v := r.header.Values(h); len(v) > 0 {
					t.Fatalf("%s mode: the refusal carries %s: %q", mode, h, v)
				}
			}
		}
	}
}
