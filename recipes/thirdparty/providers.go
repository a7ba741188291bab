package thirdparty

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/recipes/kit"
)

func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// OIDC returns a provider for any OpenID Connect provider, configured by
// discovery from its issuer URL (e.g. "https://accounts.example.com"; the
// document at issuerURL + "/.well-known/openid-configuration" is fetched
// when first needed). It asks for the "openid email profile" scopes and reads
// sub, email and email_verified.
func OIDC(id, issuerURL string, clients ...Client) Provider {
	return Provider{ID: id, Name: id, Clients: clients, OIDCDiscoveryEndpoint: issuerURL,
		Scopes: []string{"openid", "email", "profile"}}
}

// Google is Sign in with Google (OpenID Connect). Callback URL: the
// frontend's /auth/callback/google page, registered in the Google Cloud
// console.
func Google(clients ...Client) Provider {
	return Provider{
		ID: "google", Name: "Google", Clients: clients,
		AuthURL:       "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:      "https://oauth2.googleapis.com/token",
		UserInfoURL:   "https://openidconnect.googleapis.com/v1/userinfo",
		JWKSURL:       "https://www.googleapis.com/oauth2/v3/certs",
		Issuer:        "https://accounts.google.com",
		AcceptIssuers: []string{"accounts.google.com"},
		Scopes:        []string{"openid", "email", "profile"},
		AuthStyle:     oauth2.AuthStyleInParams,
		AuthorizationParams: map[string]string{
			"include_granted_scopes": "true",
		},
	}
}

// GitHub is Sign in with GitHub (OAuth2, no ID token). The user's id comes
// from GET /user and the e-mail from GET /user/emails: the primary address,
// verified only when GitHub says so. UserInfoURL is the /user endpoint; the
// e-mails endpoint is UserInfoURL + "/emails" (so GitHub Enterprise works by
// changing the URLs).
func GitHub(clients ...Client) Provider {
	return Provider{
		ID: "github", Name: "GitHub", Clients: clients,
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
		Scopes:      []string{"read:user", "user:email"},
		AuthStyle:   oauth2.AuthStyleInParams,
		GetUserInfo: githubUserInfo,
	}
}

func githubUserInfo(ctx context.Context, p *Provider, tokens Tokens, _ map[string]any) (UserInfo, error) {
	var user map[string]any
	if err := getJSON(ctx, p.UserInfoURL, tokens.AccessToken, &user); err != nil {
		return UserInfo{}, err
	}
	info := UserInfo{ThirdPartyUserID: lookupString(user, "id"), FromUserInfo: user}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := fetchJSON(ctx, HTTPClient(ctx), strings.TrimRight(p.UserInfoURL, "/")+"/emails", tokens.AccessToken, &emails); err != nil {
		return UserInfo{}, err
	}
	for _, e := range emails {
		if e.Primary {
			info.Email, info.EmailVerified = e.Email, e.Verified
		}
	}
	user["emails"] = emails
	return info, nil
}

// Facebook is Facebook Login (OAuth2). Facebook does not say whether an
// address is verified, so e-mails from it count as unverified.
func Facebook(clients ...Client) Provider {
	return Provider{
		ID: "facebook", Name: "Facebook", Clients: clients,
		AuthURL:     "https://www.facebook.com/v21.0/dialog/oauth",
		TokenURL:    "https://graph.facebook.com/v21.0/oauth/access_token",
		UserInfoURL: "https://graph.facebook.com/v21.0/me?fields=id,email,name",
		Scopes:      []string{"email"},
		AuthStyle:   oauth2.AuthStyleInParams,
		UserInfoMap: UserInfoMap{FromUserInfo: FieldMap{UserID: "id", Email: "email"}},
	}
}

// Apple is Sign in with Apple. Each client's AdditionalConfig needs
// "teamId", "keyId" and "privateKey" (the .p8 key's PEM text); the client
// secret is a short-lived ES256 JWT made from them for each token request.
// Apple posts its answer to the API's /auth/callback/apple, which redirects
// to the frontend; register that API URL as the return URL.
func Apple(clients ...Client) Provider {
	return Provider{
		ID: "apple", Name: "Apple", Clients: clients,
		AuthURL:  "https://appleid.apple.com/auth/authorize",
		TokenURL: "https://appleid.apple.com/auth/token",
		JWKSURL:  "https://appleid.apple.com/auth/keys",
		Issuer:   "https://appleid.apple.com",
		Scopes:   []string{"openid", "name", "email"},
		// Apple requires form_post when name or email is asked for.
		AuthorizationParams:  map[string]string{"response_mode": "form_post"},
		AuthStyle:            oauth2.AuthStyleInParams,
		DisablePKCE:          true,
		UserInfoMap:          UserInfoMap{FromIDToken: DefaultUserInfoMap.FromIDToken},
		GenerateClientSecret: appleClientSecret,
	}
}

// appleSecretValidity is how long an Apple client secret lives (Apple
// allows up to six months; each token request makes a fresh one).
const appleSecretValidity = 5 * time.Minute

func appleClientSecret(c Client, now time.Time) (string, error) {
	str := func(k string) string { s, _ := c.AdditionalConfig[k].(string); return s }
	teamID, keyID, pemText := str("teamId"), str("keyId"), str("privateKey")
	if teamID == "" || keyID == "" || pemText == "" {
		return "", errors.New(`Apple clients need AdditionalConfig "teamId", "keyId" and "privateKey"`)
	}
	pemText = strings.ReplaceAll(pemText, `\n`, "\n") // keys pasted into env vars
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "", errors.New(`Apple "privateKey" is not PEM text (expected the .p8 file's content)`)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return "", fmt.Errorf(`Apple "privateKey": %v`, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return "", errors.New(`Apple "privateKey" is not an EC (P-256) key`)
	}
	payload, _ := json.Marshal(map[string]any{
		"iss": teamID, "sub": c.ClientID, "aud": "https://appleid.apple.com",
		"iat": now.Unix(), "exp": now.Add(appleSecretValidity).Unix(),
	})
	return kit.SignJWS(kit.ES256, keyID, "", payload, ec)
}

// Microsoft is Microsoft Entra ID (Azure AD) sign-in. tenant is the
// directory: a tenant id or domain for one organisation, or "common",
// "organizations" or "consumers" (default "common"). Microsoft does not
// vouch for e-mail ownership, so its e-mails count as unverified.
func Microsoft(tenant string, clients ...Client) Provider {
	if tenant == "" {
		tenant = "common"
	}
	base := "https://login.microsoftonline.com/" + tenant
	issuer := base + "/v2.0"
	switch tenant {
	case "common", "organizations":
		issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
	case "consumers":
		issuer = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	}
	return Provider{
		ID: "active-directory", Name: "Microsoft", Clients: clients,
		AuthURL:     base + "/oauth2/v2.0/authorize",
		TokenURL:    base + "/oauth2/v2.0/token",
		UserInfoURL: "https://graph.microsoft.com/oidc/userinfo",
		JWKSURL:     base + "/discovery/v2.0/keys",
		Issuer:      issuer,
		Scopes:      []string{"openid", "email", "profile"},
		UserInfoMap: UserInfoMap{
			FromIDToken:  FieldMap{UserID: "sub", Email: "email"},
			FromUserInfo: FieldMap{UserID: "sub", Email: "email"},
		},
	}
}

// GitLab is sign-in with gitlab.com (OpenID Connect). For a self-managed
// instance use OIDC("gitlab", "https://gitlab.example.com", ...).
func GitLab(clients ...Client) Provider {
	return Provider{
		ID: "gitlab", Name: "GitLab", Clients: clients,
		AuthURL:     "https://gitlab.com/oauth/authorize",
		TokenURL:    "https://gitlab.com/oauth/token",
		UserInfoURL: "https://gitlab.com/oauth/userinfo",
		JWKSURL:     "https://gitlab.com/oauth/discovery/keys",
		Issuer:      "https://gitlab.com",
		Scopes:      []string{"openid", "email"},
	}
}

// Bitbucket is sign-in with Bitbucket Cloud (OAuth2). The user is read from
// /2.0/user and the e-mail from /2.0/user/emails: the primary address,
// verified only when confirmed.
func Bitbucket(clients ...Client) Provider {
	return Provider{
		ID: "bitbucket", Name: "Bitbucket", Clients: clients,
		AuthURL:     "https://bitbucket.org/site/oauth2/authorize",
		TokenURL:    "https://bitbucket.org/site/oauth2/access_token",
		UserInfoURL: "https://api.bitbucket.org/2.0/user",
		Scopes:      []string{"account", "email"},
		AuthStyle:   oauth2.AuthStyleInHeader,
		DisablePKCE: true,
		GetUserInfo: bitbucketUserInfo,
	}
}

func bitbucketUserInfo(ctx context.Context, p *Provider, tokens Tokens, _ map[string]any) (UserInfo, error) {
	var user map[string]any
	if err := getJSON(ctx, p.UserInfoURL, tokens.AccessToken, &user); err != nil {
		return UserInfo{}, err
	}
	info := UserInfo{ThirdPartyUserID: lookupString(user, "uuid"), FromUserInfo: user}
	var emails struct {
		Values []struct {
			Email       string `json:"email"`
			IsPrimary   bool   `json:"is_primary"`
			IsConfirmed bool   `json:"is_confirmed"`
		} `json:"values"`
	}
	if err := fetchJSON(ctx, HTTPClient(ctx), strings.TrimRight(p.UserInfoURL, "/")+"/emails", tokens.AccessToken, &emails); err != nil {
		return UserInfo{}, err
	}
	for _, e := range emails.Values {
		if e.IsPrimary {
			info.Email, info.EmailVerified = e.Email, e.IsConfirmed
		}
	}
	return info, nil
}

// Discord is sign-in with Discord (OAuth2): id, email and verified from
// /users/@me.
func Discord(clients ...Client) Provider {
	return Provider{
		ID: "discord", Name: "Discord", Clients: clients,
		AuthURL:     "https://discord.com/oauth2/authorize",
		TokenURL:    "https://discord.com/api/oauth2/token",
		UserInfoURL: "https://discord.com/api/users/@me",
		Scopes:      []string{"identify", "email"},
		DisablePKCE: true,
		UserInfoMap: UserInfoMap{FromUserInfo: FieldMap{UserID: "id", Email: "email", EmailVerified: "verified"}},
	}
}

// LinkedIn is Sign In with LinkedIn using OpenID Connect.
func LinkedIn(clients ...Client) Provider {
	return Provider{
		ID: "linkedin", Name: "LinkedIn", Clients: clients,
		AuthURL:     "https://www.linkedin.com/oauth/v2/authorization",
		TokenURL:    "https://www.linkedin.com/oauth/v2/accessToken",
		UserInfoURL: "https://api.linkedin.com/v2/userinfo",
		JWKSURL:     "https://www.linkedin.com/oauth/openid/jwks",
		Issuer:      "https://www.linkedin.com/oauth",
		Scopes:      []string{"openid", "profile", "email"},
		AuthStyle:   oauth2.AuthStyleInParams,
		DisablePKCE: true, // LinkedIn accepts PKCE only for approved native clients
	}
}

// Twitter is sign-in with X (Twitter) OAuth 2.0, which requires PKCE. X does
// not give an e-mail with the default scopes, so EmailOptional is set.
func Twitter(clients ...Client) Provider {
	return Provider{
		ID: "twitter", Name: "X", Clients: clients,
		AuthURL:       "https://x.com/i/oauth2/authorize",
		TokenURL:      "https://api.x.com/2/oauth2/token",
		UserInfoURL:   "https://api.x.com/2/users/me",
		Scopes:        []string{"users.read", "tweet.read"},
		AuthStyle:     oauth2.AuthStyleInHeader,
		EmailOptional: true,
		UserInfoMap:   UserInfoMap{FromUserInfo: FieldMap{UserID: "data.id"}},
	}
}
