package multitenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// MaxTenantIDLength is the longest tenant id (the width of the tenant_id
// columns).
const MaxTenantIDLength = 64

// reservedTenantIDs are refused as tenant ids, as the SuperTokens core
// refuses them (they name its own API paths).
var reservedTenantIDs = []string{"recipe", "config", "users", "hello"}

// TenantConfig is a tenant's configuration. CreateOrUpdateTenant stores it
// whole: a field left empty is cleared, not kept. Read the tenant with
// GetTenant first to change one field.
//
// For the list fields, nil means "not set" and an empty non-nil slice is
// an empty list; the difference matters for FirstFactors.
type TenantConfig struct {
	// FirstFactors lists the factor ids that may sign a user in to the
	// tenant: "emailpassword", "thirdparty", "otp-email", "otp-phone",
	// "link-email", "link-phone", "webauthn", or an app's own. nil offers
	// every first factor the configured recipes offer (narrowed by
	// multifactorauth's Config.FirstFactors when set); an empty list
	// offers none.
	FirstFactors []string
	// RequiredSecondaryFactors lists factors (e.g. "totp") every user of
	// the tenant must complete after signing in. They take effect through
	// the multifactorauth recipe: pass Recipe.RequiredSecondaryFactors as
	// its Config.RequiredSecondaryFactors.
	RequiredSecondaryFactors []string
	// AllowedDomains lists the website host names ("acme.example.com") on
	// which the tenant's sessions may be used. They are put in new
	// sessions as the st-t-dmns claim, which the frontend's
	// AllowedDomainsClaim.hasAccessToCurrentDomain validator checks. nil
	// leaves the claim out. Entries are stored lower-case.
	AllowedDomains []string
	// ThirdPartyProviders lists the ids of the thirdparty recipe's
	// providers the tenant offers. nil offers all of them.
	ThirdPartyProviders []string
	// CoreConfig holds per-tenant settings for the app and its recipes to
	// read (SuperTokens' "core config" overrides). ginauth stores it as
	// JSON and does not interpret it.
	CoreConfig map[string]any
	// Disabled tenants refuse new sessions (GET /loginmethods answers 404
	// as for an unknown tenant). Disabling a tenant revokes its sessions;
	// their access tokens still work until they expire, except on routes
	// verified with VerifyOptions.CheckDatabase. The public tenant cannot
	// be disabled: give it an empty FirstFactors list instead.
	Disabled bool
}

// Tenant is a tenant and its configuration.
type Tenant struct {
	// ID is the tenant id, lower-case.
	ID string
	TenantConfig
	// CreatedAt and UpdatedAt are zero for the public tenant until its
	// configuration is first stored.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NormaliseTenantID returns id in the form tenants are stored in: trimmed
// and lower-case, as the SuperTokens core stores them.
func NormaliseTenantID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// ValidateTenantID checks a tenant id as the SuperTokens core does, after
// NormaliseTenantID: 1 to 64 characters from a-z, 0-9 and '-'; not
// "recipe", "config", "users" or "hello"; not starting with "appid-". The
// error wraps ErrInvalidTenantID in a 400 *ginauth.Error.
func ValidateTenantID(id string) error {
	id = NormaliseTenantID(id)
	switch {
	case id == "":
		return invalidID("the tenant id must not be empty")
	case len(id) > MaxTenantIDLength:
		return invalidID("the tenant id is longer than %d characters", MaxTenantIDLength)
	case slices.Contains(reservedTenantIDs, id):
		return invalidID("%q cannot be used as a tenant id", id)
	case strings.HasPrefix(id, "appid-"):
		return invalidID("a tenant id must not start with \"appid-\"")
	}
	for i := 0; i < len(id); i++ {
		if ch := id[i]; !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return invalidID("a tenant id may only contain letters, digits and '-'")
		}
	}
	return nil
}

func invalidID(format string, args ...any) error {
	e := ginauth.BadRequest(format, args...)
	e.Err = ErrInvalidTenantID
	return e
}

func invalidConfig(format string, args ...any) error {
	e := ginauth.BadRequest(format, args...)
	e.Err = ErrInvalidConfig
	return e
}

// tenantNotFound is the error for an unknown or disabled tenant: 404
// "tenant not found" on the wire, cause told apart by errors.Is.
func tenantNotFound(cause error) error {
	return ginauth.NewError(ginauth.ErrUnknownTenant, cause)
}

// normaliseConfig checks cfg and returns a copy in stored form.
func normaliseConfig(id string, cfg TenantConfig) (TenantConfig, error) {
	if id == ginauth.DefaultTenant && cfg.Disabled {
		e := ginauth.BadRequest("the public tenant cannot be disabled (give it an empty FirstFactors list instead)")
		e.Err = ErrPublicTenant
		return cfg, e
	}
	var err error
	if cfg.FirstFactors, err = cleanList("FirstFactors", cfg.FirstFactors, false); err != nil {
		return cfg, err
	}
	if cfg.RequiredSecondaryFactors, err = cleanList("RequiredSecondaryFactors", cfg.RequiredSecondaryFactors, false); err != nil {
		return cfg, err
	}
	if cfg.ThirdPartyProviders, err = cleanList("ThirdPartyProviders", cfg.ThirdPartyProviders, false); err != nil {
		return cfg, err
	}
	if cfg.AllowedDomains, err = cleanList("AllowedDomains", cfg.AllowedDomains, true); err != nil {
		return cfg, err
	}
	for _, d := range cfg.AllowedDomains {
		if strings.ContainsAny(d, "/\\@?#") {
			return cfg, invalidConfig("AllowedDomains: %q is not a host name (give \"app.example.com\", without scheme or path)", d)
		}
	}
	return cfg, nil
}

// cleanList trims the entries of list, drops duplicates (keeping the first)
// and refuses empty or over-long entries and ones with spaces. nil stays
// nil; lower makes entries lower-case.
func cleanList(field string, list []string, lower bool) ([]string, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if lower {
			s = strings.ToLower(s)
		}
		switch {
		case s == "":
			return nil, invalidConfig("%s has an empty entry", field)
		case len(s) > 255:
			return nil, invalidConfig("%s: the entry %.20q... is longer than 255 bytes", field, s)
		case strings.ContainsAny(s, " \t\r\n"):
			return nil, invalidConfig("%s: the entry %q contains white space", field, s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// encodeList stores nil as NULL and any other slice as a JSON array.
func encodeList(list []string) *string {
	if list == nil {
		return nil
	}
	b, _ := json.Marshal(list) // []string always encodes
	s := string(b)
	return &s
}

func decodeList(s *string) ([]string, error) {
	if s == nil {
		return nil, nil
	}
	out := []string{}
	if err := json.Unmarshal([]byte(*s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func tenantFromRow(row *models.Tenant) (*Tenant, error) {
	t := &Tenant{ID: row.TenantID, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
	t.Disabled = row.Disabled
	var err error
	for _, f := range []struct {
		dst *[]string
		src *string
	}{
		{&t.FirstFactors, row.FirstFactors},
		{&t.RequiredSecondaryFactors, row.RequiredSecondaryFactors},
		{&t.AllowedDomains, row.AllowedDomains},
		{&t.ThirdPartyProviders, row.ThirdPartyProviders},
	} {
		if *f.dst, err = decodeList(f.src); err != nil {
			return nil, fmt.Errorf("multitenancy: tenant %s has a corrupt list column: %w", row.TenantID, err)
		}
	}
	if row.CoreConfig != "" && row.CoreConfig != "{}" {
		if err := json.Unmarshal([]byte(row.CoreConfig), &t.CoreConfig); err != nil {
			return nil, fmt.Errorf("multitenancy: tenant %s has a corrupt core_config column: %w", row.TenantID, err)
		}
	}
	return t, nil
}

// publicTenant is the default tenant before its configuration is stored.
func publicTenant() *Tenant { return &Tenant{ID: ginauth.DefaultTenant} }

// CreateOrUpdateTenant creates the tenant id with cfg, or replaces the
// configuration of an existing one, and reports whether it was created.
// The id is normalised (NormaliseTenantID) and validated
// (ValidateTenantID). The public tenant always exists, so configuring it
// reports false. Disabling a tenant revokes its sessions in the same
// transaction.
func (r *Recipe) CreateOrUpdateTenant(ctx context.Context, id string, cfg TenantConfig) (created bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	id = NormaliseTenantID(id)
	if err := ValidateTenantID(id); err != nil {
		return false, err
	}
	if cfg, err = normaliseConfig(id, cfg); err != nil {
		return false, err
	}
	coreConfig := "{}"
	if len(cfg.CoreConfig) > 0 {
		b, err := json.Marshal(cfg.CoreConfig)
		if err != nil {
			return false, invalidConfig("CoreConfig cannot be encoded as JSON: %v", err)
		}
		coreConfig = string(b)
	}
	now := r.auth.Now()
	row := models.Tenant{
		TenantID: id, Disabled: cfg.Disabled,
		FirstFactors: encodeList(cfg.FirstFactors), RequiredSecondaryFactors: encodeList(cfg.RequiredSecondaryFactors),
		AllowedDomains: encodeList(cfg.AllowedDomains), ThirdPartyProviders: encodeList(cfg.ThirdPartyProviders),
		CoreConfig: coreConfig, CreatedAt: now, UpdatedAt: now,
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		// Insert first: it settles concurrent creations, and makes SQLite
		// take its write lock before any read in the transaction.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		wasDisabled := false
		if res.RowsAffected > 0 {
			created = true
		} else {
			var prev models.Tenant
			if err := tx.Where("tenant_id = ?", id).Take(&prev).Error; err != nil {
				return err
			}
			wasDisabled = prev.Disabled
			err := tx.Model(&models.Tenant{}).Where("tenant_id = ?", id).Updates(map[string]any{
				"disabled":                   row.Disabled,
				"first_factors":              row.FirstFactors,
				"required_secondary_factors": row.RequiredSecondaryFactors,
				"allowed_domains":            row.AllowedDomains,
				"third_party_providers":      row.ThirdPartyProviders,
				"core_config":                row.CoreConfig,
				"updated_at":                 now,
			}).Error
			if err != nil {
				return err
			}
		}
		if cfg.Disabled && !wasDisabled {
			return tx.Where("tenant_id = ?", id).Delete(&models.Session{}).Error
		}
		return nil
	})
	if err != nil {
		return false, ginauth.DBError(err)
	}
	return created && id != ginauth.DefaultTenant, nil
}

// lookup returns the tenant id (normalised), the implicit public tenant,
// or an ErrUnknownTenant error. Disabled tenants are returned.
func (r *Recipe) lookup(ctx context.Context, id string) (*Tenant, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	id = NormaliseTenantID(id)
	if id == "" {
		id = ginauth.DefaultTenant
	}
	if ValidateTenantID(id) != nil && id != ginauth.DefaultTenant {
		return nil, tenantNotFound(ErrUnknownTenant)
	}
	var row models.Tenant
	err = db.Where("tenant_id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if id == ginauth.DefaultTenant {
			return publicTenant(), nil
		}
		return nil, tenantNotFound(ErrUnknownTenant)
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	t, err := tenantFromRow(&row)
	if err != nil {
		return nil, ginauth.NewError(ginauth.ErrInternal, err)
	}
	return t, nil
}

// enabledTenant is lookup that also refuses disabled tenants.
func (r *Recipe) enabledTenant(ctx context.Context, id string) (*Tenant, error) {
	t, err := r.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Disabled {
		return nil, tenantNotFound(ErrTenantDisabled)
	}
	return t, nil
}

// GetTenant returns a tenant, disabled or not. An unknown id gives a 404
// *ginauth.Error wrapping ErrUnknownTenant; "public" is always found.
func (r *Recipe) GetTenant(ctx context.Context, id string) (*Tenant, error) {
	return r.lookup(ctx, id)
}

// ListTenants returns every tenant: public first, then the others by id.
func (r *Recipe) ListTenants(ctx context.Context) ([]Tenant, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	var rows []models.Tenant
	if err := db.Order("tenant_id").Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	out := []Tenant{*publicTenant()}
	for i := range rows {
		t, err := tenantFromRow(&rows[i])
		if err != nil {
			return nil, ginauth.NewError(ginauth.ErrInternal, err)
		}
		if t.ID == ginauth.DefaultTenant {
			out[0] = *t
			continue
		}
		out = append(out, *t)
	}
	return out, nil
}

// TenantExists reports whether the tenant exists (enabled or not). The
// public tenant always does.
func (r *Recipe) TenantExists(ctx context.Context, id string) (bool, error) {
	_, err := r.lookup(ctx, id)
	if errors.Is(err, ErrUnknownTenant) {
		return false, nil
	}
	return err == nil, err
}

// CheckTenant returns nil when sign-ins to the tenant are allowed, and
// otherwise a 404 "tenant not found" *ginauth.Error wrapping
// ErrUnknownTenant or ErrTenantDisabled. Sign-in recipes call it (through
// FromAuth) before creating users, so that nobody signs up to a tenant
// that does not exist.
func (r *Recipe) CheckTenant(ctx context.Context, id string) error {
	_, err := r.enabledTenant(ctx, id)
	return err
}

// IsFirstFactorAllowed reports whether factorID may sign a user in to the
// tenant: the tenant exists, is enabled and its FirstFactors (when set)
// list the factor. The recipes and multifactorauth's static list are not
// consulted; LoginMethods combines them all.
func (r *Recipe) IsFirstFactorAllowed(ctx context.Context, tenantID, factorID string) (bool, error) {
	t, err := r.enabledTenant(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) || errors.Is(err, ErrTenantDisabled) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.FirstFactors == nil || slices.Contains(t.FirstFactors, factorID), nil
}

// IsProviderAllowed reports whether the thirdparty provider may be used in
// the tenant: the tenant exists, is enabled, and its ThirdPartyProviders
// (when set) list the provider.
func (r *Recipe) IsProviderAllowed(ctx context.Context, tenantID, providerID string) (bool, error) {
	t, err := r.enabledTenant(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) || errors.Is(err, ErrTenantDisabled) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.ThirdPartyProviders == nil || slices.Contains(t.ThirdPartyProviders, providerID), nil
}

// RequiredSecondaryFactors returns the tenant's RequiredSecondaryFactors.
// Its signature is that of multifactorauth's
// Config.RequiredSecondaryFactors, so that tenants' requirements take
// effect with
//
//	multifactorauth.New(multifactorauth.Config{RequiredSecondaryFactors: mt.RequiredSecondaryFactors})
//
// userID is not used. An unknown tenant requires nothing (its sessions are
// refused anyway).
func (r *Recipe) RequiredSecondaryFactors(ctx context.Context, userID, tenantID string) ([]string, error) {
	t, err := r.lookup(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t.RequiredSecondaryFactors, nil
}

// DeleteTenant deletes a tenant and reports whether it existed. In one
// transaction it also removes what belongs to the tenant alone: its users'
// memberships (ginauth_user_tenants), its sessions, and each recipe's rows
// of the tenant (accounts, codes, role assignments; see
// ginauth.Auth.DeleteTenantData). Users
// themselves are kept, as SuperTokens keeps them: a user who belonged only
// to this tenant is left in no tenant, and can be associated with another
// one or deleted with Auth.DeleteUser. The public tenant cannot be deleted
// (ErrPublicTenant).
func (r *Recipe) DeleteTenant(ctx context.Context, id string) (existed bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	id = NormaliseTenantID(id)
	if id == ginauth.DefaultTenant {
		e := ginauth.BadRequest("the public tenant cannot be deleted")
		e.Err = ErrPublicTenant
		return false, e
	}
	if err := ValidateTenantID(id); err != nil {
		return false, err
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ?", id).Delete(&models.Tenant{})
		if res.Error != nil {
			return res.Error
		}
		existed = res.RowsAffected > 0
		// Memberships, sessions and every recipe's rows of the tenant.
		return r.auth.DeleteTenantData(ctx, tx, id)
	})
	if err != nil {
		return false, ginauth.DBError(err)
	}
	return existed, nil
}

// AssociateUserToTenant makes an existing user a member of an existing
// tenant (disabled or not) and reports whether it already was one. The
// user then lists the tenant in its tenantIds, appears in the tenant's
// ListUsers, and its login accounts (e-mail and password, provider
// accounts, passwordless e-mail and phone, passkeys) sign in to the tenant
// as they do to the one the user signed up in.
//
// As the reference's associateUserToTenant, it refuses, changing nothing,
// when another user's account of the same recipe with the same e-mail,
// phone number or provider account already signs in to the tenant
// (ErrEmailAlreadyExists, ErrPhoneNumberAlreadyExists,
// ErrThirdPartyUserAlreadyExists, in a 400 *ginauth.Error). With account
// linking, a user of a linked group (a primary user or one linked to it)
// brings the group's e-mails, phone numbers and provider accounts to the
// tenant, and is refused with ErrAssociationNotAllowed when another primary
// user holds one of them there. The primary
// key of ginauth_login_tenants decides a race with a sign-up of the same
// address in the tenant: one of them wins. An unknown tenant gives a 404
// *ginauth.Error, an unknown user one wrapping ErrUnknownUserID.
func (r *Recipe) AssociateUserToTenant(ctx context.Context, tenantID, userID string) (wasAlreadyAssociated bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	t, err := r.lookup(ctx, tenantID)
	if err != nil {
		return false, err
	}
	// Retried: account linking locks user rows, which may deadlock with a
	// concurrent link on PostgreSQL.
	err = kit.RetryTransaction(db, func(tx *gorm.DB) error {
		// A write first, so that SQLite takes its write lock before any
		// read; an unknown user rolls it back. It locks the user's row,
		// as DisassociateUserFromTenant does: an association that found
		// the membership present must not add login rows after a
		// concurrent disassociation deleted it (orphaned rows,
		// TestConcurrentAssociationsAndLinks).
		if err := lockUserRow(tx, userID); err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.UserTenant{UserID: userID, TenantID: t.ID})
		if res.Error != nil {
			return res.Error
		}
		wasAlreadyAssociated = res.RowsAffected == 0
		var n int64
		if err := tx.Model(&models.User{}).Where("id = ?", userID).Limit(1).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ginauth.NewError(ginauth.ErrNotFound, ErrUnknownUserID)
		}
		keys, err := models.UserLoginKeys(tx, userID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := addLogin(tx, t.ID, userID, k); err != nil {
				return err
			}
		}
		// A linked group brings its account info along: another primary
		// user holding any of it in the tenant refuses the association.
		if l := r.auth.Linker(); l != nil {
			conflict, err := l.ClaimTenantTx(ctx, tx, t.ID, userID)
			if err != nil {
				return err
			}
			if conflict != "" {
				e := ginauth.BadRequest("the user is linked to a primary user whose account info belongs to another primary user in the tenant: %s", conflict)
				e.Err = ErrAssociationNotAllowed
				return e
			}
		}
		return nil
	})
	var e *ginauth.Error
	if errors.As(err, &e) {
		return false, err
	}
	if err != nil {
		return false, ginauth.DBError(err)
	}
	return wasAlreadyAssociated, nil
}

// addLogin lets the user's account k sign in to tenantID, or returns the
// refusal of the reference status when another user holds it there.
func addLogin(tx *gorm.DB, tenantID, userID string, k models.LoginKey) error {
	row := models.LoginTenant{TenantID: tenantID, Method: k.Method, Account: k.Account, UserID: userID}
	// DO NOTHING rather than a failing insert: on PostgreSQL a failed
	// statement would abort the transaction before the refusal is chosen.
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	var holder []string
	if err := tx.Model(&models.LoginTenant{}).Where("tenant_id = ? AND method = ? AND account = ?", tenantID, k.Method, k.Account).
		Pluck("user_id", &holder).Error; err != nil {
		return err
	}
	if len(holder) == 1 && holder[0] == userID {
		return nil // already associated
	}
	// Held by someone else (or by a transaction this one's snapshot
	// cannot see yet, on MySQL's repeatable read): refused.
	cause, msg := ErrEmailAlreadyExists, "another user with this e-mail address already signs in to the tenant"
	switch {
	case k.Method == models.LoginPasswordlessPhone:
		cause, msg = ErrPhoneNumberAlreadyExists, "another user with this phone number already signs in to the tenant"
	case strings.HasPrefix(k.Method, models.LoginThirdParty):
		cause, msg = ErrThirdPartyUserAlreadyExists, "another user with this third-party account already signs in to the tenant"
	}
	e := ginauth.BadRequest("%s", msg)
	e.Err = cause
	return e
}

// DisassociateUserFromTenant removes a user from a tenant, so that its
// accounts no longer sign in there, revokes the user's sessions in that
// tenant, and reports whether the user was a member. The user and its other tenants are left alone.
func (r *Recipe) DisassociateUserFromTenant(ctx context.Context, tenantID, userID string) (wasAssociated bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	tenantID = NormaliseTenantID(tenantID)
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	// Retried as AssociateUserToTenant: releasing a linked group's claims
	// locks user rows.
	err = kit.RetryTransaction(db, func(tx *gorm.DB) error {
		if err := lockUserRow(tx, userID); err != nil {
			return err
		}
		res := tx.Where("user_id = ? AND tenant_id = ?", userID, tenantID).Delete(&models.UserTenant{})
		if res.Error != nil {
			return res.Error
		}
		wasAssociated = res.RowsAffected > 0
		// Its accounts stop signing in to the tenant, the one it signed up
		// in included.
		if err := tx.Where("user_id = ? AND tenant_id = ?", userID, tenantID).Delete(&models.LoginTenant{}).Error; err != nil {
			return err
		}
		if l := r.auth.Linker(); l != nil && wasAssociated {
			if err := l.ReleaseTenantTx(ctx, tx, tenantID, userID); err != nil {
				return err
			}
		}
		return tx.Where("user_id = ? AND tenant_id = ?", userID, tenantID).Delete(&models.Session{}).Error
	})
	var e *ginauth.Error
	if errors.As(err, &e) {
		return false, err
	}
	if err != nil {
		return false, ginauth.DBError(err)
	}
	return wasAssociated, nil
}

// lockUserRow takes the row lock of a user (a write that changes nothing),
// so that associations and disassociations of one user run one at a time.
// A user that does not exist locks nothing; the caller finds out.
func lockUserRow(tx *gorm.DB, userID string) error {
	return tx.Model(&models.User{}).Where("id = ?", userID).Update("is_primary", gorm.Expr("is_primary")).Error
}
