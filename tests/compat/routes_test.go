package compat

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Every FDI route answers under a tenant prefix exactly as without one, in
// both serving modes. Mirrors supertokens-node's
// RecipeModule.returnAPIIdIfCanHandleRequest, which matches an optional
// "/<tenantId>" segment in front of every path of every recipe (the
// session's refresh and sign-out, e-mail verification, MFA, TOTP, the
// Apple callback, JWKS and OpenID discovery included).
func TestTenantPrefixOnEveryFDIRoute(t *testing.T) {
	both(t, func(t *testing.T, rr bool) {
		a := newApp(t, options{registerRoutes: rr})
		n := 0
		for _, rt := range a.auth.Routes() {
			rel := strings.TrimPrefix(rt.Path, "/auth")
			prefixed := a.do(rt.Method, "/auth/t1"+rel, "")
			if rt.NoTenant {
				// Only the dashboard, which is not an FDI route and spans
				// every tenant, goes without the prefix.
				if !strings.HasPrefix(rel, "/dashboard") {
					t.Errorf("%s %s does not take the tenant prefix", rt.Method, rel)
				}
				if prefixed.Code != http.StatusNotFound || prefixed.JSON != nil {
					t.Errorf("%s %s under a tenant prefix: %d %s, want the app's 404", rt.Method, rel, prefixed.Code, prefixed.Body)
				}
				continue
			}
			n++
			plain := a.do(rt.Method, rt.Path, "")
			if prefixed.Code != plain.Code || fresh(prefixed.Body.String()) != fresh(plain.Body.String()) {
				t.Errorf("%s %s: with the tenant prefix %d %s, without %d %s", rt.Method, rel,
					prefixed.Code, prefixed.Body, plain.Code, plain.Body)
			}
			if prefixed.JSON == nil && prefixed.Code == http.StatusNotFound {
				t.Errorf("%s /auth/t1%s is not served", rt.Method, rel)
			}
			// An unknown tenant is refused by ginauth, not passed on.
			if got := a.do(rt.Method, "/auth/no-such-tenant"+rel, ""); got.Code != http.StatusNotFound || got.JSON["message"] != "tenant not found" {
				t.Errorf("%s %s under an unknown tenant: %d %s", rt.Method, rel, got.Code, got.Body)
			}
		}
		if n < 30 {
			t.Fatalf("only %d FDI routes checked", n)
		}
	})
}

// The session routes do their work under a tenant prefix: refresh, the
// e-mail verification and MFA/TOTP reads, sign-out. Mirrors
// supertokens-node's session refreshPOST and signOutPOST (and
// emailverification's isEmailVerifiedGET, multifactorauth's
// resyncSessionAndFetchMFAInfoPUT, totp's listDevicesGET), reached through
// RecipeModule.returnAPIIdIfCanHandleRequest with the prefix; they take
// the session, not the path, as the user's tenant.
func TestSessionRoutesUnderTenantPrefix(t *testing.T) {
	both(t, func(t *testing.T, rr bool) {
		a := newApp(t, options{registerRoutes: rr})
		access, refresh := a.signIn(t, "ann@example.com")

		r := a.do("POST", "/auth/t1/session/refresh", "", "Authorization", "Bearer "+refresh, "rid", "session")
		if r.Code != http.StatusOK || r.Header().Get("st-access-token") == "" || r.Header().Get("front-token") == "" ||
			r.Header().Get("front-token") == "remove" {
			t.Fatalf("prefixed refresh: %d %s %v", r.Code, r.Body, r.Header())
		}
		access = r.Header().Get("st-access-token")
		bearer := []string{"Authorization", "Bearer " + access}

		for _, c := range []struct{ method, path string }{
			{"GET", "/auth/t1/user/email/verify"},
			{"PUT", "/auth/t1/mfa/info"},
			{"GET", "/auth/t1/totp/device/list"},
		} {
			if r := a.do(c.method, c.path, "", bearer...); r.Code != http.StatusOK || r.Status() != "OK" {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Code, r.Body)
			}
		}

		r = a.do("POST", "/auth/t1/signout", "", append(bearer, "rid", "session")...)
		if r.Code != http.StatusOK || r.Status() != "OK" || r.Header().Get("front-token") != "remove" {
			t.Fatalf("prefixed sign-out: %d %s %v", r.Code, r.Body, r.Header())
		}
		if r := a.do("GET", "/auth/user/email/verify", "", bearer...); r.Code != http.StatusUnauthorized {
			t.Fatalf("the session outlived the prefixed sign-out: %d %s", r.Code, r.Body)
		}
	})
}

// On the deprecated path both emailpassword and passwordless serve (GET
// /signup/email/exists), the rid header picks the recipe; the combined
// rids of pre-3.0 frontends name both their parts; without a rid that
// names one of them ("anti-csrf", "session", none) the recipe listed first
// answers. Mirrors supertokens-node's SuperTokens.middleware: its rid
// branch (thirdpartyemailpassword / thirdpartypasswordless) and
// handleWithoutRid, which walks the recipe list in order.
func TestRIDPicksRecipeOnSharedPath(t *testing.T) {
	both(t, func(t *testing.T, rr bool) {
		for _, plFirst := range []bool{false, true} {
			a := newApp(t, options{registerRoutes: rr, plFirst: plFirst})
			ctx := context.Background()
			if _, err := a.pl.SignInUp(ctx, "public", passwordless.Contact{Email: "pl@example.com"}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.ep.SignUp(ctx, "public", "ep@example.com", "compat-pass-123"); err != nil {
				t.Fatal(err)
			}
			exists := func(path, email, rid string) bool {
				t.Helper()
				var h []string
				if rid != "" {
					h = []string{"rid", rid}
				}
				r := a.do("GET", path+"?email="+email, "", h...)
				if r.Code != http.StatusOK || r.Status() != "OK" {
					t.Fatalf("%s rid %q: %d %s", path, rid, r.Code, r.Body)
				}
				return r.JSON["exists"] == true
			}
			for _, path := range []string{"/auth/signup/email/exists", "/auth/public/signup/email/exists"} {
				for rid, plAnswers := range map[string]bool{
					"passwordless": true, "thirdpartypasswordless": true,
					"emailpassword": false, "thirdpartyemailpassword": false,
					"": plFirst, "anti-csrf": plFirst, "session": plFirst, "thirdparty": plFirst,
				} {
					if got := exists(path, "pl@example.com", rid); got != plAnswers {
						t.Errorf("plFirst=%v %s rid %q: pl@ exists = %v", plFirst, path, rid, got)
					}
					if got := exists(path, "ep@example.com", rid); got == plAnswers {
						t.Errorf("plFirst=%v %s rid %q: ep@ exists = %v", plFirst, path, rid, got)
					}
				}
			}
			// A rid never hides a route: a recipe's own path answers
			// whatever rid is sent, as the middleware falls back to
			// handleWithoutRid.
			want := a.do("POST", "/auth/signinup/code", "{}")
			for _, rid := range []string{"emailpassword", "thirdpartypasswordless", "bogus"} {
				if r := a.do("POST", "/auth/signinup/code", "{}", "rid", rid); r.Code != want.Code || r.Body.String() != want.Body.String() {
					t.Errorf("/signinup/code with rid %s: %d %s, without %d %s", rid, r.Code, r.Body, want.Code, want.Body)
				}
			}
		}
	})
}

// docRoute is one row of docs/compatibility.md's route tables:
// | `METHOD /path` | tenant prefix (yes/no) | ...
var docRoute = regexp.MustCompile("^\\| `(GET|POST|PUT|DELETE) (/[^`]*)` \\| (yes|no) \\|")

// docs/compatibility.md lists exactly the routes ginauth serves with every
// recipe configured, each with whether it takes the tenant prefix.
func TestCompatibilityDocListsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if m := docRoute.FindStringSubmatch(line); m != nil {
			key := m[1] + " " + m[2]
			if _, dup := doc[key]; dup {
				t.Errorf("the doc lists %s twice", key)
			}
			doc[key] = m[3]
		}
	}
	a := newApp(t, options{})
	served := map[string]string{}
	for _, rt := range a.auth.Routes() {
		prefix := "yes"
		if rt.NoTenant {
			prefix = "no"
		}
		served[rt.Method+" "+strings.TrimPrefix(rt.Path, "/auth")] = prefix
	}
	var missing, extra []string
	for k, v := range served {
		if d, ok := doc[k]; !ok {
			missing = append(missing, k)
		} else if d != v {
			t.Errorf("%s: the doc says tenant prefix %q, the code %q", k, d, v)
		}
	}
	for k := range doc {
		if _, ok := served[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("docs/compatibility.md and the routes disagree:\n  served, not in the doc: %q\n  in the doc, not served: %q", missing, extra)
	}
}

// freshFields are the members a route makes anew on every call (WebAuthn
// options' challenge, id and times), left out when two answers are
// compared.
var freshFields = regexp.MustCompile(`"(challenge|webauthnGeneratedOptionsId|createdAt|expiresAt)":("[^"]*"|[0-9]+)`)

func fresh(body string) string { return freshFields.ReplaceAllString(body, `"$1":_`) }
