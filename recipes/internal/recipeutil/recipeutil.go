// Package recipeutil holds code that several recipes share and that is no
// part of ginauth's public API.
package recipeutil

import (
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
)

// FactorSession verifies the request's session on a route that sets up or
// completes a second factor, where the global claim validators (the MFA
// claim's among them, which the route exists to satisfy) are skipped
// unless override, a recipe's Config.OverrideGlobalClaimValidators, says
// otherwise.
func FactorSession(a *ginauth.Auth, c *gin.Context, override func([]claims.Validator, *gin.Context) []claims.Validator) (*ginauth.Session, error) {
	if override == nil {
		override = noValidators
	}
	return a.GetSession(c, ginauth.VerifyOptions{OverrideGlobalClaimValidators: override})
}

func noValidators([]claims.Validator, *gin.Context) []claims.Validator { return nil }
