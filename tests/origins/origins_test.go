// Package origins tests one backend serving several frontends (issue 14,
// SuperTokens' appInfo.origin): each request's website origin decides the
// links in its e-mails, its cookies' SameSite, its anti-CSRF mode and its
// CORS answer, and an origin that is not listed never reaches a link.
package origins

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

func init() { gin.SetMode(gin.TestMode) }

// The three frontends of the issue, behind an API on its own https site.
const (
	apiDomain = "https://api.example.com"
	local     = "http://localhost:3000"       // the default: another scheme and site, so SameSite=None
	staging   = "https://staging.example.com" // the API's own site, so SameSite=Lax
	mobile    = "com.example.app://"          // an app's own scheme, so SameSite=None
	evil      = "https://evil.example.net"
)

var frontends = []string{local, staging, mobile}

// mailbox keeps the e-mails it is given.
type mailbox struct {
	mu    sync.Mutex
	mails []emaildelivery.Email
}

func (m *mailbox) Send(_ context.Context, e emaildelivery.Email) error {
	m.mu.Lock()
	m.mails = append(m.mails, e)
	m.mu.Unlock()
	return nil
}

// last returns the latest e-mail of kind to addr, waiting for background
// senders (the reset e-mail is sent after the answer).
func (m *mailbox) last(t testing.TB, kind, to string) emaildelivery.Email {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		m.mu.Lock()
		for i := len(m.mails) - 1; i >= 0; i-- {
			if e := m.mails[i]; e.Kind == kind && strings.EqualFold(e.To, to) {
				m.mu.Unlock()
				return e
			}
		}
		m.mu.Unlock()
	}
	t.Fatalf("no %s e-mail to %s", kind, to)
	return emaildelivery.Email{}
}

type app struct {
	auth *ginauth.Auth
	ep   *emailpassword.Recipe
	mail *mailbox
	// withCORS is the API as deployed: CORS first, then ginauth. bare has
	// no CORS, as an API whose CORS is done elsewhere (or a client that is
	// not a browser and ignores it): the origin resolution alone must keep
	// unlisted origins out of links.
	withCORS, bare *gin.Engine
}

func newApp(t testing.TB, info ginauth.AppInfo, sc ginauth.SessionConfig) *app {
	t.Helper()
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	a := &app{mail: &mailbox{}}
	a.ep = emailpassword.New(emailpassword.Config{EmailSender: a.mail,
		Argon2: emailpassword.Argon2Params{Memory: 256, Iterations: 1, Parallelism: 1}})
	ev := emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: a.mail})
	pl := passwordless.New(passwordless.Config{EmailSender: a.mail})
	limits := map[ginauth.Action]ginauth.Limit{}
	for action := range ginauth.DefaultLimits() {
		limits[action] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
			PerAccount: ginauth.Rule{Max: 1 << 30, Window: time.Minute}}
	}
	info.AppName, info.APIDomain = "Origins", apiDomain
	auth, err := ginauth.New(ginauth.Config{DB: db, AppInfo: info, Session: sc,
		Recipes:   []ginauth.Recipe{a.ep, ev, pl},
		RateLimit: ginauth.RateLimitConfig{Limits: limits},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		DBTimeout: testdb.DBTimeout, // a burst of 50 resets queues for SQLite's writer
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.ep.Wait)
	a.auth = auth
	for _, withCORS := range []bool{true, false} {
		r := gin.New()
		if withCORS {
			r.Use(cors.New(auth.CORSConfig()))
		}
		r.Use(auth.Middleware())
		r.POST("/api/thing", auth.VerifySession(), func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
		if withCORS {
			a.withCORS = r
		} else {
			a.bare = r
		}
	}
	return a
}

// severalFrontends is the AppInfo of the three frontends, localhost the
// default.
func severalFrontends() ginauth.AppInfo {
	return ginauth.AppInfo{WebsiteDomain: local, WebsiteOrigins: []string{staging, mobile}}
}

// do sends a request to r; origin "" sends no Origin header; extra are
// header name/value pairs.
func do(r *gin.Engine, method, path, origin, body string, extra ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, apiDomain+path, strings.NewReader(body))
	req.Host = "api.example.com"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("rid", "emailpassword")
	req.Header.Set("st-auth-mode", "cookie")
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			req.Header.Del(extra[i])
		} else {
			req.Header.Set(extra[i], extra[i+1])
		}
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func cookiesOf(w *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		out[c.Name] = c
	}
	return out
}

func signUp(t testing.TB, r *gin.Engine, origin, email string) *httptest.ResponseRecorder {
	t.Helper()
	w := do(r, "POST", "/auth/signup", origin,
		fmt.Sprintf(`{"formFields":[{"id":"email","value":%q},{"id":"password","value":"correct horse 42"}]}`, email))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"OK"`) {
		t.Fatalf("sign-up %s from %s: %d %s", email, origin, w.Code, w.Body)
	}
	return w
}

func wantLink(t testing.TB, link, origin, path string) {
	t.Helper()
	if !strings.HasPrefix(link, origin+path) {
		t.Fatalf("link %q, want it to start with %q", link, origin+path)
	}
}

// Three frontends on one backend: each gets its own CORS answer, cookie
// attributes and e-mail links (as supertokens-node's appInfo.getOrigin,
// cookieSameSite and antiCsrf functions of the request, and its
// getPasswordResetLink / getEmailVerifyLink / magic link built from
// getOrigin({request})).
func TestThreeFrontends(t *testing.T) {
	a := newApp(t, severalFrontends(), ginauth.SessionConfig{})
	wantSameSite := map[string]http.SameSite{local: http.SameSiteNoneMode, staging: http.SameSiteLaxMode, mobile: http.SameSiteNoneMode}
	for i, origin := range frontends {
		t.Run(origin, func(t *testing.T) {
			// CORS: the preflight is answered for exactly this origin.
			w := do(a.withCORS, "OPTIONS", "/auth/signup", origin, "", "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "content-type,rid,st-auth-mode")
			if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != origin ||
				w.Header().Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("preflight: %d %v", w.Code, w.Header())
			}

			// Cookies: SameSite per origin, Secure as the API is https.
			email := fmt.Sprintf("user%d@example.com", i)
			w = signUp(t, a.withCORS, origin, email)
			if w.Header().Get("Access-Control-Allow-Origin") != origin {
				t.Fatalf("sign-up's CORS answer: %v", w.Header())
			}
			jar := cookiesOf(w)
			at := jar["sAccessToken"]
			if at == nil || jar["sRefreshToken"] == nil {
				t.Fatalf("no session cookies: %v", w.Header()["Set-Cookie"])
			}
			for _, c := range []*http.Cookie{at, jar["sRefreshToken"]} {
				if c.SameSite != wantSameSite[origin] || !c.Secure || !c.HttpOnly {
					t.Fatalf("%s: SameSite %v Secure %v, want SameSite %v and Secure", c.Name, c.SameSite, c.Secure, wantSameSite[origin])
				}
			}

			// Anti-CSRF default: VIA_CUSTOM_HEADER where SameSite is None.
			cookie := "sAccessToken=" + at.Value
			w = do(a.withCORS, "POST", "/api/thing", origin, "", "Cookie", cookie, "rid", "")
			if wantSameSite[origin] == http.SameSiteNoneMode && w.Code != http.StatusUnauthorized ||
				wantSameSite[origin] == http.SameSiteLaxMode && w.Code != 200 {
				t.Fatalf("POST without rid from %s: %d %s", origin, w.Code, w.Body)
			}
			if w = do(a.withCORS, "POST", "/api/thing", origin, "", "Cookie", cookie); w.Code != 200 {
				t.Fatalf("POST with rid from %s: %d %s", origin, w.Code, w.Body)
			}

			// E-mail verification link.
			w = do(a.withCORS, "POST", "/auth/user/email/verify/token", origin, "{}", "Cookie", cookie, "rid", "emailverification")
			if w.Code != 200 {
				t.Fatalf("verify token: %d %s", w.Code, w.Body)
			}
			wantLink(t, a.mail.last(t, emaildelivery.KindEmailVerification, email).Link, origin, "/auth/verify-email?token=")

			// Password reset link (sent in the background after the answer).
			w = do(a.withCORS, "POST", "/auth/user/password/reset/token", origin,
				fmt.Sprintf(`{"formFields":[{"id":"email","value":%q}]}`, email))
			if w.Code != 200 {
				t.Fatalf("reset token: %d %s", w.Code, w.Body)
			}
			wantLink(t, a.mail.last(t, emaildelivery.KindPasswordReset, email).Link, origin, "/auth/reset-password?")

			// Magic link.
			pEmail := fmt.Sprintf("magic%d@example.com", i)
			w = do(a.withCORS, "POST", "/auth/signinup/code", origin, fmt.Sprintf(`{"email":%q}`, pEmail), "rid", "passwordless")
			if w.Code != 200 {
				t.Fatalf("create code: %d %s", w.Code, w.Body)
			}
			wantLink(t, a.mail.last(t, passwordless.KindSignInCode, pEmail).Link, origin, "/auth/verify?preAuthSessionId=")
		})
	}
}

// An origin that is not listed: CORS refuses it (403, no
// Access-Control-Allow-Origin), and a request that gets past CORS (no CORS
// in front, or a client that is not a browser) gets the default origin in
// its links, never its own. Removing the allow-list check in ginauth's
// originOf (origin.go) makes this test fail.
func TestUnlistedOriginGetsTheDefault(t *testing.T) {
	a := newApp(t, severalFrontends(), ginauth.SessionConfig{})
	w := do(a.withCORS, "OPTIONS", "/auth/signup", evil, "", "Access-Control-Request-Method", "POST")
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from %s: %d %v", evil, w.Code, w.Header())
	}
	if w := do(a.withCORS, "POST", "/auth/user/password/reset/token", evil, `{"formFields":[{"id":"email","value":"x@example.com"}]}`); w.Code != http.StatusForbidden {
		t.Fatalf("POST from %s through CORS: %d", evil, w.Code)
	}

	signUp(t, a.bare, local, "victim@example.com")
	for _, origin := range []string{evil, "", "null", staging + ".evil.example.net", "http://staging.example.com", "com.example.evil://", mobile + "x"} {
		w := do(a.bare, "POST", "/auth/user/password/reset/token", origin, `{"formFields":[{"id":"email","value":"victim@example.com"}]}`)
		if w.Code != 200 {
			t.Fatalf("reset from %q: %d %s", origin, w.Code, w.Body)
		}
		a.ep.Wait()
		wantLink(t, a.mail.last(t, emaildelivery.KindPasswordReset, "victim@example.com").Link, local, "/auth/reset-password?")
	}
	// Links built from Go, outside a request, use the default too.
	wantLink(t, a.ep.ResetPasswordLink(context.Background(), "public", "tok"), local, "/auth/reset-password?tenantId=public&token=tok")
}

// The anti-CSRF default follows the Origin the browser sent, and a request
// from any other origin (or none) gets the strictest mode of the listed
// origins: cookies set SameSite=None for one frontend must not be
// accepted without the rid header from a page that is not listed, even
// when the default frontend's own mode is NONE. Resolving the anti-CSRF
// mode from the default origin for unlisted origins makes this fail.
func TestAntiCSRFForUnlistedOrigins(t *testing.T) {
	// The default (staging) is Lax and so NONE; localhost is None.
	a := newApp(t, ginauth.AppInfo{WebsiteDomain: staging, WebsiteOrigins: []string{local}}, ginauth.SessionConfig{})
	w := signUp(t, a.bare, local, "csrf@example.com")
	if c := cookiesOf(w)["sAccessToken"]; c == nil || c.SameSite != http.SameSiteNoneMode {
		t.Fatalf("want a SameSite=None cookie from %s: %v", local, w.Header()["Set-Cookie"])
	}
	cookie := "sAccessToken=" + cookiesOf(w)["sAccessToken"].Value
	for origin, want := range map[string]int{staging: 200, local: 401, evil: 401, "": 401} {
		if w := do(a.bare, "POST", "/api/thing", origin, "", "Cookie", cookie, "rid", ""); w.Code != want {
			t.Fatalf("POST without rid from %q: %d, want %d", origin, w.Code, want)
		}
	}
	// A fixed Session.AntiCSRF applies to every origin.
	b := newApp(t, ginauth.AppInfo{WebsiteDomain: staging, WebsiteOrigins: []string{local}}, ginauth.SessionConfig{AntiCSRF: ginauth.AntiCSRFNone})
	cookie = "sAccessToken=" + cookiesOf(signUp(t, b.bare, local, "csrf@example.com"))["sAccessToken"].Value
	if w := do(b.bare, "POST", "/api/thing", evil, "", "Cookie", cookie, "rid", ""); w.Code != 200 {
		t.Fatalf("fixed NONE: %d", w.Code)
	}
}

// AppInfo.Origin picks the origin (here from a header a mobile app sends,
// as it sends no Origin); its answer counts only when listed.
func TestOriginCallback(t *testing.T) {
	info := severalFrontends()
	info.Origin = func(r *http.Request) string {
		switch r.Header.Get("X-Client") {
		case "mobile":
			return mobile
		case "staging":
			return "HTTPS://Staging.Example.com/" // compared after normalising
		case "echo":
			return r.Header.Get("X-Echo") // a careless callback
		}
		return ""
	}
	a := newApp(t, info, ginauth.SessionConfig{})
	signUp(t, a.bare, "", "cb@example.com")
	for _, tc := range []struct{ client, echo, want string }{
		{"mobile", "", mobile},
		{"staging", "", staging},
		{"", "", local},
		{"echo", evil, local},
		{"echo", staging, staging},
	} {
		w := do(a.bare, "POST", "/auth/user/password/reset/token", "", `{"formFields":[{"id":"email","value":"cb@example.com"}]}`,
			"X-Client", tc.client, "X-Echo", tc.echo)
		if w.Code != 200 {
			t.Fatalf("%+v: %d %s", tc, w.Code, w.Body)
		}
		a.ep.Wait()
		wantLink(t, a.mail.last(t, emaildelivery.KindPasswordReset, "cb@example.com").Link, tc.want, "/auth/reset-password?")
	}
	// An app handler building a link for its own request.
	req := httptest.NewRequest("POST", "/invite", nil)
	req.Header.Set("X-Client", "mobile")
	ctx, err := a.auth.WithWebsiteOrigin(context.Background(), a.auth.RequestOrigin(req))
	if err != nil {
		t.Fatal(err)
	}
	wantLink(t, a.ep.ResetPasswordLink(ctx, "public", "tok"), mobile, "/auth/reset-password?tenantId=public&token=tok")
	if _, err := a.auth.WithWebsiteOrigin(context.Background(), evil); err == nil {
		t.Fatalf("WithWebsiteOrigin(%s) accepted", evil)
	}
	if got := a.auth.RequestOrigin(nil); got != local {
		t.Fatalf("RequestOrigin(nil) = %q", got)
	}
}

// 50 parallel reset requests from mixed origins: each e-mail carries its
// own request's origin, so the resolved origin is per request, never
// shared state. Runs on SQLite, and on PostgreSQL with
// GINAUTH_TEST_DATABASE_URL set.
func TestConcurrentResetLinksFromMixedOrigins(t *testing.T) {
	a := newApp(t, severalFrontends(), ginauth.SessionConfig{})
	const n = 50
	for i := range n {
		signUp(t, a.bare, frontends[i%3], fmt.Sprintf("p%d@example.com", i))
	}
	errs := make(chan string, n)
	ginauthtest.Burst(n, func(i int) {
		w := do(a.withCORS, "POST", "/auth/user/password/reset/token", frontends[i%3],
			fmt.Sprintf(`{"formFields":[{"id":"email","value":"p%d@example.com"}]}`, i))
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != frontends[i%3] {
			errs <- fmt.Sprintf("request %d: %d %s %v", i, w.Code, w.Body, w.Header())
		}
	})
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	a.ep.Wait()
	for i := range n {
		wantLink(t, a.mail.last(t, emaildelivery.KindPasswordReset, fmt.Sprintf("p%d@example.com", i)).Link, frontends[i%3], "/auth/reset-password?")
	}
}
