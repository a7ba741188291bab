package emailverification

import (
	"context"
	"errors"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
)

// ClaimKey is the access-token payload key of the e-mail verification
// claim, as the frontend SDKs expect it.
const ClaimKey = "st-ev"

// EmailVerificationClaim is the st-ev claim: true when the session's user
// has verified their e-mail address (or has none). It reads its value
// through the emailverification recipe of the ginauth instance that asks
// (ginauth.FromContext), so one claim serves every instance.
//
// A handler sets it with
//
//	s.SetClaimValue(ctx, emailverification.EmailVerificationClaim.Update(true, auth.Now()))
var EmailVerificationClaim = claims.NewBoolean(ClaimKey, func(ctx context.Context, userID, tenantID string) (bool, bool, error) {
	a, err := ginauth.AuthFrom(ctx)
	if err != nil {
		return false, false, err
	}
	rc, ok := a.Recipe(RecipeID)
	r, _ := rc.(*Recipe)
	if !ok || r == nil || r.auth == nil {
		return false, false, ErrNotSetUp
	}
	return r.fetchClaim(ctx, userID, tenantID)
})

// ValidatorOption tunes an IsVerified validator.
type ValidatorOption func(*validatorOptions)

type validatorOptions struct {
	id             string
	refetchOnFalse time.Duration
	maxAge         time.Duration
	hasMaxAge      bool
}

// RefetchOnFalse sets how long a false value is trusted before it is read
// again (default 10 seconds), so that a user who verified on another device
// gets through soon after.
func RefetchOnFalse(d time.Duration) ValidatorOption {
	return func(o *validatorOptions) {
		if d < 0 {
			d = 0
		}
		o.refetchOnFalse = d
	}
}

// MaxAge makes the validator read the value again, whatever it is, once it
// is older than d, and fail with "expired" when it cannot. By default a
// true value is trusted for the session's life.
func MaxAge(d time.Duration) ValidatorOption {
	return func(o *validatorOptions) {
		if d < 0 {
			d = 0
		}
		o.maxAge, o.hasMaxAge = d, true
	}
}

// ValidatorID sets the id reported in claimValidationErrors (default
// "st-ev").
func ValidatorID(id string) ValidatorOption {
	return func(o *validatorOptions) { o.id = id }
}

// IsVerified returns the validator that requires a verified e-mail address,
// over EmailVerificationClaim, for ginauth.RequireClaim or
// VerifyOptions.OverrideGlobalClaimValidators:
//
//	r.GET("/billing", ginauth.VerifySession(), ginauth.RequireClaim(emailverification.IsVerified()))
//
// As in SuperTokens (isVerified(refetchTimeOnFalse=10, maxAge?)), it asks
// for a refetch when the value is missing, older than MaxAge, or false and
// older than RefetchOnFalse. It fails with
// {"message":"wrong value","expectedValue":true,"actualValue":false} (or
// "value does not exist" / "expired" when it could not be read).
func IsVerified(opts ...ValidatorOption) claims.Validator {
	return newValidator(EmailVerificationClaim, opts)
}

func newValidator(c *claims.Boolean, opts []ValidatorOption) claims.Validator {
	o := validatorOptions{refetchOnFalse: 10 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	age := claims.NoMaxAge()
	if o.hasMaxAge {
		age = claims.MaxAge(o.maxAge)
	}
	inner := c.IsTrue(age, claims.ID(o.id))
	refetch := func(p claims.Payload, now time.Time) bool {
		v, ok := c.Get(p)
		if !ok {
			return true
		}
		var t int64 // unknown fetch time: as old as can be
		if at, ok := c.FetchedAt(p); ok {
			t = at.UnixMilli()
		}
		nowMs := now.UnixMilli()
		if o.hasMaxAge && t < nowMs-o.maxAge.Milliseconds() {
			return true
		}
		return !v && t < nowMs-o.refetchOnFalse.Milliseconds()
	}
	return claims.Custom(inner.ID(), c, refetch, inner.Validate)
}

// fetchClaim reads the claim's value: true when the user has no e-mail
// address or has verified it; no value for an unknown user. For a session
// it is the session's login method's (its recipe user, as the reference's
// EmailVerificationClaim fetches by recipeUserId), not the primary user's.
func (r *Recipe) fetchClaim(ctx context.Context, userID, _ string) (bool, bool, error) {
	if r.auth == nil {
		return false, false, ErrNotSetUp
	}
	if id := ginauth.ClaimRecipeUserID(ctx); id != "" {
		userID = id
	}
	email, ok, err := r.getEmail(ctx, userID)
	if errors.Is(err, ginauth.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	if !ok {
		return true, true, nil
	}
	v, err := r.IsVerified(ctx, userID, email)
	return v, err == nil, err
}
