package multitenancy_test

import (
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

const (
	allOff  = `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":false,"providers":[]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":[]}`
	epOnly  = `{"status":"OK","emailPassword":{"enabled":true},"thirdParty":{"enabled":false,"providers":[]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["emailpassword"]}`
	tpOnly  = `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["thirdparty"]}`
	epAndTP = `{"status":"OK","emailPassword":{"enabled":true},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["emailpassword","thirdparty"]}`
)

// fakeRecipe stands in for a sign-in recipe this package only looks up by
// id (passwordless, webauthn), optionally listing its factor ids.
type fakeRecipe struct {
	id      string
	factors []string
}

func (f fakeRecipe) ID() string                     { return f.id }
func (f fakeRecipe) Setup(*ginauth.Registrar) error { return nil }

type fakeFactorRecipe struct{ fakeRecipe }

func (f fakeFactorRecipe) FactorIDs() []string { return f.factors }

func TestLoginMethods(t *testing.T) {
	twoProviders := func() ginauth.Recipe {
		return newThirdParty(staticProvider("google", "Google", "web", "ios"), staticProvider("github", "GitHub", "web"))
	}
	cases := []struct {
		name    string
		recipes func() []ginauth.Recipe
		tenants map[string]multitenancy.TenantConfig
		path    string
		want    string
	}{
		{name: "no sign-in recipe", path: "/auth/loginmethods", want: allOff},
		{name: "emailpassword, public tenant without a row",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword()} },
			path:    "/auth/loginmethods", want: epOnly},
		{name: "explicit /public prefix",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword()} },
			path:    "/auth/public/loginmethods", want: epOnly},
		{name: "thirdparty only",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newThirdParty()} },
			path:    "/auth/loginmethods", want: tpOnly},
		{name: "both recipes, tenant without FirstFactors",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), newThirdParty()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {}},
			path:    "/auth/acme/loginmethods", want: epAndTP},
		{name: "tenant narrows to emailpassword",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), newThirdParty()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"emailpassword"}}},
			path:    "/auth/acme/loginmethods", want: epOnly},
		{name: "tenant narrows to thirdparty, other tenants keep both",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), newThirdParty()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"thirdparty"}}, "other": {}},
			path:    "/auth/other/loginmethods", want: epAndTP},
		{name: "tenant factors the recipes do not offer are dropped",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"thirdparty", "otp-email", "emailpassword"}}},
			path:    "/auth/acme/loginmethods", want: epOnly},
		{name: "empty FirstFactors offers nothing",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), newThirdParty()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{}}},
			path:    "/auth/acme/loginmethods", want: allOff},
		{name: "the app's own factor passes through",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"saml", "emailpassword"}}},
			path:    "/auth/acme/loginmethods",
			want:    `{"status":"OK","emailPassword":{"enabled":true},"thirdParty":{"enabled":false,"providers":[]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["emailpassword","saml"]}`},
		{name: "tenant's providers",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{twoProviders()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {ThirdPartyProviders: []string{"github", "unknown"}}},
			path:    "/auth/acme/loginmethods",
			want:    `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":true,"providers":[{"id":"github","name":"GitHub"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["thirdparty"]}`},
		{name: "all providers without clientType",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{twoProviders()} },
			path:    "/auth/loginmethods",
			want:    `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"},{"id":"github","name":"GitHub"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["thirdparty"]}`},
		{name: "clientType keeps providers with such a client",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{twoProviders()} },
			path:    "/auth/loginmethods?clientType=ios",
			want:    `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["thirdparty"]}`},
		{name: "no provider for the clientType disables thirdparty",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), twoProviders()} },
			path:    "/auth/loginmethods?clientType=android", want: epOnly},
		{name: "tenant without any of its providers",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), twoProviders()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {ThirdPartyProviders: []string{}}},
			path:    "/auth/acme/loginmethods", want: epOnly},
		{name: "multifactorauth's static FirstFactors apply without tenant FirstFactors",
			recipes: func() []ginauth.Recipe {
				return []ginauth.Recipe{newEmailPassword(), newThirdParty(),
					multifactorauth.New(multifactorauth.Config{FirstFactors: []string{"thirdparty"}})}
			},
			path: "/auth/loginmethods", want: tpOnly},
		{name: "tenant FirstFactors win over multifactorauth's",
			recipes: func() []ginauth.Recipe {
				return []ginauth.Recipe{newEmailPassword(), newThirdParty(),
					multifactorauth.New(multifactorauth.Config{FirstFactors: []string{"thirdparty"}})}
			},
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"emailpassword"}}},
			path:    "/auth/acme/loginmethods", want: epOnly},
		{name: "passwordless without FactorIDs offers all four, webauthn its own",
			recipes: func() []ginauth.Recipe {
				return []ginauth.Recipe{fakeRecipe{id: "webauthn"}, fakeRecipe{id: "passwordless"}}
			},
			path: "/auth/loginmethods",
			want: `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":false,"providers":[]},"passwordless":{"enabled":true},"webauthn":{"enabled":true},"firstFactors":["otp-email","otp-phone","link-email","link-phone","webauthn"]}`},
		{name: "passwordless factors as its configuration says",
			recipes: func() []ginauth.Recipe {
				return []ginauth.Recipe{newEmailPassword(), fakeFactorRecipe{fakeRecipe{id: "passwordless", factors: []string{"link-email", "otp-email"}}}}
			},
			tenants: map[string]multitenancy.TenantConfig{"acme": {FirstFactors: []string{"otp-phone", "link-email"}}},
			path:    "/auth/acme/loginmethods",
			want:    `{"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":false,"providers":[]},"passwordless":{"enabled":true},"webauthn":{"enabled":false},"firstFactors":["link-email"]}`},
		{name: "configured public tenant",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword(), newThirdParty()} },
			tenants: map[string]multitenancy.TenantConfig{"public": {FirstFactors: []string{"thirdparty"}}},
			path:    "/auth/loginmethods", want: tpOnly},
		{name: "tenant id in the path is case-insensitive",
			recipes: func() []ginauth.Recipe { return []ginauth.Recipe{newEmailPassword()} },
			tenants: map[string]multitenancy.TenantConfig{"acme": {}},
			path:    "/auth/ACME/loginmethods", want: epOnly},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rs []ginauth.Recipe
			if tc.recipes != nil {
				rs = tc.recipes()
			}
			h := newHarness(t, withRecipes(rs...))
			for id, cfg := range tc.tenants {
				h.createTenant(id, cfg)
			}
			r := h.get(tc.path)
			if r.code != 200 || r.raw != tc.want {
				t.Fatalf("GET %s:\n got %d %s\nwant 200 %s", tc.path, r.code, r.raw, tc.want)
			}
		})
	}
}

func TestLoginMethodsUnknownTenant(t *testing.T) {
	for _, routes := range []bool{false, true} {
		name := "middleware"
		var opts []option
		if routes {
			name = "RegisterRoutes"
			opts = append(opts, withRegisterRoutes())
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, append(opts, withRecipes(newEmailPassword()))...)
			h.createTenant("acme", multitenancy.TenantConfig{})
			h.createTenant("gone", multitenancy.TenantConfig{Disabled: true})
			if r := h.get("/auth/acme/loginmethods"); r.code != 200 || r.raw != epOnly {
				t.Fatalf("known tenant: %d %s", r.code, r.raw)
			}
			for _, p := range []string{"/auth/nope/loginmethods", "/auth/gone/loginmethods", "/auth/recipe/loginmethods"} {
				r := h.get(p)
				if r.code != 404 || r.body["message"] != "tenant not found" {
					t.Errorf("GET %s: %d %s, want 404 tenant not found", p, r.code, r.raw)
				}
			}
			// A segment the router refuses as a tenant id is a plain 404.
			if r := h.get("/auth/a_b/loginmethods"); r.code != 404 {
				t.Errorf("GET /auth/a_b/loginmethods: %d %s, want 404", r.code, r.raw)
			}
		})
	}
}

func TestLoginMethodsGoAPI(t *testing.T) {
	h := newHarness(t, withRecipes(newEmailPassword(), newThirdParty(staticProvider("google", "Google", "web"))))
	h.createTenant("acme", multitenancy.TenantConfig{FirstFactors: []string{"thirdparty"}})
	lm, err := h.mt.LoginMethods(h.ctx, "acme", "web")
	h.must(err)
	if !lm.ThirdParty.Enabled || lm.EmailPassword.Enabled || toJSON(lm.ThirdParty.Providers) != `[{"id":"google","name":"Google"}]` {
		t.Fatalf("LoginMethods: %s", toJSON(lm))
	}
	if _, err := h.mt.LoginMethods(h.ctx, "nope", ""); !isErr(err, multitenancy.ErrUnknownTenant) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

// A tenant's ThirdPartyProviders list is enforced on the thirdparty routes
// too, not only shown by /loginmethods: another provider is, for that
// tenant, not configured.
func TestTenantProvidersEnforced(t *testing.T) {
	h := newHarness(t, withRecipes(newThirdParty(staticProvider("google", "Google"), staticProvider("github", "GitHub"))))
	h.createTenant("acme", multitenancy.TenantConfig{ThirdPartyProviders: []string{"github"}})
	q := "?redirectURIOnProviderDashboard=http://localhost:3000/auth/callback/"
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/auth/acme/authorisationurl" + q + "github&thirdPartyId=github", 200},
		{"/auth/acme/authorisationurl" + q + "google&thirdPartyId=google", 400},
		{"/auth/authorisationurl" + q + "google&thirdPartyId=google", 200}, // public offers all
	} {
		r := h.client().do("GET", tc.path, "")
		if r.code != tc.code {
			t.Errorf("GET %s: %d %s, want %d", tc.path, r.code, r.raw, tc.code)
		}
		if tc.code == 400 && r.body["message"] != "the provider google could not be found in the configuration" {
			t.Errorf("GET %s: %s", tc.path, r.raw)
		}
	}
	body := `{"thirdPartyId":"google","oAuthTokens":{"access_token":"x"}}`
	r := h.client().do("POST", "/auth/acme/signinup", body)
	if r.code != 400 || r.body["message"] != "the provider google could not be found in the configuration" {
		t.Fatalf("signinup with a provider acme does not offer: %d %s", r.code, r.raw)
	}
}
