package kit

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
)

// ErrNotSetUp is matched (errors.Is) by every recipe's "not set up" error:
// the recipe was used before ginauth.New had set it up.
var ErrNotSetUp = errors.New("the recipe is not set up (pass it in ginauth.Config.Recipes)")

// NotSetUp returns the "not set up" error of the recipe recipeID, for a
// recipe's exported ErrNotSetUp. It matches ErrNotSetUp.
func NotSetUp(recipeID string) error { return fmt.Errorf("%s: %w", recipeID, ErrNotSetUp) }

// Ready returns nil when k is set, that is once the recipe's Setup has
// run, and notSetUp (the recipe's ErrNotSetUp) when k is nil. Recipes call
// it at the top of their Go API.
func (k *Kit) Ready(notSetUp error) error {
	if k == nil {
		return notSetUp
	}
	return nil
}

// TenantOr returns tenantID, or ginauth.DefaultTenant when it is empty:
// the Go APIs of recipes take "" for the default tenant.
func TenantOr(tenantID string) string {
	if tenantID == "" {
		return ginauth.DefaultTenant
	}
	return tenantID
}

// Find returns the recipe with the given id configured in a, as a T (its
// concrete type, or an interface it implements). ok is false when a is nil,
// has no such recipe, or it is not a T. Recipes use it to reach the
// recipes they work with (multifactorauth from totp, ...).
func Find[T any](a *ginauth.Auth, id string) (T, bool) {
	var zero T
	if a == nil {
		return zero, false
	}
	rc, ok := a.Recipe(id)
	if !ok {
		return zero, false
	}
	t, ok := rc.(T)
	return t, ok
}

// FactorSession verifies the request's session on a route that sets up or
// completes a second factor, where the global claim validators (the MFA
// claim's among them, which the route exists to satisfy) are skipped
// unless override, a recipe's Config.OverrideGlobalClaimValidators, says
// otherwise.
func (k *Kit) FactorSession(c *gin.Context, override func([]claims.Validator, *gin.Context) []claims.Validator) (*ginauth.Session, error) {
	if override == nil {
		override = noValidators
	}
	return k.GetSession(c, ginauth.VerifyOptions{OverrideGlobalClaimValidators: override})
}

func noValidators([]claims.Validator, *gin.Context) []claims.Validator { return nil }
