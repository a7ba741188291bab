package multitenancy

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ginauth/ginauth/claims"
)

// AllowedDomainsClaimKey is the payload key of AllowedDomainsClaim, as
// SuperTokens names it; the frontend SDKs read it.
const AllowedDomainsClaimKey = "st-t-dmns"

// AllowedDomainsMaxAge is how old the claim's value may be before a
// backend validator refetches it (SuperTokens' default, one hour).
const AllowedDomainsMaxAge = time.Hour

// AllowedDomainsClaim is the st-t-dmns claim: the website host names the
// session's tenant allows (TenantConfig.AllowedDomains, or
// Config.GetAllowedDomains). The recipe puts it in every new session of a
// tenant that has allowed domains, and leaves it out otherwise; validators
// refetch it through the recipe. The
// frontend checks it with AllowedDomainsClaim.validators
// .hasAccessToCurrentDomain(); on the backend use AllowedDomain.
//
// Its values are read through the multitenancy recipe of the ginauth
// instance that asks (ginauth.FromContext), so one claim serves every
// instance.
var AllowedDomainsClaim = claims.NewPrimitiveArray(AllowedDomainsClaimKey, func(ctx context.Context, _, tenantID string) ([]string, bool, error) {
	r, err := current(ctx)
	if err != nil {
		return nil, false, err
	}
	ds, err := r.allowedDomains(ctx, tenantID)
	return ds, ds != nil && err == nil, err
}).WithDefaultMaxAge(AllowedDomainsMaxAge)

// allowedDomains returns the tenant's allowed domains, nil for none (or an
// unknown tenant, whose sessions the recipe refuses anyway).
func (r *Recipe) allowedDomains(ctx context.Context, tenantID string) ([]string, error) {
	if r.cfg.GetAllowedDomains != nil {
		return r.cfg.GetAllowedDomains(ctx, NormaliseTenantID(tenantID))
	}
	t, err := r.lookup(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t.AllowedDomains, nil
}

// domainsOf is allowedDomains for a tenant already read.
func (r *Recipe) domainsOf(ctx context.Context, t *Tenant) ([]string, error) {
	if r.cfg.GetAllowedDomains != nil {
		return r.cfg.GetAllowedDomains(ctx, t.ID)
	}
	return t.AllowedDomains, nil
}

// AllowedDomain returns a validator that passes when the session's tenant
// allows domain (a host name such as "acme.example.com", compared
// case-insensitively), the backend twin of the frontend's
// hasAccessToCurrentDomain. As in SuperTokens it fails for a tenant with
// no allowed domains at all ("value does not exist"), so use it only where
// every tenant that may reach the route restricts its domains. The value
// is refetched when older than AllowedDomainsMaxAge, or claims.MaxAge.
//
//	r.GET("/api", auth.VerifySession(), auth.RequireClaim(multitenancy.AllowedDomain("acme.example.com")), h)
func AllowedDomain(domain string, opts ...claims.Option) claims.Validator {
	return AllowedDomainsClaim.Includes(strings.ToLower(strings.TrimSpace(domain)), opts...)
}
