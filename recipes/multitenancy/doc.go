// Package multitenancy is the multitenancy recipe: tenants kept as data in
// the app's own database (table ginauth_tenants), the FDI endpoint GET
// [/<tenantId>]/loginmethods that the frontend SDKs call to learn how
// users sign in to a tenant, and the st-t-dmns (allowed domains) session
// claim.
//
// # Quick start
//
//	mt := multitenancy.New()
//	auth, err := ginauth.New(ginauth.Config{
//		DB:      db, // after models.AutoMigrate(db)
//		AppInfo: appInfo,
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), mt},
//	})
//	...
//	// Create a tenant that signs in with e-mail and password only, on its
//	// own website domain.
//	_, err = mt.CreateOrUpdateTenant(ctx, "acme", multitenancy.TenantConfig{
//		FirstFactors:   []string{"emailpassword"},
//		AllowedDomains: []string{"acme.example.com"},
//	})
//
// The frontend then calls /auth/acme/loginmethods, /auth/acme/signup and so
// on (supertokens-web-js puts the tenant id in the path; the default
// tenant, "public", goes without it).
//
// # Tenants
//
// The default tenant "public" always exists; it gets a row only once its
// configuration is stored, and it cannot be deleted or disabled. Other
// tenants exist once CreateOrUpdateTenant creates them. Tenant ids follow
// the SuperTokens core's rules (ValidateTenantID) and are stored
// lower-case. A TenantConfig decides the tenant's first factors, its
// required secondary factors, its allowed website domains, its
// third-party providers, free-form per-tenant settings, and whether it is
// disabled.
//
// With the recipe configured, sessions exist only in known, enabled
// tenants: creating one for any other tenant fails with 404 "tenant not
// found", and a session started by a sign-in recipe (NewSession.Factor
// set) with a factor the tenant's FirstFactors leave out fails with 403
// (ginauth.ErrSignInNotAllowed; the sign-in recipes ask first and answer
// their FDI *_NOT_ALLOWED status instead).
// GET /loginmethods answers 404 "tenant not found" for an unknown or
// disabled tenant (supertokens-node throws, which gives a 500).
//
// Users belong to tenants through ginauth_user_tenants: a sign-up puts the
// user in the tenant it was made in, AssociateUserToTenant adds more, and
// DisassociateUserFromTenant takes one away (revoking the user's sessions
// there). Sign-ins find accounts through ginauth_login_tenants, so an
// associated user signs in to the new tenant with its existing accounts;
// its primary key (tenant, method, account) keeps one account per recipe
// and address, phone number or provider account in each tenant.
// DeleteTenant removes the tenant's memberships, sessions and role
// assignments, and keeps the users, as SuperTokens does.
//
// # Required secondary factors
//
// A tenant's RequiredSecondaryFactors take effect through the
// multifactorauth recipe:
//
//	mfa := multifactorauth.New(multifactorauth.Config{RequiredSecondaryFactors: mt.RequiredSecondaryFactors})
//
// # Allowed domains
//
// Sessions of a tenant with AllowedDomains carry
// {"st-t-dmns": {"v": ["acme.example.com"], "t": <ms>}}. The frontend
// checks it with AllowedDomainsClaim.validators.hasAccessToCurrentDomain();
// the backend can with ginauth.RequireClaim(multitenancy.AllowedDomain(host)).
package multitenancy
