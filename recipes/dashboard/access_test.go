package dashboard_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/dashboard"
)

func TestConfigErrors(t *testing.T) {
	db := ginauthtest.OpenDB(t)
	for _, tc := range []struct {
		name string
		cfg  dashboard.Config
		want string
	}{
		{"unprotected", dashboard.Config{}, "set Config.APIKeys"},
		{"short key", dashboard.Config{APIKeys: []string{"short"}}, "APIKeys[0] is shorter than 20"},
		{"padded key", dashboard.Config{APIKeys: []string{" " + testKey}}, "white space"},
		{"negative lifetime", dashboard.Config{APIKeys: []string{testKey}, SessionLifetime: -time.Second}, "SessionLifetime"},
		{"page size", dashboard.Config{APIKeys: []string{testKey}, PageSize: 10000}, "PageSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ginauth.New(ginauth.Config{DB: db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
				Recipes: []ginauth.Recipe{dashboard.New(tc.cfg)}})
			if !errors.Is(err, ginauth.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConfig with %q", err, tc.want)
			}
		})
	}
	t.Run("missing table", func(t *testing.T) {
		db := ginauthtest.OpenDB(t)
		if err := db.Migrator().DropTable(models.TableDashboardSessions); err != nil {
			t.Fatal(err)
		}
		_, err := ginauth.New(ginauth.Config{DB: db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
			Recipes: []ginauth.Recipe{dashboard.New(dashboard.Config{APIKeys: []string{testKey}})}})
		if !errors.Is(err, ginauth.ErrMissingTables) || !strings.Contains(err.Error(), models.TableDashboardSessions) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("redacted", func(t *testing.T) {
		cfg := dashboard.Config{APIKeys: []string{testKey}}
		for _, s := range []string{cfg.String(), cfg.GoString()} {
			if strings.Contains(s, testKey) {
				t.Fatalf("%s shows the key", s)
			}
		}
	})
}

func TestSignInRequired(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	b := h.browser()
	for _, path := range []string{base, userPath(id)} {
		p := b.get(path)
		expectCode(t, p, http.StatusSeeOther)
		if p.location() != base+"/signin" {
			t.Fatalf("%s redirects to %q", path, p.location())
		}
	}
	// A form sent without a session changes nothing.
	p := b.post(base+"/user/delete", url.Values{"id": {id}, "confirm": {"yes"}, "csrf": {"x"}})
	expectCode(t, p, http.StatusUnauthorized)
	expectContains(t, p, "Sign in again")
	if !h.userExists(id) {
		t.Fatal("the user was deleted")
	}
	// A made-up session cookie is no session.
	b.cookies["ginauth_dashboard"] = &http.Cookie{Name: "ginauth_dashboard", Value: "forged-token-forged-token-forged-token"}
	expectCode(t, b.get(base), http.StatusSeeOther)
	// Not under a tenant prefix.
	expectCode(t, h.browser().get("/auth/public/dashboard"), http.StatusNotFound)
}

func TestSignIn(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	p := b.get(base + "/signin")
	expectCode(t, p, http.StatusOK)
	expectContains(t, p, `action="/auth/dashboard/signin"`, `type="password"`)

	p = b.post(base+"/signin", url.Values{"key": {testKey + "x"}})
	expectCode(t, p, http.StatusUnauthorized)
	expectContains(t, p, "That API key is not valid.")
	if len(b.cookies) != 0 {
		t.Fatalf("a wrong key got cookies: %v", b.cookies)
	}
	h.events.One(t, dashboard.EventSignInFailed)
	for _, key := range []string{"", testKey[:len(testKey)-1], strings.ToUpper(testKey)} {
		expectCode(t, b.post(base+"/signin", url.Values{"key": {key}}), http.StatusUnauthorized)
	}

	p = b.post(base+"/signin", url.Values{"key": {testKey}})
	expectCode(t, p, http.StatusSeeOther)
	c := b.cookies["ginauth_dashboard"]
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != base || c.Secure || c.MaxAge != 8*3600 {
		t.Fatalf("session cookie %+v", c)
	}
	var rows []models.DashboardSession
	h.must(h.db.Find(&rows).Error)
	if len(rows) != 1 || rows[0].TokenHash == c.Value || strings.Contains(rows[0].TokenHash, c.Value) ||
		!rows[0].ExpiresAt.Equal(h.clock.Now().Add(8*time.Hour)) {
		t.Fatalf("stored sessions %+v (cookie %q)", rows, c.Value)
	}
	if e := h.events.One(t, dashboard.EventSignIn); !strings.HasPrefix(e.Detail, "api-key:") || e.IP == "" {
		t.Fatalf("event %+v", e)
	}
	expectCode(t, b.get(base), http.StatusOK)
	// The sign-in page sends a signed-in admin on.
	expectCode(t, b.get(base+"/signin"), http.StatusSeeOther)

	t.Run("secure over https", func(t *testing.T) {
		h := newHarness(t, withAPIDomain("https://api.example.com"))
		b := h.browser()
		b.signIn(testKey)
		if c := b.cookies["ginauth_dashboard"]; c == nil || !c.Secure {
			t.Fatalf("cookie %+v", c)
		}
	})
	t.Run("any of several keys", func(t *testing.T) {
		other := "second-dashboard-key-abcdefghij"
		h := newHarness(t, withConfig(dashboard.Config{APIKeys: []string{testKey, other}}))
		h.browser().signIn(other)
		h.browser().signIn(testKey)
	})
}

func TestSignInRateLimit(t *testing.T) {
	h := newHarness(t, withRateLimit(ginauth.RateLimitConfig{Limits: map[ginauth.Action]ginauth.Limit{
		ginauth.ActionDashboardSignIn: {PerIP: ginauth.Rule{Max: 3, Window: time.Minute}}}}))
	b := h.browser()
	for i := 0; i < 3; i++ {
		expectCode(t, b.post(base+"/signin", url.Values{"key": {"wrong-wrong-wrong-wrong"}}), http.StatusUnauthorized)
	}
	// Over the limit even the right key is refused, until the window ends.
	p := b.post(base+"/signin", url.Values{"key": {testKey}})
	expectCode(t, p, http.StatusTooManyRequests)
	if p.Header().Get("Retry-After") == "" || len(b.cookies) != 0 {
		t.Fatalf("Retry-After %q, cookies %v", p.Header().Get("Retry-After"), b.cookies)
	}
	expectContains(t, p, "Too many attempts")
	h.clock.Advance(time.Minute)
	b.signIn(testKey)
}

func TestSessionExpiry(t *testing.T) {
	h := newHarness(t, withConfig(dashboard.Config{APIKeys: []string{testKey}, SessionLifetime: time.Hour}))
	b, _ := h.admin()
	h.clock.Advance(time.Hour - time.Second)
	expectCode(t, b.get(base), http.StatusOK)
	h.clock.Advance(time.Second)
	p := b.get(base)
	expectCode(t, p, http.StatusSeeOther)
	if p.location() != base+"/signin" {
		t.Fatalf("Location %q", p.location())
	}
	// The next sign-in sweeps the expired row.
	b2 := h.browser()
	b2.signIn(testKey)
	var n int64
	h.must(h.db.Model(&models.DashboardSession{}).Count(&n).Error)
	if n != 1 {
		t.Fatalf("%d admin sessions stored, want 1", n)
	}
	if n, err := h.dash.DeleteExpiredSessions(ctx); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredSessions: %d %v", n, err)
	}
}

func TestRemovedKeyEndsSessions(t *testing.T) {
	h := newHarness(t)
	b, _ := h.admin()
	// The same database served by an Auth whose config dropped the key.
	other := "replacement-key-0123456789abc"
	a2, err := ginauth.New(ginauth.Config{DB: h.db, Now: h.clock.Now,
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{dashboard.New(dashboard.Config{APIKeys: []string{other}})}})
	h.must(err)
	h.r = gin.New()
	h.r.Use(a2.Middleware())
	expectCode(t, b.get(base), http.StatusSeeOther)
}

func TestSignOut(t *testing.T) {
	h := newHarness(t)
	b, csrf := h.admin()
	expectCode(t, b.post(base+"/signout", url.Values{}), http.StatusForbidden) // no CSRF token
	p := b.post(base+"/signout", url.Values{"csrf": {csrf}})
	expectCode(t, p, http.StatusSeeOther)
	if p.location() != base+"/signin" || b.cookies["ginauth_dashboard"] != nil {
		t.Fatalf("Location %q, cookies %v", p.location(), b.cookies)
	}
	var n int64
	h.must(h.db.Model(&models.DashboardSession{}).Count(&n).Error)
	if n != 0 {
		t.Fatalf("%d admin sessions left", n)
	}
}

var styleRe = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	pages := map[string]page{
		"signin":   h.browser().get(base + "/signin"),
		"redirect": h.browser().get(base),
		"list":     b.get(base),
		"user":     b.get(userPath(id)),
		"404":      b.get(userPath("nobody")),
		"confirm":  b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}}),
		"403":      b.post(base+"/user/delete", url.Values{"id": {id}}),
	}
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			hd := p.Header()
			csp := hd.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, want) {
					t.Fatalf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
				t.Fatalf("CSP %q", csp)
			}
			if hd.Get("X-Frame-Options") != "DENY" || hd.Get("Cache-Control") != "no-store" ||
				hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "same-origin" {
				t.Fatalf("headers %v", hd)
			}
			if p.Code == http.StatusSeeOther {
				return
			}
			if ct := hd.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			// The inline style sheet is the one the CSP allows, and
			// nothing runs script or loads from elsewhere.
			m := styleRe.FindStringSubmatch(p.body)
			if m == nil {
				t.Fatal("no style sheet")
			}
			sum := sha256.Sum256([]byte(m[1]))
			if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
				t.Fatalf("the style sheet's hash is not in the CSP %q", csp)
			}
			expectLacks(t, p, "<script", "http://", "https://", " style=", "onclick", "no-referrer")
			// Under no-referrer a browser would send "Origin: null" on the
			// forms, which CORS middleware refuses (issue 16).
			expectContains(t, p, `<meta name="referrer" content="same-origin">`)
		})
	}
}

func TestCrossSiteRefused(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	b.header.Set("Sec-Fetch-Site", "cross-site")
	expectCode(t, b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}}), http.StatusForbidden)
	expectCode(t, h.browser().post(base+"/signin", url.Values{"key": {testKey}}), http.StatusSeeOther) // no header: fine
	b2 := h.browser()
	b2.header.Set("Sec-Fetch-Site", "same-site")
	expectCode(t, b2.post(base+"/signin", url.Values{"key": {testKey}}), http.StatusForbidden)
	if !h.userExists(id) {
		t.Fatal("the user was deleted")
	}
}

// An Origin header that names neither this API's configured domain nor
// the Host it was asked by is refused before anything runs, for browsers
// that send no Sec-Fetch-Site. Fails when crossSite stops checking Origin.
func TestForeignOriginRefused(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	for _, origin := range []string{"http://evil.example", "http://localhost:3000", "https://localhost:3001", "http://example.com:8080"} {
		b.header.Set("Origin", origin)
		p := b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}})
		expectCode(t, p, http.StatusForbidden)
		expectContains(t, p, "another site")
		signIn := h.browser()
		signIn.header.Set("Origin", origin)
		expectCode(t, signIn.post(base+"/signin", url.Values{"key": {testKey}}), http.StatusForbidden)
		if signIn.cookies["ginauth_dashboard"] != nil {
			t.Fatalf("%s: a foreign sign-in got an admin session", origin)
		}
	}
	if !h.userExists(id) {
		t.Fatal("the user was deleted")
	}
	// The API's own origins pass, as configured and as asked for
	// (httptest's Host is example.com); "null" is left to the CSRF token.
	for _, origin := range []string{"http://localhost:3001", "http://example.com", "null"} {
		b.header.Set("Origin", origin)
		act(t, b, csrf, "metadata", url.Values{"id": {id}, "metadata": {`{"from": "` + origin + `"}`}})
		p := b.post(base+"/user/metadata", url.Values{"id": {id}, "metadata": {`{}`}})
		expectCode(t, p, http.StatusForbidden)
		expectContains(t, p, "security token")
	}
	m, err := h.meta.GetUserMetadata(ctx, id)
	h.must(err)
	if m["from"] != "null" {
		t.Fatalf("metadata %v", m)
	}
}

// The dashboard works behind the documented CORS setup,
// r.Use(cors.New(ginauth.CORSConfig())) before the middleware, with the
// headers Chromium sends on the dashboard's own forms: its Origin (the
// API domain, while a proxy gives another Host) or, from a page with a
// no-referrer policy, "Origin: null" (issue 16). Fails when CORSConfig
// stops admitting the API's own pages.
func TestDashboardBehindCORS(t *testing.T) {
	for _, origin := range []string{"http://localhost:3001", "null"} {
		t.Run(origin, func(t *testing.T) {
			h := newHarness(t, withCORS())
			_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "editor", nil)
			h.must(err)
			id := h.signUp("ann@example.com")
			handle := h.session(id)
			b := h.browser()
			b.header.Set("Origin", origin)
			b.header.Set("Sec-Fetch-Site", "same-origin")
			b.header.Set("Sec-Fetch-Mode", "navigate")
			csrf := b.signIn(testKey).csrf(t)
			act(t, b, csrf, "roles/add", url.Values{"id": {id}, "tenant": {"public"}, "role": {"editor"}})
			act(t, b, csrf, "sessions/revoke", url.Values{"id": {id}, "handle": {handle}, "confirm": {"yes"}})
			if r := h.rolesOf(id); len(r) != 1 || h.sessionCount(id) != 0 {
				t.Fatalf("roles %v, sessions %d", r, h.sessionCount(id))
			}
			expectCode(t, b.post(base+"/signout", url.Values{"csrf": {csrf}}), http.StatusSeeOther)
			if b.cookies["ginauth_dashboard"] != nil {
				t.Fatal("still signed in")
			}
			// The same forms from a page of another site stay refused,
			// by CORS before the dashboard runs.
			evil := h.browser()
			evil.header.Set("Origin", "http://evil.example")
			expectCode(t, evil.post(base+"/signin", url.Values{"key": {testKey}}), http.StatusForbidden)
			evil.header.Set("Origin", "null")
			evil.header.Set("Sec-Fetch-Site", "cross-site")
			expectCode(t, evil.post(base+"/signin", url.Values{"key": {testKey}}), http.StatusForbidden)
		})
	}
}

// Admins working at once behind the CORS setup (run with -race, on
// SQLite and Postgres): every same-origin form goes through, and every
// foreign one is refused without a change.
func TestDashboardBehindCORSConcurrent(t *testing.T) {
	h := newHarness(t, withCORS())
	id := h.signUp("ann@example.com")
	const n = 8
	admins := make([]*browser, n)
	tokens := make([]string, n)
	for i := range admins {
		admins[i] = h.browser()
		admins[i].header.Set("Origin", "http://localhost:3001")
		admins[i].header.Set("Sec-Fetch-Site", "same-origin")
		tokens[i] = admins[i].signIn(testKey).csrf(t)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i := range admins {
		wg.Add(2)
		go func() {
			defer wg.Done()
			form := url.Values{"id": {id}, "csrf": {tokens[i]}, "metadata": {fmt.Sprintf(`{"admin": %d}`, i)}}
			if p := admins[i].post(base+"/user/metadata", form); p.Code != http.StatusSeeOther {
				errs <- fmt.Sprintf("admin %d: %d", i, p.Code)
			}
		}()
		go func() {
			defer wg.Done()
			evil := h.browser()
			evil.header.Set("Origin", "http://evil.example")
			if p := evil.post(base+"/signin", url.Values{"key": {testKey}}); p.Code != http.StatusForbidden {
				errs <- fmt.Sprintf("foreign sign-in: %d", p.Code)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var sessions int64
	h.must(h.db.Model(&models.DashboardSession{}).Count(&sessions).Error)
	if sessions != n {
		t.Fatalf("%d admin sessions, want %d", sessions, n)
	}
	m, err := h.meta.GetUserMetadata(ctx, id)
	h.must(err)
	if _, ok := m["admin"]; !ok {
		t.Fatalf("metadata %v", m)
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil)
	h.must(err)
	id := h.signUp("ann@example.com")
	handle := h.session(id)
	b, csrf := h.admin()
	// Another admin's token is no good either.
	_, otherCSRF := h.admin()
	if otherCSRF == csrf {
		t.Fatal("two admin sessions share a CSRF token")
	}
	forms := map[string]url.Values{
		"roles/add":           {"id": {id}, "tenant": {"public"}, "role": {"admin"}},
		"roles/remove":        {"id": {id}, "tenant": {"public"}, "role": {"admin"}},
		"metadata":            {"id": {id}, "metadata": {`{"x":1}`}},
		"sessions/revoke":     {"id": {id}, "handle": {handle}, "confirm": {"yes"}},
		"sessions/revoke-all": {"id": {id}, "confirm": {"yes"}},
		"password-reset":      {"id": {id}},
		"email/verify":        {"id": {id}, "ruid": {id}, "email": {"ann@example.com"}},
		"email/unverify":      {"id": {id}, "ruid": {id}, "email": {"ann@example.com"}, "confirm": {"yes"}},
		"delete":              {"id": {id}, "confirm": {"yes"}},
	}
	for path, form := range forms {
		for name, token := range map[string]string{"missing": "", "wrong": csrf[:len(csrf)-2] + "xx", "other admin's": otherCSRF} {
			t.Run(path+"/"+name, func(t *testing.T) {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if token != "" {
					f.Set("csrf", token)
				}
				p := b.post(base+"/user/"+path, f)
				expectCode(t, p, http.StatusForbidden)
				expectContains(t, p, "security token")
			})
		}
	}
	// Nothing changed.
	if !h.userExists(id) || h.sessionCount(id) != 1 || len(h.rolesOf(id)) != 0 {
		t.Fatalf("exists %v, sessions %d, roles %v", h.userExists(id), h.sessionCount(id), h.rolesOf(id))
	}
	m, err := h.meta.GetUserMetadata(ctx, id)
	h.must(err)
	ok, err := h.ev.IsVerified(ctx, id, "ann@example.com")
	h.must(err)
	if len(m) != 0 || ok {
		t.Fatalf("metadata %v, verified %v", m, ok)
	}
	var tokens int64
	h.must(h.db.Model(&models.PasswordResetToken{}).Count(&tokens).Error)
	if tokens != 0 {
		t.Fatalf("%d reset tokens made", tokens)
	}
	if len(h.events.OfType(dashboard.EventAction)) != 0 {
		t.Fatalf("events %+v", h.events.OfType(dashboard.EventAction))
	}
}

func TestAuthorize(t *testing.T) {
	h := newHarness(t, withConfig(dashboard.Config{Authorize: func(c *gin.Context) bool { return c.GetHeader("X-Admin") == "yes" }}))
	id := h.signUp("ann@example.com")

	p := h.browser().get(base)
	expectCode(t, p, http.StatusForbidden)
	expectCode(t, h.browser().get(base+"/signin"), http.StatusNotFound) // no API keys, no sign-in page

	b := h.browser()
	b.header.Set("X-Admin", "yes")
	p = b.get(userPath(id))
	expectCode(t, p, http.StatusOK)
	expectLacks(t, p, "Sign out")
	csrf := p.csrf(t)
	c := b.cookies["ginauth_dashboard_csrf"]
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != base {
		t.Fatalf("CSRF cookie %+v", c)
	}
	// Without the cookie the token is worthless.
	nocookie := h.browser()
	nocookie.header.Set("X-Admin", "yes")
	expectCode(t, nocookie.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}}), http.StatusForbidden)
	// Refused by Authorize: nothing happens, even with the cookie and token.
	b.header.Del("X-Admin")
	expectCode(t, b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}}), http.StatusForbidden)
	if !h.userExists(id) {
		t.Fatal("the user was deleted")
	}
	b.header.Set("X-Admin", "yes")
	expectCode(t, b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}}), http.StatusSeeOther)
	if h.userExists(id) {
		t.Fatal("the user was not deleted")
	}
	if e := h.events.One(t, dashboard.EventAction); e.Detail != "delete-user by authorize" || e.UserID != id {
		t.Fatalf("event %+v", e)
	}
}

func TestAuthorizeOrAPIKey(t *testing.T) {
	h := newHarness(t, withConfig(dashboard.Config{APIKeys: []string{testKey},
		Authorize: func(c *gin.Context) bool { return c.GetHeader("X-Admin") == "yes" }}))
	b := h.browser()
	expectCode(t, b.get(base), http.StatusSeeOther) // neither: sign in
	b.header.Set("X-Admin", "yes")
	expectCode(t, b.get(base), http.StatusOK)
	b.header.Del("X-Admin")
	b.signIn(testKey)
}

func TestRegisterRoutes(t *testing.T) {
	h := newHarness(t, withRegisterRoutes())
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	expectContains(t, b.get(userPath(id)), "ann@example.com")
	expectCode(t, b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}}), http.StatusSeeOther)
	if h.userExists(id) {
		t.Fatal("the user was not deleted")
	}
	found := false
	for _, rt := range h.r.Routes() {
		found = found || (rt.Method == http.MethodGet && rt.Path == base+"/user")
	}
	if !found {
		t.Fatal("the dashboard is not among the engine's routes")
	}
}
