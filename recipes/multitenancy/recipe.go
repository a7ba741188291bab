package multitenancy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe's id, the rid the frontend SDKs send.
const RecipeID = "multitenancy"

// Errors of the recipe. They arrive wrapped in a *ginauth.Error that
// carries their HTTP meaning; check them with errors.Is.
var (
	// ErrNotSetUp is returned when a Recipe is used before ginauth.New has
	// set it up.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
	// ErrInvalidTenantID: the id breaks the rules of ValidateTenantID. 400.
	ErrInvalidTenantID = errors.New("multitenancy: invalid tenant id")
	// ErrInvalidConfig: a TenantConfig field is unusable. 400.
	ErrInvalidConfig = errors.New("multitenancy: invalid tenant config")
	// ErrUnknownTenant: no tenant has the id. 404 "tenant not found".
	ErrUnknownTenant = errors.New("multitenancy: unknown tenant")
	// ErrTenantDisabled: the tenant exists but is disabled. On the wire it
	// looks exactly like ErrUnknownTenant (404 "tenant not found"), so that
	// a disabled tenant is not told apart from a missing one.
	ErrTenantDisabled = errors.New("multitenancy: tenant is disabled")
	// ErrPublicTenant: the operation is not allowed on the default tenant
	// ("public"), which always exists. 400.
	ErrPublicTenant = errors.New("multitenancy: the public tenant cannot be deleted or disabled")
	// ErrFactorNotAllowed: a session was to be started with a factor that
	// the tenant's FirstFactors leave out. 403; it matches
	// ginauth.ErrSignInNotAllowed too.
	ErrFactorNotAllowed = errors.New("multitenancy: sign-in method not enabled for the tenant")

	// Refusals of AssociateUserToTenant, named after the statuses of the
	// reference's associateUserToTenant. Each arrives in a *ginauth.Error
	// (404 for an unknown user, 400 for the others); nothing was changed.

	// ErrUnknownUserID: no user has the id (UNKNOWN_USER_ID_ERROR). It
	// matches ginauth.ErrNotFound too.
	ErrUnknownUserID = errors.New("multitenancy: unknown user id")
	// ErrEmailAlreadyExists: another user's account with the same e-mail
	// and the same recipe (emailpassword, passwordless or webauthn) signs
	// in to the tenant (EMAIL_ALREADY_EXISTS_ERROR).
	ErrEmailAlreadyExists = errors.New("multitenancy: the e-mail address already exists in the tenant")
	// ErrPhoneNumberAlreadyExists: another user's passwordless account
	// with the same phone number signs in to the tenant
	// (PHONE_NUMBER_ALREADY_EXISTS_ERROR).
	ErrPhoneNumberAlreadyExists = errors.New("multitenancy: the phone number already exists in the tenant")
	// ErrThirdPartyUserAlreadyExists: another user has the same provider
	// account in the tenant (THIRD_PARTY_USER_ALREADY_EXISTS_ERROR).
	ErrThirdPartyUserAlreadyExists = errors.New("multitenancy: the third-party account already exists in the tenant")
	// ErrAssociationNotAllowed is the reference's
	// ASSOCIATION_NOT_ALLOWED_ERROR: with account linking configured, the
	// user belongs to a linked group whose e-mail, phone number or
	// provider account another primary user already holds in the tenant
	// (two primary users never share account info in a tenant). 400; the
	// message says what is shared.
	ErrAssociationNotAllowed = errors.New("multitenancy: association not allowed")
)

// Config tunes the recipe. The zero value is ready to use.
type Config struct {
	// GetAllowedDomains, when set, replaces the tenant's AllowedDomains as
	// the source of the st-t-dmns claim (for apps that keep domains
	// elsewhere). Returning nil leaves the claim out of the session.
	GetAllowedDomains func(ctx context.Context, tenantID string) ([]string, error)
}

// Recipe keeps tenants as data in the app's database, serves GET
// /loginmethods and adds the st-t-dmns claim to sessions. Create it with
// New and pass it in ginauth.Config.Recipes; its methods work once
// ginauth.New has returned.
type Recipe struct {
	cfg  Config
	auth *kit.Kit
	db   *gorm.DB
}

// New returns the recipe. At most one Config is read. A Recipe belongs to
// the one Auth that sets it up: build another for another Auth.
func New(cfg ...Config) *Recipe {
	r := &Recipe{}
	if len(cfg) > 0 {
		r.cfg = cfg[0]
	}
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the recipe's table, route and session hook (which also
// adds the st-t-dmns claim, from the tenant it has just read).
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	r.auth = kit.From(reg)
	r.db = r.auth.DB()
	reg.RequireTables(models.MultitenancyTables()...)
	reg.BeforeSessionCreate(r.beforeSessionCreate)
	// The core asks us which tenants exist before any auth route runs, and
	// sign-in recipes ask which factors a tenant offers before they write.
	if err := reg.SetTenantPolicy(ginauth.TenantPolicy{
		Resolve: func(ctx context.Context, id string) (string, error) {
			t, err := r.enabledTenant(ctx, id)
			if err != nil {
				return "", err
			}
			return t.ID, nil
		},
		AllowFirstFactor: r.IsFirstFactorAllowed,
		AllowProvider:    r.IsProviderAllowed,
	}); err != nil {
		return err
	}
	return reg.Handle(ginauth.Route{Method: http.MethodGet, Path: "/loginmethods", Handler: r.handleLoginMethods})
}

// FromAuth returns the multitenancy recipe configured in a, if any. Other
// recipes use it to ask whether a tenant exists (see CheckTenant).
func FromAuth(a *ginauth.Auth) (*Recipe, bool) {
	r, ok := kit.Find[*Recipe](a, RecipeID)
	return r, ok && r.db != nil
}

// current returns the recipe of the instance serving ctx.
func current(ctx context.Context) (*Recipe, error) {
	a, err := ginauth.AuthFrom(ctx)
	if err != nil {
		return nil, err
	}
	if r, ok := FromAuth(a); ok {
		return r, nil
	}
	return nil, ErrNotSetUp
}

func (r *Recipe) conn(ctx context.Context) (*gorm.DB, error) {
	if r.db == nil {
		return nil, ErrNotSetUp
	}
	return r.db.WithContext(kit.DBContext(ctx)), nil
}

// beforeSessionCreate keeps sessions inside known, enabled tenants, puts
// the tenant id in its canonical (lower-case) form, refuses sign-ins with
// a factor the tenant does not offer, and adds the st-t-dmns claim when the
// tenant has allowed domains. Sessions an app creates without a Factor are
// checked for the tenant only.
func (r *Recipe) beforeSessionCreate(ctx context.Context, s *ginauth.NewSession) error {
	t, err := r.enabledTenant(ctx, s.TenantID)
	if err != nil {
		return err
	}
	s.TenantID = t.ID
	if s.Factor != "" && t.FirstFactors != nil && !slices.Contains(t.FirstFactors, s.Factor) {
		// The same refusal as ginauth's CheckSignIn (403, ErrSignInNotAllowed),
		// which recipes ask before they write; this catches sessions apps
		// create themselves.
		e := ginauth.NotAllowed(fmt.Sprintf("signing in with %s is not enabled for this tenant", s.Factor)).(*ginauth.Error)
		e.Err = ErrFactorNotAllowed
		return e
	}
	ds, err := r.domainsOf(ctx, t)
	if err != nil || ds == nil {
		return err
	}
	if s.AccessTokenPayload == nil {
		s.AccessTokenPayload = claims.Payload{}
	}
	claims.Merge(s.AccessTokenPayload, AllowedDomainsClaim.Update(ds, r.auth.Now()))
	return nil
}
