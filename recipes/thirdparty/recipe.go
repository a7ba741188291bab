package thirdparty

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe's id, the rid the frontend SDKs send.
const RecipeID = "thirdparty"

// Factor is the factor name sessions created by this recipe carry.
const Factor = "thirdparty"

// Config configures the recipe. Providers is required; everything else has a
// default.
type Config struct {
	// Providers are the identity providers users may sign in with, in the
	// order the frontend lists them.
	Providers []Provider
	// Hooks let the app veto or follow sign-ins.
	Hooks Hooks
	// OnVerifiedEmail is called after a sign-in for which the provider
	// vouched that the e-mail is verified. Wire it to the e-mail
	// verification recipe so that such users need not verify again (see
	// docs/thirdparty.md). An error fails the sign-in.
	OnVerifiedEmail func(ctx context.Context, userID, email string) error
	// HTTPClient talks to the providers. Default: a client with a 10-second
	// timeout.
	HTTPClient *http.Client
}

// Hooks are the recipe's typed hooks.
type Hooks struct {
	// BeforeSignInUp runs before an account signs in or up, once the
	// provider has said who the user is. Return
	// ginauth.NotAllowed(reason) to refuse the sign-in (the frontend gets
	// SIGN_IN_UP_NOT_ALLOWED with the reason) or
	// ginauth.GeneralError(message) to fail it with a message (GENERAL_ERROR);
	// any other error fails the request.
	BeforeSignInUp func(ctx context.Context, in SignInUpInfo) error
	// AfterSignInUp runs after the account was stored, before the session
	// is created. An error fails the request (the account stays).
	AfterSignInUp func(ctx context.Context, res SignInUpResult) error
}

// SignInUpInfo is what BeforeSignInUp is told.
type SignInUpInfo struct {
	TenantID     string
	ThirdPartyID string
	UserInfo     UserInfo
	// Tokens are the provider's tokens; empty when SignInUp was called
	// from Go.
	Tokens Tokens
	// Existing is the user the account already belongs to, or nil when
	// this is a sign-up.
	Existing *ginauth.User
}

// SignInUpResult is what AfterSignInUp is told.
type SignInUpResult struct {
	SignInUpInfo
	User *ginauth.User
	// CreatedNewRecipeUser is true on sign-up.
	CreatedNewRecipeUser bool
}

// ErrNotSetUp is returned by the Go API of a recipe that was not passed to
// ginauth.New.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// Recipe is the third-party sign-in recipe. Build it with New and pass it
// in ginauth.Config.Recipes.
type Recipe struct {
	cfg        Config
	providers  []*Provider
	byID       map[string]*Provider
	httpClient *http.Client
	auth       *kit.Kit
	discovery  discoveryCache
	jwks       jwksCache
}

// New returns the recipe. The configuration is checked when ginauth.New sets
// the recipe up, so that mistakes surface there as errors.
func New(cfg Config) *Recipe {
	r := &Recipe{cfg: cfg, byID: map[string]*Provider{}, httpClient: cfg.HTTPClient}
	if r.httpClient == nil {
		r.httpClient = defaultHTTPClient
	}
	for i := range cfg.Providers {
		p := cfg.Providers[i] // a copy: the app's slice stays the app's
		p.Clients = append([]Client(nil), p.Clients...)
		r.providers = append(r.providers, &p)
		if _, dup := r.byID[p.ID]; !dup {
			r.byID[p.ID] = &p
		}
	}
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup checks the configuration and registers the recipe's routes, table
// and login methods.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	if len(r.providers) == 0 {
		return fmt.Errorf("%w: thirdparty: Config.Providers is empty", ginauth.ErrConfig)
	}
	now := kit.From(reg).Now()
	seen := map[string]bool{}
	for _, p := range r.providers {
		if err := p.validate(now); err != nil {
			return fmt.Errorf("%w: thirdparty: %v", ginauth.ErrConfig, err)
		}
		if seen[p.ID] {
			return fmt.Errorf("%w: thirdparty: the provider %s is configured twice", ginauth.ErrConfig, p.ID)
		}
		seen[p.ID] = true
	}
	r.auth = kit.From(reg)
	reg.RequireTables(models.ThirdPartyTables()...)
	reg.AddLoginMethods(r.loginMethods)
	reg.AddEmailLookup(kit.EmailLookup(&models.ThirdPartyUser{}))
	reg.OnUserDelete(r.deleteUser)
	reg.OnTenantDelete(kit.DeleteByTenant(&models.ThirdPartyUser{}))
	for _, rt := range []ginauth.Route{
		{Method: http.MethodGet, Path: "/authorisationurl", Handler: r.handleAuthorisationURL},
		{Method: http.MethodPost, Path: "/signinup", Handler: r.handleSignInUp},
		{Method: http.MethodPost, Path: "/callback/apple", Handler: r.handleAppleCallback},
	} {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	return nil
}

// Provider returns the configured provider with the given id. The result is
// a copy; changing it changes nothing.
func (r *Recipe) Provider(id string) (Provider, bool) {
	p, ok := r.byID[id]
	if !ok {
		return Provider{}, false
	}
	return *p, true
}

// ProviderIDs lists the configured providers' ids, in configuration order.
func (r *Recipe) ProviderIDs() []string {
	out := make([]string, len(r.providers))
	for i, p := range r.providers {
		out[i] = p.ID
	}
	return out
}

// Providers lists the configured providers' ids and names, in configuration
// order, as the frontend's login-methods list shows them.
func (r *Recipe) Providers() []ProviderInfo {
	out := make([]ProviderInfo, len(r.providers))
	for i, p := range r.providers {
		out[i] = ProviderInfo{ID: p.ID, Name: p.Name}
	}
	return out
}

func (r *Recipe) now() time.Time {
	if r.auth != nil {
		return r.auth.Now()
	}
	return time.Now()
}
