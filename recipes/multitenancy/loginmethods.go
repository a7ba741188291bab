package multitenancy

import (
	"context"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

// Built-in first-factor ids, as SuperTokens names them, in the order GET
// /loginmethods lists them.
const (
	FactorEmailPassword = "emailpassword"
	FactorThirdParty    = "thirdparty"
	FactorOTPEmail      = "otp-email"
	FactorOTPPhone      = "otp-phone"
	FactorLinkEmail     = "link-email"
	FactorLinkPhone     = "link-phone"
	FactorWebAuthn      = "webauthn"
)

var builtInFirstFactors = []string{FactorEmailPassword, FactorThirdParty, FactorOTPEmail, FactorOTPPhone,
	FactorLinkEmail, FactorLinkPhone, FactorWebAuthn}

var passwordlessFactors = []string{FactorOTPEmail, FactorOTPPhone, FactorLinkEmail, FactorLinkPhone}

// Enabled is a {"enabled": bool} entry of LoginMethods.
type Enabled struct {
	Enabled bool `json:"enabled"`
}

// ThirdPartyMethods is the "thirdParty" entry of LoginMethods.
type ThirdPartyMethods struct {
	Enabled   bool                      `json:"enabled"`
	Providers []thirdparty.ProviderInfo `json:"providers"`
}

// LoginMethods is the body of GET /loginmethods (fdi-protocol.md §3.6):
// how users may sign in to one tenant.
type LoginMethods struct {
	Status        string            `json:"status"`
	EmailPassword Enabled           `json:"emailPassword"`
	ThirdParty    ThirdPartyMethods `json:"thirdParty"`
	Passwordless  Enabled           `json:"passwordless"`
	WebAuthn      Enabled           `json:"webauthn"`
	// FirstFactors lists the factor ids that may sign a user in, built-in
	// ones first in a fixed order, then the app's own.
	FirstFactors []string `json:"firstFactors"`
}

// The small interfaces sibling recipes are asked through, so that this
// package needs none of them configured.
type (
	providerLister interface {
		Providers() []thirdparty.ProviderInfo
	}
	providerLookup interface {
		Provider(id string) (thirdparty.Provider, bool)
	}
	factorLister      interface{ FactorIDs() []string }
	firstFactorLister interface{ FirstFactors() []string }
)

// availableFirstFactors returns the first factors the configured recipes
// offer, in builtInFirstFactors order.
func (r *Recipe) availableFirstFactors() []string {
	var have []string
	if _, ok := r.auth.Recipe("emailpassword"); ok {
		have = append(have, FactorEmailPassword)
	}
	if _, ok := r.auth.Recipe("thirdparty"); ok {
		have = append(have, FactorThirdParty)
	}
	if rc, ok := r.auth.Recipe("passwordless"); ok {
		if fl, ok := rc.(factorLister); ok {
			have = append(have, fl.FactorIDs()...)
		} else {
			have = append(have, passwordlessFactors...)
		}
	}
	if _, ok := r.auth.Recipe("webauthn"); ok {
		have = append(have, FactorWebAuthn)
	}
	out := make([]string, 0, len(have))
	for _, f := range builtInFirstFactors {
		if slices.Contains(have, f) {
			out = append(out, f)
		}
	}
	return out
}

// providers returns the third-party providers offered to t for
// clientType, in the recipe's order. With a clientType, only providers
// with a client of that type are listed.
func (r *Recipe) providers(t *Tenant, clientType string) []thirdparty.ProviderInfo {
	out := []thirdparty.ProviderInfo{}
	rc, ok := r.auth.Recipe("thirdparty")
	if !ok {
		return out
	}
	pl, ok := rc.(providerLister)
	if !ok {
		return out
	}
	lookup, _ := rc.(providerLookup)
	for _, p := range pl.Providers() {
		if t.ThirdPartyProviders != nil && !slices.Contains(t.ThirdPartyProviders, p.ID) {
			continue
		}
		if clientType != "" && lookup != nil {
			full, ok := lookup.Provider(p.ID)
			if !ok || !slices.ContainsFunc(full.Clients, func(c thirdparty.Client) bool { return c.ClientType == clientType }) {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// LoginMethods returns how users may sign in to a tenant, as GET
// /loginmethods reports it. The first factors are the tenant's
// FirstFactors when set, else multifactorauth's Config.FirstFactors when
// set, else all; built-in factors then count only when a configured recipe
// offers them ("thirdparty" only with at least one provider for the
// tenant and clientType), while the app's own factor ids pass through. An
// unknown or disabled tenant gives a 404 "tenant not found" error.
func (r *Recipe) LoginMethods(ctx context.Context, tenantID, clientType string) (*LoginMethods, error) {
	if r.auth == nil {
		return nil, ErrNotSetUp
	}
	t, err := r.enabledTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	available := r.availableFirstFactors()
	providers := r.providers(t, clientType)
	if len(providers) == 0 {
		available = slices.DeleteFunc(available, func(f string) bool { return f == FactorThirdParty })
	}
	configured := t.FirstFactors
	if configured == nil {
		if rc, ok := r.auth.Recipe("multifactorauth"); ok {
			if fl, ok := rc.(firstFactorLister); ok {
				if ff := fl.FirstFactors(); len(ff) > 0 {
					configured = ff
				}
			}
		}
	}
	if configured == nil {
		configured = available
	}
	valid := []string{}
	for _, f := range builtInFirstFactors {
		if slices.Contains(configured, f) && slices.Contains(available, f) {
			valid = append(valid, f)
		}
	}
	for _, f := range configured {
		if !slices.Contains(builtInFirstFactors, f) && !slices.Contains(valid, f) {
			valid = append(valid, f)
		}
	}
	has := func(f string) bool { return slices.Contains(valid, f) }
	lm := &LoginMethods{
		Status:        "OK",
		EmailPassword: Enabled{has(FactorEmailPassword)},
		ThirdParty:    ThirdPartyMethods{Enabled: has(FactorThirdParty), Providers: providers},
		Passwordless:  Enabled{slices.ContainsFunc(passwordlessFactors, has)},
		WebAuthn:      Enabled{has(FactorWebAuthn)},
		FirstFactors:  valid,
	}
	if !lm.ThirdParty.Enabled {
		lm.ThirdParty.Providers = []thirdparty.ProviderInfo{}
	}
	return lm, nil
}

// handleLoginMethods serves GET [/<tenantId>]/loginmethods[?clientType=].
func (r *Recipe) handleLoginMethods(c *gin.Context) {
	lm, err := r.LoginMethods(c.Request.Context(), ginauth.TenantID(c), c.Query("clientType"))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, lm)
}
