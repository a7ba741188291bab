package multitenancy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

func TestAllowedDomainsClaimAtSessionCreation(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme", multitenancy.TenantConfig{AllowedDomains: []string{"acme.example.com", "ACME.test"}})
	h.createTenant("beta", multitenancy.TenantConfig{})

	r := h.client().do("POST", "/login?user=u1&tenant=acme", "")
	if r.code != 200 {
		t.Fatalf("login: %d %s", r.code, r.raw)
	}
	want := `{"t":` + toJSON(h.clock.Now().UnixMilli()) + `,"v":["acme.example.com","acme.test"]}`
	if got := toJSON(r.payload[multitenancy.AllowedDomainsClaimKey]); got != want {
		t.Fatalf("st-t-dmns = %s, want %s", got, want)
	}
	if r.payload["tId"] != "acme" {
		t.Fatalf("tId = %v", r.payload["tId"])
	}
	for _, tenant := range []string{"beta", "public", ""} {
		r := h.client().do("POST", "/login?user=u1&tenant="+tenant, "")
		if r.code != 200 {
			t.Fatalf("login to %q: %d %s", tenant, r.code, r.raw)
		}
		if _, has := r.payload[multitenancy.AllowedDomainsClaimKey]; has {
			t.Errorf("session in %q carries st-t-dmns: %v", tenant, r.payload)
		}
	}
}

func TestAllowedDomainValidator(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme", multitenancy.TenantConfig{AllowedDomains: []string{"acme.example.com"}})
	h.createTenant("beta", multitenancy.TenantConfig{})
	h.r.GET("/acme-only", h.auth.VerifySession(), h.auth.RequireClaim(multitenancy.AllowedDomain("ACME.example.com")),
		func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })

	acme := h.client()
	acme.do("POST", "/login?user=u1&tenant=acme", "")
	if r := acme.do("GET", "/acme-only", ""); r.code != 200 {
		t.Fatalf("acme session: %d %s", r.code, r.raw)
	}

	beta := h.client()
	beta.do("POST", "/login?user=u2&tenant=beta", "")
	r := beta.do("GET", "/acme-only", "")
	if r.code != 403 || r.body["message"] != "invalid claim" {
		t.Fatalf("beta session: %d %s", r.code, r.raw)
	}
	errs := r.body["claimValidationErrors"].([]any)
	if e := errs[0].(map[string]any); e["id"] != "st-t-dmns" || e["reason"].(map[string]any)["message"] != "value does not exist" {
		t.Fatalf("claim errors: %s", r.raw)
	}

	// The tenant's domains change: a validator with a short max age sees
	// it once the value is older than that.
	h.r.GET("/acme-fresh", h.auth.VerifySession(),
		h.auth.RequireClaim(multitenancy.AllowedDomain("acme.example.com", claims.MaxAge(time.Minute))),
		func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
	h.createTenant("acme", multitenancy.TenantConfig{AllowedDomains: []string{"other.example.com"}})
	if r := acme.do("GET", "/acme-fresh", ""); r.code != 200 {
		t.Fatalf("acme session before max age: %d %s", r.code, r.raw)
	}
	h.clock.Advance(2 * time.Minute)
	r = acme.do("GET", "/acme-fresh", "")
	if r.code != 403 || toJSON(r.payload["st-t-dmns"].(map[string]any)["v"]) != `["other.example.com"]` {
		t.Fatalf("acme session after the change: %d %s %v", r.code, r.raw, r.payload)
	}
}

func TestGetAllowedDomainsOverride(t *testing.T) {
	h := newHarness(t, withConfig(multitenancy.Config{GetAllowedDomains: func(_ context.Context, tenantID string) ([]string, error) {
		if tenantID == "acme" {
			return []string{"from-app.example.com"}, nil
		}
		return nil, nil
	}}))
	h.createTenant("acme", multitenancy.TenantConfig{AllowedDomains: []string{"ignored.example.com"}})
	r := h.client().do("POST", "/login?user=u1&tenant=ACME", "")
	v, _ := r.payload["st-t-dmns"].(map[string]any)
	if toJSON(v["v"]) != `["from-app.example.com"]` {
		t.Fatalf("st-t-dmns = %v", r.payload["st-t-dmns"])
	}
}

func TestSessionsOnlyInKnownTenants(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme", multitenancy.TenantConfig{FirstFactors: []string{"thirdparty"}})
	h.createTenant("gone", multitenancy.TenantConfig{Disabled: true})
	cases := []struct {
		query string
		code  int
		want  string // tId, or the error message
	}{
		{"tenant=acme", 200, "acme"},
		{"tenant=ACME", 200, "acme"},
		{"tenant=acme&factor=thirdparty", 200, "acme"},
		{"tenant=acme&factor=emailpassword", 403, "signing in with emailpassword is not enabled for this tenant"},
		{"tenant=public&factor=emailpassword", 200, "public"},
		{"factor=emailpassword", 200, "public"},
		{"tenant=nope", 404, "tenant not found"},
		{"tenant=gone", 404, "tenant not found"},
		{"tenant=a_b", 404, "tenant not found"},
	}
	for _, tc := range cases {
		r := h.client().do("POST", "/login?user=u1&"+tc.query, "")
		got := r.body["message"]
		if r.code == 200 {
			got = r.payload["tId"]
		}
		if r.code != tc.code || got != tc.want {
			t.Errorf("login %s: %d %s (tId %v), want %d %q", tc.query, r.code, r.raw, r.payload["tId"], tc.code, tc.want)
		}
	}
	_, _, err := h.auth.CreateSessionTokens(h.ctx, ginauth.NewSession{UserID: "u1", TenantID: "nope"})
	if !errors.Is(err, multitenancy.ErrUnknownTenant) || !errors.Is(err, ginauth.ErrNotFound) {
		t.Fatalf("CreateSessionTokens(nope): %v", err)
	}
	_, _, err = h.auth.CreateSessionTokens(h.ctx, ginauth.NewSession{UserID: "u1", TenantID: "gone"})
	if !errors.Is(err, multitenancy.ErrTenantDisabled) {
		t.Fatalf("CreateSessionTokens(gone): %v", err)
	}
	_, _, err = h.auth.CreateSessionTokens(h.ctx, ginauth.NewSession{UserID: "u1", TenantID: "acme", Factor: "emailpassword"})
	if !errors.Is(err, multitenancy.ErrFactorNotAllowed) || !errors.Is(err, ginauth.ErrSignInNotAllowed) {
		t.Fatalf("CreateSessionTokens(acme, emailpassword): %v", err)
	}

	ok, err := h.mt.IsFirstFactorAllowed(h.ctx, "acme", "thirdparty")
	h.must(err)
	no, err := h.mt.IsFirstFactorAllowed(h.ctx, "acme", "emailpassword")
	h.must(err)
	gone, err := h.mt.IsFirstFactorAllowed(h.ctx, "gone", "thirdparty")
	h.must(err)
	if !ok || no || gone {
		t.Fatalf("IsFirstFactorAllowed: %v %v %v", ok, no, gone)
	}
	for id, want := range map[string]error{"acme": nil, "public": nil, "gone": multitenancy.ErrTenantDisabled, "nope": multitenancy.ErrUnknownTenant} {
		if err := h.mt.CheckTenant(h.ctx, id); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("CheckTenant(%s) = %v, want %v", id, err, want)
		}
	}
}

func TestDisablingRevokesSessions(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme", multitenancy.TenantConfig{})
	h.client().do("POST", "/login?user=u1&tenant=acme", "")
	h.client().do("POST", "/login?user=u1&tenant=public", "")
	h.createTenant("acme", multitenancy.TenantConfig{AllowedDomains: []string{"acme.example.com"}}) // not a disable
	if n := h.sessionCount("u1"); n != 2 {
		t.Fatalf("%d sessions after a plain update, want 2", n)
	}
	h.createTenant("acme", multitenancy.TenantConfig{Disabled: true})
	ss, err := h.auth.ListSessions(h.ctx, "u1")
	h.must(err)
	if len(ss) != 1 || ss[0].TenantID != "public" {
		t.Fatalf("sessions after disabling acme: %s", toJSON(ss))
	}
	h.createTenant("acme", multitenancy.TenantConfig{})
	if r := h.client().do("POST", "/login?user=u1&tenant=acme", ""); r.code != 200 {
		t.Fatalf("login after re-enabling: %d %s", r.code, r.raw)
	}
}

func TestEmailPasswordSignUpPerTenant(t *testing.T) {
	h := newHarness(t, withRecipes(newEmailPassword()))
	h.createTenant("acme", multitenancy.TenantConfig{})
	h.createTenant("tponly", multitenancy.TenantConfig{FirstFactors: []string{"thirdparty"}})
	body := `{"formFields":[{"id":"email","value":"ann@example.com"},{"id":"password","value":"secret123"}]}`

	r := h.client().do("POST", "/auth/acme/signup", body)
	if r.code != 200 || r.body["status"] != "OK" || r.payload["tId"] != "acme" {
		t.Fatalf("sign-up in acme: %d %s %v", r.code, r.raw, r.payload)
	}
	if ids := toJSON(r.body["user"].(map[string]any)["tenantIds"]); ids != `["acme"]` {
		t.Fatalf("tenantIds = %s", ids)
	}
	// An unknown tenant is refused by the core's router, a factor the
	// tenant does not offer by the recipe's pre-check: neither writes an
	// account or starts a session.
	var before int64
	h.must(kit.Of(h.auth).DB().Model(&models.User{}).Count(&before).Error)
	r = h.client().do("POST", "/auth/nope/signup", body)
	if r.code != 404 || r.body["message"] != "tenant not found" || r.payload != nil {
		t.Errorf("POST /auth/nope/signup: %d %s", r.code, r.raw)
	}
	r = h.client().do("POST", "/auth/tponly/signup", body)
	if r.code != 200 || r.body["status"] != "SIGN_UP_NOT_ALLOWED" || r.payload != nil ||
		r.body["reason"] != "signing in with emailpassword is not enabled for this tenant" {
		t.Errorf("POST /auth/tponly/signup: %d %s", r.code, r.raw)
	}
	var after int64
	h.must(kit.Of(h.auth).DB().Model(&models.User{}).Count(&after).Error)
	if after != before {
		t.Errorf("refused sign-ups wrote %d users", after-before)
	}
}

func TestRequiredSecondaryFactorsWithMFA(t *testing.T) {
	mt := multitenancy.New()
	mfa := multifactorauth.New(multifactorauth.Config{RequiredSecondaryFactors: mt.RequiredSecondaryFactors})
	h := newHarness(t, withRecipes(mfa), withRecipe(mt))
	h.createTenant("acme", multitenancy.TenantConfig{RequiredSecondaryFactors: []string{"totp"}})

	factors, err := h.mt.RequiredSecondaryFactors(h.ctx, "u1", "ACME")
	h.must(err)
	if toJSON(factors) != `["totp"]` {
		t.Fatalf("RequiredSecondaryFactors = %v", factors)
	}
	for tenant, satisfied := range map[string]bool{"acme": false, "public": true} {
		r := h.client().do("POST", "/login?user=u1&factor=emailpassword&tenant="+tenant, "")
		v, _ := r.payload["st-mfa"].(map[string]any)
		if r.code != 200 || v["v"] != satisfied {
			t.Errorf("session in %s: %d st-mfa %v, want v=%v", tenant, r.code, r.payload["st-mfa"], satisfied)
		}
	}
}
