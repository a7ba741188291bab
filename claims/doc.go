// Package claims implements session claims as FDI (SuperTokens frontends)
// expects them: values kept in the access-token payload, checked by
// validators, and refetched from the application when missing or too old.
//
// # Payload format
//
// Each claim is one top-level key of the access-token payload (and so of the
// front-token "up" object). Primitive, boolean and array claims store
//
//	"<key>": {"v": <value>, "t": <fetch time, ms since the Unix epoch>}
//
// A payload update that maps a key to nil (JSON null) deletes the key when
// merged (see Merge and the Remove methods).
//
// # Refetch rule
//
// A validator asks for a refetch (ShouldRefetch) when the value is missing,
// or when it has a max age and t < now - maxAge. The session layer then calls
// Claim().Build, merges the update into the payload, issues a new access
// token, and only then runs Validate; failures become the
// claimValidationErrors of a 403 "invalid claim" answer. Check, NeedRefetch,
// Refetch and Merge implement these steps without any HTTP or database code.
//
// Validate fails, in this order, with "value does not exist", "expired"
// ({"ageInSeconds", "maxAgeInSeconds"}) or "wrong value". A validator's id,
// reported in ValidationError.ID, defaults to the claim key.
//
// # Quick start
//
//	verified := claims.NewBoolean("st-ev", func(ctx context.Context, userID, tenantID string) (bool, bool, error) {
//		return lookupVerified(ctx, userID), true, nil
//	})
//	roles := claims.NewPrimitiveArray[string]("st-role", fetchRoles).WithDefaultMaxAge(5 * time.Minute)
//
//	// At session creation: merge each claim's Build result into the payload.
//	u, _ := verified.Build(ctx, userID, tenantID, time.Now())
//	claims.Merge(payload, u)
//
//	// On each request:
//	vs := []claims.Validator{verified.IsTrue(), roles.Includes("admin")}
//	changed, err := claims.Refetch(ctx, payload, vs, userID, tenantID, time.Now())
//	// if changed: issue a new access token carrying payload
//	if errs := claims.Check(payload, vs, time.Now()); errs != nil {
//		// answer 403 with {"message": "invalid claim", "claimValidationErrors": errs}
//	}
package claims
