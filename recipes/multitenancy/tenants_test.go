package multitenancy_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/userroles"
)

func TestValidateTenantID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"t1", true}, {"abcd-1234", true}, {"ACME", true}, {" acme ", true}, {"-", true},
		{strings.Repeat("a", 64), true},
		{"", false}, {"   ", false}, {strings.Repeat("a", 65), false},
		{"recipe", false}, {"Config", false}, {"users", false}, {"hello", false},
		{"appid-x", false}, {"AppId-1", false},
		{"abcd+1234", false}, {"a_b", false}, {"a.b", false}, {"a/b", false}, {"é", false},
	}
	for _, tc := range cases {
		err := multitenancy.ValidateTenantID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTenantID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, multitenancy.ErrInvalidTenantID) || !errors.Is(err, ginauth.ErrBadRequest)) {
			t.Errorf("ValidateTenantID(%q): %v does not match ErrInvalidTenantID and ErrBadRequest", tc.id, err)
		}
	}
}

func TestTenantCRUD(t *testing.T) {
	h := newHarness(t)

	// public exists without a row.
	ok, err := h.mt.TenantExists(h.ctx, "public")
	h.must(err)
	if !ok {
		t.Fatal("public does not exist")
	}
	pub, err := h.mt.GetTenant(h.ctx, "public")
	h.must(err)
	if pub.ID != "public" || pub.FirstFactors != nil || !pub.CreatedAt.IsZero() {
		t.Fatalf("implicit public: %+v", pub)
	}
	if ok, _ := h.mt.TenantExists(h.ctx, "acme"); ok {
		t.Fatal("acme exists before creation")
	}
	if _, err := h.mt.GetTenant(h.ctx, "acme"); !errors.Is(err, multitenancy.ErrUnknownTenant) || !errors.Is(err, ginauth.ErrNotFound) {
		t.Fatalf("GetTenant(unknown): %v", err)
	}

	cfg := multitenancy.TenantConfig{
		FirstFactors:             []string{"emailpassword", " thirdparty", "emailpassword"},
		RequiredSecondaryFactors: []string{"totp"},
		AllowedDomains:           []string{"Acme.Example.com"},
		ThirdPartyProviders:      []string{"google"},
		CoreConfig:               map[string]any{"password_reset_token_lifetime": float64(3600), "brand": "Acme"},
	}
	created, err := h.mt.CreateOrUpdateTenant(h.ctx, " ACME ", cfg)
	h.must(err)
	if !created {
		t.Fatal("first CreateOrUpdateTenant did not create")
	}
	got, err := h.mt.GetTenant(h.ctx, "acme")
	h.must(err)
	want := multitenancy.Tenant{ID: "acme", TenantConfig: multitenancy.TenantConfig{
		FirstFactors: []string{"emailpassword", "thirdparty"}, RequiredSecondaryFactors: []string{"totp"},
		AllowedDomains: []string{"acme.example.com"}, ThirdPartyProviders: []string{"google"},
		CoreConfig: map[string]any{"password_reset_token_lifetime": float64(3600), "brand": "Acme"},
	}, CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}
	if toJSON(got) != toJSON(want) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("GetTenant:\n got %s\nwant %s", toJSON(got), toJSON(want))
	}

	// Update replaces the whole configuration; nil lists become unset.
	h.clock.Advance(time.Minute)
	created, err = h.mt.CreateOrUpdateTenant(h.ctx, "acme", multitenancy.TenantConfig{FirstFactors: []string{}})
	h.must(err)
	if created {
		t.Fatal("update reported a creation")
	}
	got, err = h.mt.GetTenant(h.ctx, "ACME")
	h.must(err)
	if got.FirstFactors == nil || len(got.FirstFactors) != 0 || got.AllowedDomains != nil || got.RequiredSecondaryFactors != nil ||
		got.CoreConfig != nil || !got.UpdatedAt.Equal(h.clock.Now()) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("after update: %+v", got)
	}

	// Configuring public stores a row but is never a creation.
	created, err = h.mt.CreateOrUpdateTenant(h.ctx, "public", multitenancy.TenantConfig{AllowedDomains: []string{"example.com"}})
	h.must(err)
	if created {
		t.Fatal("configuring public reported a creation")
	}
	h.createTenant("beta", multitenancy.TenantConfig{Disabled: true})

	list, err := h.mt.ListTenants(h.ctx)
	h.must(err)
	var ids []string
	for _, tn := range list {
		ids = append(ids, tn.ID)
	}
	if strings.Join(ids, ",") != "public,acme,beta" || list[0].AllowedDomains[0] != "example.com" || !list[2].Disabled {
		t.Fatalf("ListTenants: %s", toJSON(list))
	}

	existed, err := h.mt.DeleteTenant(h.ctx, "beta")
	h.must(err)
	if !existed {
		t.Fatal("DeleteTenant(beta) says it did not exist")
	}
	existed, err = h.mt.DeleteTenant(h.ctx, "beta")
	h.must(err)
	if existed {
		t.Fatal("second DeleteTenant(beta) says it existed")
	}
	if ok, _ := h.mt.TenantExists(h.ctx, "beta"); ok {
		t.Fatal("beta exists after deletion")
	}
}

func TestTenantRefusals(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"public", "PUBLIC", " public"} {
		if _, err := h.mt.DeleteTenant(h.ctx, id); !errors.Is(err, multitenancy.ErrPublicTenant) || !errors.Is(err, ginauth.ErrBadRequest) {
			t.Errorf("DeleteTenant(%q): %v, want ErrPublicTenant", id, err)
		}
	}
	if _, err := h.mt.CreateOrUpdateTenant(h.ctx, "public", multitenancy.TenantConfig{Disabled: true}); !errors.Is(err, multitenancy.ErrPublicTenant) {
		t.Errorf("disabling public: %v", err)
	}
	for _, id := range []string{"", "recipe", "appid-1", "a_b", strings.Repeat("x", 65)} {
		if _, err := h.mt.CreateOrUpdateTenant(h.ctx, id, multitenancy.TenantConfig{}); !errors.Is(err, multitenancy.ErrInvalidTenantID) {
			t.Errorf("CreateOrUpdateTenant(%q): %v, want ErrInvalidTenantID", id, err)
		}
		if _, err := h.mt.DeleteTenant(h.ctx, id); !errors.Is(err, multitenancy.ErrInvalidTenantID) {
			t.Errorf("DeleteTenant(%q): %v, want ErrInvalidTenantID", id, err)
		}
	}
	bad := []multitenancy.TenantConfig{
		{FirstFactors: []string{""}},
		{RequiredSecondaryFactors: []string{"to tp"}},
		{AllowedDomains: []string{"https://acme.example.com"}},
		{AllowedDomains: []string{"acme.example.com/app"}},
		{ThirdPartyProviders: []string{"  "}},
		{CoreConfig: map[string]any{"f": func() {}}},
	}
	for _, cfg := range bad {
		if _, err := h.mt.CreateOrUpdateTenant(h.ctx, "acme", cfg); !errors.Is(err, multitenancy.ErrInvalidConfig) || !errors.Is(err, ginauth.ErrBadRequest) {
			t.Errorf("CreateOrUpdateTenant(%+v): %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if ok, _ := h.mt.TenantExists(h.ctx, "acme"); ok {
		t.Fatal("a refused configuration created the tenant")
	}
	// A Recipe not passed to ginauth.New.
	if _, err := multitenancy.New().GetTenant(h.ctx, "public"); !errors.Is(err, multitenancy.ErrNotSetUp) {
		t.Errorf("unset recipe: %v", err)
	}
}

func TestConcurrentCreate(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	creations := 0
	ginauthtest.Burst(8, func(int) {
		created, err := h.mt.CreateOrUpdateTenant(h.ctx, "acme", multitenancy.TenantConfig{})
		if err != nil {
			t.Error(err)
			return
		}
		if created {
			mu.Lock()
			creations++
			mu.Unlock()
		}
	})
	if creations != 1 {
		t.Fatalf("%d goroutines report creating the tenant, want 1", creations)
	}
}

func TestUserAssociation(t *testing.T) {
	h := newHarness(t)
	h.createTenant("acme", multitenancy.TenantConfig{})
	h.createTenant("beta", multitenancy.TenantConfig{})
	u := h.newUser("public")

	already, err := h.mt.AssociateUserToTenant(h.ctx, "ACME", u)
	h.must(err)
	if already {
		t.Fatal("first association reported as existing")
	}
	if already, _ = h.mt.AssociateUserToTenant(h.ctx, "acme", u); !already {
		t.Fatal("second association not reported as existing")
	}
	user, err := h.auth.GetUser(h.ctx, u)
	h.must(err)
	if strings.Join(user.TenantIDs, ",") != "acme,public" {
		t.Fatalf("tenantIds = %v", user.TenantIDs)
	}
	if n, err := h.auth.CountUsers(h.ctx, "acme"); err != nil || n != 1 {
		t.Fatalf("CountUsers(acme) = %d, %v", n, err)
	}

	if _, err := h.mt.AssociateUserToTenant(h.ctx, "nope", u); !errors.Is(err, multitenancy.ErrUnknownTenant) {
		t.Errorf("unknown tenant: %v", err)
	}
	if _, err := h.mt.AssociateUserToTenant(h.ctx, "acme", "no-such-user"); !errors.Is(err, ginauth.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}

	// Sessions in acme and in public; leaving acme revokes only acme's.
	h.client().do("POST", "/login?user="+u+"&tenant=acme", "")
	h.client().do("POST", "/login?user="+u+"&tenant=public", "")
	if n := h.sessionCount(u); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
	was, err := h.mt.DisassociateUserFromTenant(h.ctx, "acme", u)
	h.must(err)
	if !was {
		t.Fatal("disassociation says the user was not a member")
	}
	ss, err := h.auth.ListSessions(h.ctx, u)
	h.must(err)
	if len(ss) != 1 || ss[0].TenantID != "public" {
		t.Fatalf("sessions after leaving acme: %s", toJSON(ss))
	}
	if was, _ = h.mt.DisassociateUserFromTenant(h.ctx, "acme", u); was {
		t.Fatal("second disassociation says the user was a member")
	}
	user, err = h.auth.GetUser(h.ctx, u)
	h.must(err)
	if strings.Join(user.TenantIDs, ",") != "public" {
		t.Fatalf("tenantIds after leaving = %v", user.TenantIDs)
	}
}

func TestDeleteTenantCleansUp(t *testing.T) {
	h := newHarness(t, withRecipes(userroles.New()))
	h.createTenant("acme", multitenancy.TenantConfig{})
	only := h.newUser("acme")   // belongs to acme alone
	both := h.newUser("public") // belongs to public and acme
	_, err := h.mt.AssociateUserToTenant(h.ctx, "acme", both)
	h.must(err)
	for _, u := range []string{only, both} {
		h.client().do("POST", "/login?user="+u+"&tenant=acme", "")
	}
	h.client().do("POST", "/login?user="+both+"&tenant=public", "")
	db := kit.Of(h.auth).DB()
	h.must(db.Create(&models.Role{Role: "admin"}).Error)
	h.must(db.Create(&models.UserRole{UserID: both, TenantID: "acme", Role: "admin"}).Error)
	h.must(db.Create(&models.UserRole{UserID: both, TenantID: "public", Role: "admin"}).Error)

	existed, err := h.mt.DeleteTenant(h.ctx, "acme")
	h.must(err)
	if !existed {
		t.Fatal("acme did not exist")
	}
	if n := h.sessionCount(only); n != 0 {
		t.Errorf("%d sessions left for the acme-only user", n)
	}
	ss, err := h.auth.ListSessions(h.ctx, both)
	h.must(err)
	if len(ss) != 1 || ss[0].TenantID != "public" {
		t.Errorf("sessions of the two-tenant user: %s", toJSON(ss))
	}
	var roles []models.UserRole
	h.must(db.Order("tenant_id").Find(&roles).Error)
	if len(roles) != 1 || roles[0].TenantID != "public" {
		t.Errorf("role assignments left: %+v", roles)
	}
	// Users stay; the acme-only one is in no tenant now.
	u, err := h.auth.GetUser(h.ctx, only)
	h.must(err)
	if len(u.TenantIDs) != 0 {
		t.Errorf("acme-only user's tenants: %v", u.TenantIDs)
	}
	u, err = h.auth.GetUser(h.ctx, both)
	h.must(err)
	if !slices.Equal(u.TenantIDs, []string{"public"}) {
		t.Errorf("two-tenant user's tenants: %v", u.TenantIDs)
	}
}
