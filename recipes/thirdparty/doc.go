// Package thirdparty is sign-in with OAuth2 and OpenID Connect providers
// (Google, GitHub, Apple, Microsoft, ... or any OIDC provider), speaking
// SuperTokens' frontend protocol so that the official frontend SDKs' third-
// party recipe works unmodified.
//
// Quick start:
//
//	tp := thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{
//		thirdparty.Google(thirdparty.Client{ClientID: googleID, ClientSecret: googleSecret}),
//		thirdparty.GitHub(thirdparty.Client{ClientID: githubID, ClientSecret: githubSecret}),
//		thirdparty.OIDC("keycloak", "https://sso.example.com/realms/main",
//			thirdparty.Client{ClientID: "web", ClientSecret: kcSecret}),
//	}})
//	auth, err := ginauth.New(ginauth.Config{DB: db, AppInfo: appInfo, Recipes: []ginauth.Recipe{tp}})
//
// The recipe serves, under the API base path (and its "/<tenantId>" form):
//
//	GET  /authorisationurl   the provider URL to send the browser to, and a PKCE verifier
//	POST /signinup           code (or tokens) in, user and session out
//	POST /callback/apple     Apple's form_post answer, redirected to the website
//
// # Security
//
// Every authorisation uses PKCE (S256) unless the provider is marked
// DisablePKCE; the verifier goes to the frontend, which sends it back with
// the code. ID tokens are verified with coreos/go-oidc against the
// provider's JWKS (cached, one re-fetch per minute on an unknown key id,
// no lock held across a fetch), and their issuer, audience
// (the client id), expiry and, in the code flow, nonce are checked. The
// nonce is derived from the PKCE verifier, so nothing is stored between the
// two requests. The token exchange passes the exact redirect URI the
// authorisation used.
//
// Accounts are keyed by (tenant, provider id, provider user id). An e-mail is
// marked verified only when the provider says so (Config.OnVerifiedEmail),
// and accounts are never merged on an e-mail: each provider account is its
// own user.
//
// # Customising
//
// A Provider is plain data: change a built-in's endpoints or scopes, map
// other JSON fields with UserInfoMap, replace the lookup with GetUserInfo,
// or describe a provider from scratch. Hooks.BeforeSignInUp can veto a
// sign-in with ginauth.NotAllowed(reason) (SIGN_IN_UP_NOT_ALLOWED) or fail
// it with ginauth.GeneralError(message) (GENERAL_ERROR).
//
// See docs/thirdparty.md for setting up each provider.
package thirdparty
