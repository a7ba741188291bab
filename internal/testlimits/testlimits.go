// Package testlimits holds the rate limits of the tests that are not
// about rate limits: one definition for the recipes' tests (through
// recipes/internal/recipetest) and the suites under tests/.
package testlimits

import (
	"time"

	"github.com/ginauth/ginauth/ginauth"
)

// Generous keeps the built-in rate limiter running (in the database, as
// by default, so that its code and store run) with every rule of every
// built-in action raised far beyond what a test sends. Tests of the
// limits themselves keep ginauth's defaults or set their own.
func Generous() ginauth.RateLimitConfig {
	limits := map[ginauth.Action]ginauth.Limit{}
	for action := range ginauth.DefaultLimits() {
		limits[action] = ginauth.Limit{PerIP: ginauth.Rule{Max: 1 << 30, Window: time.Minute},
			PerAccount: ginauth.Rule{Max: 1 << 30, Window: time.Minute}}
	}
	return ginauth.RateLimitConfig{Limits: limits}
}
