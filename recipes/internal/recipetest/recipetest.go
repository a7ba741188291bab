// Package recipetest holds what the recipes' tests share beyond the public
// kit ginauthtest (clock, database, FDI client, bursts): rate limits too
// high for ordinary tests to reach, a recorder of security events, and
// stand-in recipes and routes.
package recipetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/recipes/kit"
)

// GenerousLimits keeps the built-in rate limiter running with every rule
// raised far beyond what a test sends, for the tests that are not about
// rate limits (internal/testlimits, shared with the suites in tests/).
func GenerousLimits() ginauth.RateLimitConfig { return testlimits.Generous() }

// Events records the security events ginauth hands to Hooks.OnEvent. Set
// its Hook as ginauth.Config.Hooks.OnEvent.
type Events struct {
	ginauthtest.Recorder[ginauth.Event]
}

// OfType returns the recorded events of type typ.
func (r *Events) OfType(typ ginauth.EventType) []ginauth.Event {
	return r.Filter(func(e ginauth.Event) bool { return e.Type == typ })
}

// One returns the only event of type typ, failing the test when there is
// not exactly one.
func (r *Events) One(t testing.TB, typ ginauth.EventType) ginauth.Event {
	t.Helper()
	got := r.OfType(typ)
	if len(got) != 1 {
		t.Fatalf("%d %q events, want 1; all events: %+v", len(got), typ, r.All())
	}
	return got[0]
}

// AssertNoSecret fails the test when any recorded event holds one of the
// secrets (a password, a token, a code) in any of its fields.
func (r *Events) AssertNoSecret(t testing.TB, secrets ...string) {
	t.Helper()
	for _, e := range r.All() {
		s := fmt.Sprintf("%+v", e)
		for _, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				t.Fatalf("event %s holds the secret %q", s, secret)
			}
		}
	}
}

// AnyTenant returns a recipe whose tenant policy lets every well-formed
// tenant id exist (in lower case), for tests of tenant-prefixed routes that
// do not want the multitenancy recipe. With factors, only those first
// factors are allowed, in every tenant.
func AnyTenant(factors ...string) ginauth.Recipe { return anyTenant{factors: factors} }

type anyTenant struct{ factors []string }

func (anyTenant) ID() string { return "test-any-tenant" }

func (a anyTenant) Setup(r *ginauth.Registrar) error {
	p := ginauth.TenantPolicy{Resolve: func(ctx context.Context, id string) (string, error) {
		return strings.ToLower(id), nil
	}}
	if len(a.factors) > 0 {
		p.AllowFirstFactor = func(ctx context.Context, tenantID, factor string) (bool, error) {
			return slices.Contains(a.factors, factor), nil
		}
	}
	return r.SetTenantPolicy(p)
}

// Login is a test's own sign-in route: it starts a session for ?user= in
// ?tenant=, signed in with ?factor= (factor when the query has none), and
// answers {"status":"OK"}, or the error through Auth.WriteError.
func Login(a *ginauth.Auth, factor string) gin.HandlerFunc {
	return func(c *gin.Context) {
		_, err := a.CreateSession(c, ginauth.NewSession{UserID: c.Query("user"), TenantID: c.Query("tenant"),
			Factor: c.DefaultQuery("factor", factor)})
		if err != nil {
			kit.Of(a).WriteError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	}
}
