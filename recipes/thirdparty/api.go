package thirdparty

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// maxBodyBytes caps request bodies: a signinup body is a few kilobytes.
const maxBodyBytes = 64 << 10

// statusSignInUpNotAllowed answers a sign-in the tenant or a hook refused.
const statusSignInUpNotAllowed = "SIGN_IN_UP_NOT_ALLOWED"

// handleAuthorisationURL serves GET /authorisationurl (FDI §3.4). The
// frontend appends its own state and keeps the PKCE verifier until signinup.
func (r *Recipe) handleAuthorisationURL(c *gin.Context) {
	tpid := c.Query("thirdPartyId")
	if tpid == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the thirdPartyId as a GET param"))
		return
	}
	redirectURI := c.Query("redirectURIOnProviderDashboard")
	if redirectURI == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the redirectURIOnProviderDashboard as a GET param"))
		return
	}
	p, client, err := r.pick(c, tpid, c.Query("clientType"))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	u, verifier, err := r.AuthorisationURL(c.Request.Context(), p, client, redirectURI)
	if err != nil {
		r.generalError(c, p, err)
		return
	}
	out := gin.H{"status": "OK", "urlWithQueryParams": u}
	if verifier != "" {
		out["pkceCodeVerifier"] = verifier
	}
	c.JSON(http.StatusOK, out)
}

// pick finds a provider and its client, as 400 errors the frontend can show.
func (r *Recipe) pick(c *gin.Context, tpid, clientType string) (*Provider, Client, error) {
	p, ok := r.byID[tpid]
	if ok {
		// A provider the tenant does not offer is, for that tenant, not
		// configured at all.
		allowed, err := r.auth.ProviderAllowed(c.Request.Context(), ginauth.TenantID(c), tpid)
		if err != nil {
			return nil, Client{}, err
		}
		ok = allowed
	}
	if !ok {
		return nil, Client{}, ginauth.BadRequest("the provider %s could not be found in the configuration", tpid)
	}
	client, err := p.client(clientType)
	if err != nil {
		return nil, Client{}, ginauth.BadRequest("%s", err.Error())
	}
	return p, client, nil
}

// AuthorisationURL returns the URL to send the user's browser to, without
// state (the frontend SDKs add their own), and the PKCE verifier to hand
// back at sign-in ("" when the provider does not use PKCE).
func (r *Recipe) AuthorisationURL(ctx context.Context, p *Provider, client Client, redirectURI string) (string, string, error) {
	rp, err := r.resolve(r.withClient(ctx), p)
	if err != nil {
		return "", "", err
	}
	cfg := r.oauthConfig(rp, client, redirectURI)
	var opts []oauth2.AuthCodeOption
	for k, v := range rp.AuthorizationParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	verifier := ""
	if !rp.DisablePKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
		if !rp.DisableNonce && rp.verifiesIDTokens() {
			opts = append(opts, oauth2.SetAuthURLParam("nonce", nonceFor(verifier)))
		}
	}
	return cfg.AuthCodeURL("", opts...), verifier, nil
}

func (r *Recipe) oauthConfig(p *Provider, client Client, redirectURI string) *oauth2.Config {
	style := p.AuthStyle
	if client.ClientSecret == "" {
		style = oauth2.AuthStyleInParams // a public client sends its id, and no secret
	}
	return &oauth2.Config{
		ClientID: client.ClientID, ClientSecret: client.ClientSecret, RedirectURL: redirectURI,
		Scopes:   p.scopes(client),
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, AuthStyle: style},
	}
}

// withClient puts the recipe's HTTP client in ctx, for x/oauth2 and for
// GetUserInfo functions (see HTTPClient).
func (r *Recipe) withClient(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, r.httpClient)
	return context.WithValue(ctx, httpClientKey{}, r.httpClient)
}

// signInUpBody is POST /signinup's body.
type signInUpBody struct {
	ThirdPartyID    *string `json:"thirdPartyId"`
	ClientType      string  `json:"clientType"`
	RedirectURIInfo *struct {
		RedirectURIOnProviderDashboard string         `json:"redirectURIOnProviderDashboard"`
		RedirectURIQueryParams         map[string]any `json:"redirectURIQueryParams"`
		PKCECodeVerifier               string         `json:"pkceCodeVerifier"`
	} `json:"redirectURIInfo"`
	OAuthTokens map[string]any `json:"oAuthTokens"`
	// ShouldTryLinking is shouldTryLinkingWithSessionUser (nil: absent).
	ShouldTryLinking *bool `json:"shouldTryLinkingWithSessionUser"`
}

// The error codes of a sign-in or sign-up inside a session whose provider
// account cannot be linked to the session user (kit.LinkFailure), as the
// reference's signInUpPOST numbers them.
var linkCodes = map[string]string{kit.LinkFailVerification: "ERR_CODE_020", kit.LinkFailLinkedElsewhere: "ERR_CODE_021",
	kit.LinkFailAccountInfoTaken: "ERR_CODE_022", kit.LinkFailSessionUserInfo: "ERR_CODE_023"}

// handleSignInUp serves POST /signinup (FDI §3.4).
func (r *Recipe) handleSignInUp(c *gin.Context) {
	var body signInUpBody
	if err := kit.DecodeJSON(c, &body, maxBodyBytes); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if body.ThirdPartyID == nil || *body.ThirdPartyID == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the thirdPartyId in request body"))
		return
	}
	if body.RedirectURIInfo == nil && body.OAuthTokens == nil {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide one of redirectURIInfo or oAuthTokens in the request body"))
		return
	}
	var code, verifier, redirectURI string
	if ri := body.RedirectURIInfo; ri != nil {
		if ri.RedirectURIOnProviderDashboard == "" {
			r.auth.WriteError(c, ginauth.BadRequest("Please provide the redirectURIOnProviderDashboard in request body"))
			return
		}
		code, _ = ri.RedirectURIQueryParams["code"].(string)
		if code == "" {
			if e, _ := ri.RedirectURIQueryParams["error"].(string); e != "" {
				p := r.byID[*body.ThirdPartyID]
				r.signInFailed(c, p, errorf(ErrProvider, "the provider answered the authorisation with the error %q", e))
				return
			}
			r.auth.WriteError(c, ginauth.BadRequest("Please provide the code in redirectURIInfo.redirectURIQueryParams"))
			return
		}
		redirectURI, verifier = ri.RedirectURIOnProviderDashboard, ri.PKCECodeVerifier
	}
	p, client, err := r.pick(c, *body.ThirdPartyID, body.ClientType)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// The session an account may join is loaded first: a stale one is a
	// 401 before any call to the provider. Without one the tenant must
	// offer the provider as a first factor; with one, signInUp decides.
	sess, err := r.auth.LoadAuthSession(c, body.ShouldTryLinking)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if sess == nil {
		_, err = r.auth.CheckSignIn(c.Request.Context(), ginauth.TenantID(c), Factor)
	} else {
		_, err = r.auth.ResolveTenant(c.Request.Context(), ginauth.TenantID(c))
	}
	if err != nil {
		r.auth.WriteHookError(c, err, statusSignInUpNotAllowed)
		return
	}
	// Every attempt from here on costs calls to the provider.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionSignIn, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	var tokens Tokens
	if body.RedirectURIInfo != nil {
		tokens, err = r.Exchange(ctx, p, client, code, redirectURI, verifier)
	} else {
		tokens = tokensFromRaw(body.OAuthTokens)
		if tokens.AccessToken == "" && tokens.IDToken == "" {
			r.auth.WriteError(c, ginauth.BadRequest("Please provide the access_token or the id_token in oAuthTokens"))
			return
		}
	}
	if err != nil {
		r.signInFailed(c, p, err)
		return
	}
	// In the code flow the nonce was bound through the verifier; tokens a
	// native app obtained itself carry a nonce we never saw.
	nonce := ""
	if body.RedirectURIInfo != nil && verifier != "" {
		nonce = nonceFor(verifier)
	}
	info, err := r.FetchUserInfo(ctx, p, client, tokens, nonce)
	if err != nil {
		r.signInFailed(c, p, err)
		return
	}
	if info.ThirdPartyUserID == "" {
		r.signInFailed(c, p, errorf(ErrProvider, "the provider gave no user id"))
		return
	}
	if info.Email == "" && !p.EmailOptional {
		c.JSON(http.StatusOK, gin.H{"status": "NO_EMAIL_GIVEN_BY_PROVIDER"})
		return
	}
	tenant := ginauth.TenantID(c)
	user, created, flow, err := r.signInUp(ctx, SignInUpInfo{TenantID: tenant, ThirdPartyID: p.ID, UserInfo: info, Tokens: tokens}, sess, body.ShouldTryLinking)
	if reason, ok := kit.LinkFailureReason(err, linkCodes); ok {
		r.event(c, ginauth.Event{Type: ginauth.EventSignInFailed, Account: ginauth.NormaliseEmail(info.Email), Detail: detail(p) + ": not linked to the session user"})
		c.JSON(http.StatusOK, gin.H{"status": statusSignInUpNotAllowed, "reason": reason})
		return
	}
	if err != nil {
		if errors.Is(err, ginauth.ErrSignInNotAllowed) {
			r.event(c, ginauth.Event{Type: ginauth.EventSignInFailed, Account: ginauth.NormaliseEmail(info.Email), Detail: detail(p) + ": not allowed"})
		}
		r.auth.WriteHookError(c, err, statusSignInUpNotAllowed)
		return
	}
	typ := ginauth.EventSignIn
	if created {
		typ = ginauth.EventSignUp
	}
	if flow.KeepsSession() {
		// Linked to the session's user: that session stays, with the
		// factor completed in it under MFA (the reference's postAuthChecks).
		if err := r.auth.CompleteInSession(ctx, flow); err != nil {
			r.auth.WriteError(c, err)
			return
		}
		r.event(c, ginauth.Event{Type: typ, UserID: user.ID, Account: ginauth.NormaliseEmail(info.Email), Detail: detail(p) + ": linked to the session user"})
		c.JSON(http.StatusOK, gin.H{"status": "OK", "user": user, "createdNewRecipeUser": created})
		return
	}
	recipeUserID := kit.RecipeUserID(user, RecipeID, func(m ginauth.LoginMethod) bool {
		return m.ThirdParty != nil && m.ThirdParty.ID == p.ID && m.ThirdParty.UserID == info.ThirdPartyUserID
	})
	if _, err := r.auth.CreateSession(c, ginauth.NewSession{UserID: recipeUserID, RecipeUserID: recipeUserID, TenantID: tenant, Factor: Factor}); err != nil {
		r.auth.WriteHookError(c, err, statusSignInUpNotAllowed)
		return
	}
	r.event(c, ginauth.Event{Type: typ, UserID: user.ID, Account: ginauth.NormaliseEmail(info.Email), Detail: detail(p)})
	c.JSON(http.StatusOK, gin.H{"status": "OK", "user": user, "createdNewRecipeUser": created})
}

// event records a security event of an HTTP flow, with the client's
// address.
func (r *Recipe) event(c *gin.Context, e ginauth.Event) {
	e.IP = c.ClientIP()
	r.auth.Emit(c.Request.Context(), e)
}

// detail names the recipe and provider in an event.
func detail(p *Provider) string { return RecipeID + ": " + pid(p) }

// signInFailed records a sign-in the provider's side failed and answers it
// (see generalError).
func (r *Recipe) signInFailed(c *gin.Context, p *Provider, err error) {
	var ae *ginauth.Error
	if !errors.As(err, &ae) && !errors.Is(err, context.Canceled) {
		r.event(c, ginauth.Event{Type: ginauth.EventSignInFailed, Detail: detail(p)})
	}
	r.generalError(c, p, err)
}

// Exchange trades an authorisation code for tokens at the provider's token
// endpoint, passing the exact redirect URI and the PKCE verifier.
func (r *Recipe) Exchange(ctx context.Context, p *Provider, client Client, code, redirectURI, verifier string) (Tokens, error) {
	ctx = r.withClient(ctx)
	rp, err := r.resolve(ctx, p)
	if err != nil {
		return Tokens{}, err
	}
	if rp.GenerateClientSecret != nil {
		if client.ClientSecret, err = rp.GenerateClientSecret(client, r.now()); err != nil {
			return Tokens{}, errorf(ErrProvider, "making the client secret: %v", err)
		}
	}
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	for k, v := range rp.TokenParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	tok, err := r.oauthConfig(rp, client, redirectURI).Exchange(ctx, code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return Tokens{}, fmt.Errorf("%w: the token endpoint refused the code: %v", ErrProvider, err)
		}
		return Tokens{}, fmt.Errorf("%w: token endpoint: %v", ErrProviderUnavailable, err)
	}
	t := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, Raw: map[string]any{}}
	if id, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = id
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token", "token_type", "expires_in", "scope"} {
		if v := tok.Extra(k); v != nil {
			t.Raw[k] = v
		}
	}
	return t, nil
}

func tokensFromRaw(raw map[string]any) Tokens {
	s := func(k string) string { v, _ := raw[k].(string); return v }
	return Tokens{AccessToken: s("access_token"), IDToken: s("id_token"), RefreshToken: s("refresh_token"), Raw: raw}
}

// FetchUserInfo verifies the ID token (when there is one and the provider
// publishes keys) and asks the provider who the user is. nonce, when not
// empty, must be the ID token's nonce.
func (r *Recipe) FetchUserInfo(ctx context.Context, p *Provider, client Client, tokens Tokens, nonce string) (UserInfo, error) {
	ctx = r.withClient(ctx)
	rp, err := r.resolve(ctx, p)
	if err != nil {
		return UserInfo{}, err
	}
	var claims map[string]any
	if tokens.IDToken != "" && rp.verifiesIDTokens() {
		if rp.DisableNonce {
			nonce = ""
		}
		claims, err = r.verifyIDToken(ctx, tokens.IDToken, idTokenCheck{jwksURL: rp.JWKSURL,
			issuers: append([]string{rp.Issuer}, rp.AcceptIssuers...), clientID: client.ClientID, nonce: nonce, now: r.now()})
		if err != nil {
			return UserInfo{}, err
		}
	} else if tokens.AccessToken == "" {
		return UserInfo{}, errorf(ErrProvider, "an ID token was given, but the provider %s has no JWKSURL to verify it with", p.ID)
	}
	if rp.GetUserInfo != nil {
		return rp.GetUserInfo(ctx, rp, tokens, claims)
	}
	return r.defaultUserInfo(ctx, rp, tokens, claims)
}

// generalError answers a provider failure with GENERAL_ERROR and logs the
// cause; the frontend shows the message to the user.
func (r *Recipe) generalError(c *gin.Context, p *Provider, err error) {
	var ae *ginauth.Error
	if errors.As(err, &ae) { // a database or request error, not the provider's
		r.auth.WriteError(c, err)
		return
	}
	name := "the provider"
	if p != nil && p.Name != "" {
		name = p.Name
	}
	msg := "Signing in with " + name + " failed. Please try again."
	switch {
	case errors.Is(err, ErrProviderUnavailable):
		msg = "Signing in with " + name + " failed: the provider could not be reached. Please try again later."
	case errors.Is(err, ErrInvalidIDToken):
		msg = "Signing in with " + name + " failed: the provider's answer could not be verified. Please try again."
	case errors.Is(err, context.Canceled):
		return
	}
	r.auth.WriteGeneralError(c, msg, fmt.Errorf("thirdparty: signing in with %s failed: %w", pid(p), err))
}

func pid(p *Provider) string {
	if p == nil {
		return ""
	}
	return p.ID
}

// handleAppleCallback serves POST /callback/apple: Apple posts its answer
// (form_post) to the API, which redirects the browser to the frontend page
// named in the state the frontend made, carrying every posted field.
func (r *Recipe) handleAppleCallback(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	if err := c.Request.ParseForm(); err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("the callback body is not a valid form"))
		return
	}
	form := c.Request.PostForm
	state := form.Get("state")
	if state == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the state in the callback"))
		return
	}
	target, err := r.appleRedirect(state)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	q := target.Query()
	for k, vs := range form {
		q[k] = vs
	}
	target.RawQuery = q.Encode()
	c.Redirect(http.StatusSeeOther, target.String())
}

// appleRedirect decodes the frontend's state (standard base64 of
// {"state","frontendRedirectURI"}) and allows only URLs on one of the
// website origins (AppInfo.WebsiteDomain or WebsiteOrigins), so the
// callback cannot be used as an open redirect. The callback is Apple's
// form post, whose Origin is Apple's, so the origin is checked against the
// list rather than resolved from the request.
func (r *Recipe) appleRedirect(state string) (*url.URL, error) {
	raw, err := base64.StdEncoding.DecodeString(state)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(state, "=")); err != nil {
			return nil, ginauth.BadRequest("the state is not base64")
		}
	}
	var st struct {
		FrontendRedirectURI string `json:"frontendRedirectURI"`
	}
	if json.Unmarshal(raw, &st) != nil || st.FrontendRedirectURI == "" {
		return nil, ginauth.BadRequest("the state does not name a frontendRedirectURI")
	}
	u, err := url.Parse(st.FrontendRedirectURI)
	if err != nil || u.User != nil || u.Opaque != "" || !r.auth.IsWebsiteOrigin(u.Scheme+"://"+u.Host) {
		return nil, ginauth.BadRequest("the frontendRedirectURI is not on one of the website origins")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}
