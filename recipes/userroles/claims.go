package userroles

import (
	"context"
	"errors"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Claim keys, as SuperTokens names them; the frontend SDKs read them.
const (
	RoleClaimKey       = "st-role"
	PermissionClaimKey = "st-perm"
)

// DefaultMaxAge is how old a session's roles and permissions may be before
// a validator refetches them from the database (SuperTokens' Go SDK uses
// the same five minutes). Pass claims.MaxAge to a validator to change it
// for one route, claims.MaxAge(0) to read the database on every request.
const DefaultMaxAge = 300 * time.Second

// RoleClaim is the st-role claim: the user's roles in the session's tenant.
// Its values are read through the userroles recipe of the ginauth instance
// that asks (ginauth.FromContext), so one claim serves every instance.
var RoleClaim = claims.NewPrimitiveArray(RoleClaimKey, func(ctx context.Context, userID, tenantID string) ([]string, bool, error) {
	r, err := current(ctx)
	if err != nil {
		return nil, false, err
	}
	return r.fetchRoles(ctx, userID, tenantID)
}).WithDefaultMaxAge(DefaultMaxAge)

// PermissionClaim is the st-perm claim: the union of the permissions of
// the user's roles in the session's tenant. It reads from the same recipe
// as RoleClaim.
var PermissionClaim = claims.NewPrimitiveArray(PermissionClaimKey, func(ctx context.Context, userID, tenantID string) ([]string, bool, error) {
	r, err := current(ctx)
	if err != nil {
		return nil, false, err
	}
	return r.fetchPermissions(ctx, userID, tenantID)
}).WithDefaultMaxAge(DefaultMaxAge)

// current returns the userroles recipe of the instance serving ctx.
func current(ctx context.Context) (*Recipe, error) {
	a, err := ginauth.AuthFrom(ctx)
	if err != nil {
		return nil, err
	}
	if rc, ok := a.Recipe(RecipeID); ok {
		if r, ok := rc.(*Recipe); ok && r.db != nil {
			return r, nil
		}
	}
	return nil, ErrNotSetUp
}

// HasRole returns a validator that passes when the session's user has
// role. Use it as ginauth.RequireClaim(userroles.HasRole("admin")). The
// roles are refetched when older than DefaultMaxAge, or claims.MaxAge.
func HasRole(role string, opts ...claims.Option) claims.Validator {
	return RoleClaim.Includes(role, opts...)
}

// HasAnyRole returns a validator that passes when the user has at least one
// of roles.
func HasAnyRole(roles []string, opts ...claims.Option) claims.Validator {
	return RoleClaim.IncludesAny(roles, opts...)
}

// HasAllRoles returns a validator that passes when the user has every one
// of roles.
func HasAllRoles(roles []string, opts ...claims.Option) claims.Validator {
	return RoleClaim.IncludesAll(roles, opts...)
}

// LacksRole returns a validator that passes when the user does not have
// role (for example "banned").
func LacksRole(role string, opts ...claims.Option) claims.Validator {
	return RoleClaim.Excludes(role, opts...)
}

// HasPermission returns a validator that passes when one of the user's
// roles grants perm.
func HasPermission(perm string, opts ...claims.Option) claims.Validator {
	return PermissionClaim.Includes(perm, opts...)
}

// HasAnyPermission returns a validator that passes when the user's roles
// grant at least one of perms.
func HasAnyPermission(perms []string, opts ...claims.Option) claims.Validator {
	return PermissionClaim.IncludesAny(perms, opts...)
}

// HasAllPermissions returns a validator that passes when the user's roles
// grant every one of perms.
func HasAllPermissions(perms []string, opts ...claims.Option) claims.Validator {
	return PermissionClaim.IncludesAll(perms, opts...)
}

// LacksPermission returns a validator that passes when none of the user's
// roles grants perm.
func LacksPermission(perm string, opts ...claims.Option) claims.Validator {
	return PermissionClaim.Excludes(perm, opts...)
}

// RefreshRolesInSession rereads the user's roles and permissions into s
// at once, and sends the new access token on s's response. Call it after
// changing the roles of the user making the request. It refreshes the
// claims the recipe adds to sessions and any claim s already carries.
func RefreshRolesInSession(ctx context.Context, s *ginauth.Session) error {
	r, err := recipeOf(s.Auth())
	if err != nil {
		return err
	}
	for _, c := range r.claimsFor(s.Payload()) {
		if err := s.FetchAndSetClaim(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// UpdateRolesInSessions rewrites the stored roles and permissions of every
// live session of userID, outside any request, for use after granting or
// revoking roles from an admin tool or a job. The access tokens already in
// clients' hands do not change: each client gets the new values at its next
// session refresh (or a guard refetches them when they pass their max age,
// whichever comes first). It uses auth's userroles recipe when it has one.
func UpdateRolesInSessions(ctx context.Context, auth *ginauth.Auth, userID string) error {
	r, err := recipeOf(auth)
	if err != nil {
		return err
	}
	sessions, err := auth.ListSessions(ctx, userID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		update := claims.Payload{}
		for _, c := range r.claimsFor(s.AccessTokenPayload) {
			u, err := c.Build(ginauth.NewContext(ctx, auth), s.UserID, s.TenantID, kit.Of(auth).Now())
			if err != nil {
				return err
			}
			claims.Merge(update, u)
		}
		if len(update) == 0 {
			continue
		}
		if err := auth.MergeIntoAccessTokenPayload(ctx, s.Handle, update); err != nil {
			if errors.Is(err, ginauth.ErrNotFound) || errors.Is(err, ginauth.ErrUnauthorised) {
				// The session ended meanwhile.
				continue
			}
			return err
		}
	}
	return nil
}

func recipeOf(auth *ginauth.Auth) (*Recipe, error) {
	if auth != nil {
		if rc, ok := auth.Recipe(RecipeID); ok {
			if r, ok := rc.(*Recipe); ok && r.db != nil {
				return r, nil
			}
		}
	}
	return nil, ErrNotSetUp
}

// claimsFor returns the recipe's claims that a session with payload p
// should have refreshed: those added at session creation, and those p
// already holds.
func (r *Recipe) claimsFor(p claims.Payload) []claims.Claim {
	var out []claims.Claim
	if _, has := p[RoleClaimKey]; has || !r.cfg.SkipAddingRolesToAccessToken {
		out = append(out, r.roleClaim)
	}
	if _, has := p[PermissionClaimKey]; has || !r.cfg.SkipAddingPermissionsToAccessToken {
		out = append(out, r.permClaim)
	}
	return out
}
