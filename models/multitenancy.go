package models

import "time"

// Tables of the multitenancy recipe.
const (
	// TableTenants holds the configuration of every tenant the app created.
	// The default tenant ("public") exists without a row; it gets one when
	// its configuration is first changed.
	TableTenants = "ginauth_tenants"
)

func init() { register(&Tenant{}) }

// MultitenancyTables lists the tables the multitenancy recipe needs.
func MultitenancyTables() []string { return []string{TableTenants} }

// Tenant is one tenant's configuration. The list columns hold JSON arrays
// of strings; NULL means "not set" (for FirstFactors: every first factor
// the configured recipes offer; for the others: no restriction), which is
// not the same as an empty list (FirstFactors "[]": nobody can sign in).
//
// Which users belong to a tenant is recorded in UserTenant, not here.
type Tenant struct {
	TenantID string `gorm:"column:tenant_id;primaryKey;size:64"`
	// Disabled tenants refuse sign-ins; their sessions are revoked when
	// they are disabled.
	Disabled bool `gorm:"column:disabled;not null;default:false"`
	// FirstFactors lists the factor ids ("emailpassword", "thirdparty",
	// "otp-email", ...) that may sign a user in to the tenant.
	FirstFactors *string `gorm:"column:first_factors;type:text"`
	// RequiredSecondaryFactors lists the factors (e.g. "totp") every user
	// of the tenant must complete after signing in.
	RequiredSecondaryFactors *string `gorm:"column:required_secondary_factors;type:text"`
	// AllowedDomains lists the website host names the tenant's sessions
	// may be used on (the st-t-dmns claim).
	AllowedDomains *string `gorm:"column:allowed_domains;type:text"`
	// ThirdPartyProviders lists the ids of the configured third-party
	// providers the tenant offers.
	ThirdPartyProviders *string `gorm:"column:third_party_providers;type:text"`
	// CoreConfig is a JSON object of per-tenant settings for the app and
	// its recipes to read; ginauth stores it and does not interpret it.
	CoreConfig string    `gorm:"column:core_config;not null;type:text"`
	CreatedAt  time.Time `gorm:"column:created_at;not null;autoCreateTime:false"`
	UpdatedAt  time.Time `gorm:"column:updated_at;not null;autoUpdateTime:false"`
}

// TableName returns TableTenants.
func (Tenant) TableName() string { return TableTenants }
