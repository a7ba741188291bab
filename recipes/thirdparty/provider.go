package thirdparty

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Client types the frontend SDKs send as clientType.
const (
	ClientTypeWeb     = "web"
	ClientTypeIOS     = "ios"
	ClientTypeAndroid = "android"
)

// Client is one OAuth client registered with a provider. A provider may have
// several (a web client, an iOS client, ...); the frontend picks one by
// sending clientType.
type Client struct {
	// ClientType is "web", "ios", "android" or any name the app's frontends
	// send as clientType. It may be empty when the provider has one client.
	ClientType string
	// ClientID is the id the provider gave the app. ID tokens must carry it
	// as their audience.
	ClientID string
	// ClientSecret is the client's secret. Empty for public clients (those
	// rely on PKCE) and for providers whose secret is computed, like Apple's.
	ClientSecret string
	// Scopes replaces the provider's default scopes for this client.
	Scopes []string
	// AdditionalConfig holds provider-specific settings, e.g. Apple's
	// "teamId", "keyId" and "privateKey".
	AdditionalConfig map[string]any
}

// String redacts the secret, so that a Client can be logged.
func (c Client) String() string {
	return fmt.Sprintf("thirdparty.Client{ClientType:%q ClientID:%q ClientSecret:%s}", c.ClientType, c.ClientID, redacted(c.ClientSecret))
}

// GoString redacts the secret for %#v.
func (c Client) GoString() string { return c.String() }

// LogValue redacts the secret for log/slog.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("clientType", c.ClientType), slog.String("clientId", c.ClientID),
		slog.String("clientSecret", redacted(c.ClientSecret)))
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// FieldMap names where a user's id, e-mail and e-mail verification flag are
// found in a JSON object. A path is a dot-separated list of keys, e.g. "sub"
// or "data.id". An empty path means the field is not there.
type FieldMap struct {
	UserID        string
	Email         string
	EmailVerified string
}

// UserInfoMap says where the user's details are found: in the verified ID
// token's claims and in the user-info endpoint's answer. A value found in
// the user-info answer wins over one from the ID token.
type UserInfoMap struct {
	FromIDToken  FieldMap
	FromUserInfo FieldMap
}

// DefaultUserInfoMap is the OpenID Connect standard: sub, email and
// email_verified, in both the ID token and the user-info answer.
var DefaultUserInfoMap = UserInfoMap{
	FromIDToken:  FieldMap{UserID: "sub", Email: "email", EmailVerified: "email_verified"},
	FromUserInfo: FieldMap{UserID: "sub", Email: "email", EmailVerified: "email_verified"},
}

// UserInfo is what a provider says about the user.
type UserInfo struct {
	// ThirdPartyUserID is the provider's stable id for the account.
	ThirdPartyUserID string
	// Email may be empty when the provider gave none.
	Email string
	// EmailVerified is true only when the provider says the address is
	// verified.
	EmailVerified bool
	// FromIDToken holds the verified ID token's claims (nil without one).
	FromIDToken map[string]any
	// FromUserInfo holds the user-info endpoint's answer (nil when it was
	// not called).
	FromUserInfo map[string]any
}

// Tokens are what the provider's token endpoint returned, or what a native
// app sent in oAuthTokens.
type Tokens struct {
	AccessToken  string
	IDToken      string
	RefreshToken string
	// Expiry of the access token; zero when unknown.
	Expiry time.Time
	// Raw holds every field of the token response.
	Raw map[string]any
}

// String redacts the tokens, so that Tokens can be logged.
func (t Tokens) String() string {
	return fmt.Sprintf("thirdparty.Tokens{AccessToken:%s IDToken:%s RefreshToken:%s}",
		redacted(t.AccessToken), redacted(t.IDToken), redacted(t.RefreshToken))
}

// GoString redacts the tokens for %#v.
func (t Tokens) GoString() string { return t.String() }

// LogValue redacts the tokens for log/slog.
func (t Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Provider is one identity provider, described as data: its endpoints, its
// clients and where the user's details are found. Use a constructor (Google,
// GitHub, OIDC, ...) and adjust the result, or fill one in for any OAuth2
// provider.
type Provider struct {
	// ID is what the frontend sends as thirdPartyId, e.g. "google". Letters,
	// digits, '-' and '_' only.
	ID string
	// Name is shown on the frontend's sign-in button, e.g. "Google".
	Name string
	// Clients are the OAuth clients; at least one.
	Clients []Client

	// AuthURL is the authorisation endpoint the user's browser is sent to.
	AuthURL string
	// TokenURL is where the authorisation code is exchanged for tokens.
	TokenURL string
	// UserInfoURL is called with the access token for the user's details
	// (optional when the ID token carries them).
	UserInfoURL string
	// JWKSURL lists the keys the provider signs ID tokens with. Without it
	// (and without discovery) ID tokens are ignored.
	JWKSURL string
	// Issuer is the iss an ID token must carry. "{tenantid}" in it matches
	// the token's tid claim (Microsoft's multi-tenant endpoints).
	Issuer string
	// AcceptIssuers are further iss values accepted (Google also uses
	// "accounts.google.com").
	AcceptIssuers []string
	// OIDCDiscoveryEndpoint, when set, is the provider's issuer URL or its
	// full "/.well-known/openid-configuration" URL. The document is fetched
	// when first needed, cached for a day, and fills in the endpoints left
	// empty above.
	OIDCDiscoveryEndpoint string
	// AuthStyle says how the client authenticates at the token endpoint;
	// the zero value lets x/oauth2 detect it.
	AuthStyle oauth2.AuthStyle

	// Scopes are requested when the client names none.
	Scopes []string
	// AuthorizationParams are added to the authorisation URL (e.g.
	// "prompt": "select_account").
	AuthorizationParams map[string]string
	// TokenParams are added to the token request.
	TokenParams map[string]string

	// DisablePKCE turns PKCE off for providers that reject it. By default
	// every authorisation uses PKCE (S256) unless discovery says the
	// provider does not support S256.
	DisablePKCE bool
	// DisableNonce stops binding ID tokens to the authorisation with a
	// nonce (derived from the PKCE verifier), for providers that do not
	// echo it.
	DisableNonce bool
	// EmailOptional lets accounts without an e-mail sign in. By default a
	// provider that gives no e-mail gets NO_EMAIL_GIVEN_BY_PROVIDER, as in
	// SuperTokens, where requireEmail defaults to true.
	EmailOptional bool

	// UserInfoMap says where the user's id, e-mail and verification flag
	// are found. Zero means DefaultUserInfoMap.
	UserInfoMap UserInfoMap
	// GetUserInfo, when set, replaces the default user-info lookup (ID token
	// claims plus the user-info endpoint, read through UserInfoMap). The ID
	// token, if any, has already been verified; its claims are in
	// idTokenClaims. Use HTTPClient(ctx) for requests.
	GetUserInfo func(ctx context.Context, p *Provider, tokens Tokens, idTokenClaims map[string]any) (UserInfo, error)
	// GenerateClientSecret, when set, computes the client secret for each
	// token request (Apple signs a short-lived JWT).
	GenerateClientSecret func(c Client, now time.Time) (string, error)
}

// ProviderInfo is the public part of a provider, as the frontend's login
// methods list shows it.
type ProviderInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type httpClientKey struct{}

// HTTPClient returns the HTTP client configured for talking to providers
// (Config.HTTPClient), for custom GetUserInfo functions. Outside the recipe
// it returns a client with a 10-second timeout.
func HTTPClient(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(httpClientKey{}).(*http.Client); ok && c != nil {
		return c
	}
	return defaultHTTPClient
}

var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}

// validate checks the parts of a provider that do not need the network.
func (p *Provider) validate(now time.Time) error {
	if p.ID == "" || len(p.ID) > 64 || strings.Trim(p.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return fmt.Errorf("provider id %q must be 1-64 letters, digits, '-' or '_'", p.ID)
	}
	if len(p.Clients) == 0 {
		return fmt.Errorf("provider %s has no Clients", p.ID)
	}
	types := map[string]bool{}
	for _, c := range p.Clients {
		if c.ClientID == "" {
			return fmt.Errorf("provider %s: a client (type %q) has no ClientID", p.ID, c.ClientType)
		}
		if types[c.ClientType] {
			return fmt.Errorf("provider %s: two clients have the clientType %q", p.ID, c.ClientType)
		}
		types[c.ClientType] = true
		if p.GenerateClientSecret != nil {
			if _, err := p.GenerateClientSecret(c, now); err != nil {
				return fmt.Errorf("provider %s: client %s: %w", p.ID, c.ClientID, err)
			}
		}
	}
	if p.OIDCDiscoveryEndpoint == "" && (p.AuthURL == "" || p.TokenURL == "") {
		return fmt.Errorf("provider %s needs AuthURL and TokenURL, or an OIDCDiscoveryEndpoint", p.ID)
	}
	if p.GetUserInfo == nil && p.OIDCDiscoveryEndpoint == "" && p.UserInfoURL == "" && p.JWKSURL == "" {
		return fmt.Errorf("provider %s has no way to learn who the user is: set UserInfoURL, JWKSURL (for ID tokens), OIDCDiscoveryEndpoint or GetUserInfo", p.ID)
	}
	if p.JWKSURL != "" && p.Issuer == "" && p.OIDCDiscoveryEndpoint == "" {
		return fmt.Errorf("provider %s has a JWKSURL but no Issuer to check ID tokens against", p.ID)
	}
	return nil
}

// client picks the client for clientType.
func (p *Provider) client(clientType string) (Client, error) {
	if clientType == "" {
		if len(p.Clients) == 1 {
			return p.Clients[0], nil
		}
		return Client{}, fmt.Errorf("the provider %s has several clients configured: please provide the clientType", p.ID)
	}
	for _, c := range p.Clients {
		if c.ClientType == clientType {
			return c, nil
		}
	}
	if len(p.Clients) == 1 && p.Clients[0].ClientType == "" {
		return p.Clients[0], nil
	}
	return Client{}, fmt.Errorf("the provider %s has no client for the clientType %s", p.ID, clientType)
}

func (p *Provider) scopes(c Client) []string {
	if len(c.Scopes) > 0 {
		return c.Scopes
	}
	return p.Scopes
}

func (p *Provider) userInfoMap() UserInfoMap {
	if p.UserInfoMap == (UserInfoMap{}) {
		return DefaultUserInfoMap
	}
	return p.UserInfoMap
}

// verifiesIDTokens reports whether the (resolved) provider can check ID
// tokens.
func (p *Provider) verifiesIDTokens() bool { return p.JWKSURL != "" && p.Issuer != "" }
