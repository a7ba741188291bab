package ginauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/models"
)

// ErrUnknownTenant is the kind of the 404 answered for a tenant that does
// not exist or is disabled. It matches ErrNotFound too.
var ErrUnknownTenant = fmt.Errorf("%w: tenant", ErrNotFound)

// ErrSignInNotAllowed is the kind of the error CheckSignIn returns when a
// tenant does not offer the factor used; recipes answer it with their FDI
// *_NOT_ALLOWED status and the error's Message as the reason.
var ErrSignInNotAllowed = errors.New("ginauth: sign-in not allowed")

// TenantPolicy decides which tenants exist and how users may sign in to
// them. The multitenancy recipe sets one; without it only DefaultTenant
// exists and every factor is allowed.
type TenantPolicy struct {
	// Resolve returns the canonical id of an existing, enabled tenant, or
	// an error (an ErrUnknownTenant *Error for one that is not).
	Resolve func(ctx context.Context, id string) (string, error)
	// AllowFirstFactor reports whether factor (e.g. "emailpassword") may
	// start a session in tenantID.
	AllowFirstFactor func(ctx context.Context, tenantID, factor string) (bool, error)
	// AllowProvider reports whether the third-party provider (e.g.
	// "google") may be used in tenantID. Nil allows every configured one.
	AllowProvider func(ctx context.Context, tenantID, providerID string) (bool, error)
}

// SetTenantPolicy installs the tenant policy; a second call is an error.
func (r *Registrar) SetTenantPolicy(p TenantPolicy) error {
	if r.auth.tenantPolicy != nil {
		return fmt.Errorf("%w: recipe %s: a tenant policy is already set", ErrConfig, r.recipe)
	}
	if p.Resolve == nil {
		return fmt.Errorf("%w: recipe %s: TenantPolicy.Resolve is nil", ErrConfig, r.recipe)
	}
	r.auth.tenantPolicy = &p
	return nil
}

// OnTenantDelete registers the recipe's part of deleting a tenant's data,
// run by DeleteTenantData inside the deleting transaction.
func (r *Registrar) OnTenantDelete(fn func(ctx context.Context, tx *gorm.DB, tenantID string) error) {
	r.auth.tenantDeleters = append(r.auth.tenantDeleters, fn)
}

func unknownTenant(id string) *Error {
	return NewError(ErrUnknownTenant, fmt.Errorf("tenant %q", id))
}

// resolveTenant (kit.Kit.ResolveTenant) returns the canonical id of tenant id, or an
// ErrUnknownTenant *Error. Ids are case-insensitive.
func (a *Auth) resolveTenant(ctx context.Context, id string) (string, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" || id == DefaultTenant {
		return DefaultTenant, nil
	}
	if !validTenantID(id) || a.tenantPolicy == nil {
		return "", unknownTenant(id)
	}
	return a.tenantPolicy.Resolve(ctx, id)
}

// checkSignIn (kit.Kit.CheckSignIn) is what sign-in recipes ask before they write or check
// anything: whether tenantID exists and offers factor. It returns the
// canonical tenant id, an ErrUnknownTenant error, or an ErrSignInNotAllowed
// error whose Message is the reason to show.
func (a *Auth) checkSignIn(ctx context.Context, tenantID, factor string) (string, error) {
	t, err := a.resolveTenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if p := a.tenantPolicy; p != nil && p.AllowFirstFactor != nil && factor != "" {
		ok, err := p.AllowFirstFactor(ctx, t, factor)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", ErrorWithMessage(ErrSignInNotAllowed, fmt.Sprintf("signing in with %s is not enabled for this tenant", factor), nil)
		}
	}
	return t, nil
}

// providerAllowed (kit.Kit.ProviderAllowed) reports whether the tenant offers the third-party
// provider; the thirdparty recipe treats one it does not offer as one that
// is not configured.
func (a *Auth) providerAllowed(ctx context.Context, tenantID, providerID string) (bool, error) {
	p := a.tenantPolicy
	if p == nil || p.AllowProvider == nil {
		return true, nil
	}
	return p.AllowProvider(ctx, tenantID, providerID)
}

// deleteTenantData (kit.Kit.DeleteTenantData) removes, inside tx, everything of tenantID that the
// core and the recipes keep: memberships, sessions and each recipe's rows
// (registered with Registrar.OnTenantDelete). Users themselves stay.
func (a *Auth) deleteTenantData(ctx context.Context, tx *gorm.DB, tenantID string) error {
	// The tenant's sign-in accounts go first; accounts made here whose
	// users still sign in elsewhere move there instead of being deleted.
	if err := tx.WithContext(dbContext(ctx)).Where("tenant_id = ?", tenantID).Delete(&models.LoginTenant{}).Error; err != nil {
		return DBError(err)
	}
	if err := models.RehomeAccounts(tx.WithContext(dbContext(ctx)), tenantID); err != nil {
		return DBError(err)
	}
	for _, fn := range a.tenantDeleters {
		if err := fn(ctx, tx, tenantID); err != nil {
			return err
		}
	}
	if err := tx.WithContext(dbContext(ctx)).Where("tenant_id = ?", tenantID).Delete(&models.Session{}).Error; err != nil {
		return DBError(err)
	}
	return DBError(tx.WithContext(dbContext(ctx)).Where("tenant_id = ?", tenantID).Delete(&models.UserTenant{}).Error)
}

// loginMethodTenants sets each login method's TenantIDs to the tenants its
// account signs in to (ginauth_login_tenants: the one it was made in and
// those its user was associated with), as the FDI user object reports them.
func loginMethodTenants(ctx context.Context, db *gorm.DB, ms []LoginMethod) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		if !contains(ids, m.RecipeUserID) {
			ids = append(ids, m.RecipeUserID)
		}
	}
	var rows []models.LoginTenant
	if err := db.WithContext(dbContext(ctx)).Where("user_id IN ?", ids).Order("tenant_id").Find(&rows).Error; err != nil {
		return DBError(err)
	}
	for i := range ms {
		tenants := []string{}
		for _, r := range rows {
			// "thirdparty:google" and "passwordless-email" belong to the
			// thirdparty and passwordless recipes.
			recipe, _, _ := strings.Cut(r.Method, ":")
			if p, _, ok := strings.Cut(recipe, "-"); ok {
				recipe = p
			}
			if r.UserID == ms[i].RecipeUserID && recipe == ms[i].RecipeID && !contains(tenants, r.TenantID) {
				tenants = append(tenants, r.TenantID)
			}
		}
		ms[i].TenantIDs = tenants
	}
	return nil
}
