// Package oidctest is a real, local OAuth2 / OpenID Connect provider for
// tests: an httptest server with discovery, an authorisation endpoint that
// approves a configured user at once, a token endpoint that enforces what a
// careful provider enforces (client authentication, exact redirect URI,
// single-use and expiring codes, PKCE S256), a user-info endpoint and a JWKS.
// ID tokens are signed with the server's own keys (RS256, or ES256).
//
// Knobs make it misbehave on purpose: sign with a key it does not publish,
// put a wrong nonce, audience or issuer in ID tokens, issue expired ones,
// rotate its keys, or go down.
//
//	idp := oidctest.NewServer(oidctest.Config{ClientID: "app", ClientSecret: "s3cret",
//		User: oidctest.User{Subject: "u1", Email: "ann@example.com", EmailVerified: true}})
//	defer idp.Close()
//	provider := thirdparty.OIDC("test", idp.Issuer(), thirdparty.Client{ClientID: "app", ClientSecret: "s3cret"})
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ginauth/ginauth/recipes/kit"
)

// User is the account the provider signs in.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Extra claims, added to ID tokens and the user-info answer.
	Extra map[string]any
}

// Config configures a Server. ClientID is required.
type Config struct {
	ClientID     string
	ClientSecret string
	// User is approved at /authorize without asking.
	User User
	// RedirectURIs, when not empty, are the only redirect URIs /authorize
	// accepts (exact match), as a provider's registered callback URLs.
	RedirectURIs []string
	// Now is the clock used for codes and token times. Default time.Now.
	Now func() time.Time
	// CodeTTL is how long a code may be exchanged. Default one minute.
	CodeTTL time.Duration
	// IDTokenTTL is an ID token's lifetime. Default one hour.
	IDTokenTTL time.Duration
	// ES256 signs ID tokens with P-256 keys instead of RSA-2048.
	ES256 bool
}

// Tamper makes the server issue bad ID tokens, to test that they are
// refused. The zero value issues good ones.
type Tamper struct {
	// WrongKey signs ID tokens with a key that is not in the JWKS, under
	// the published key's kid.
	WrongKey bool
	// Nonce, when not empty, replaces the nonce claim.
	Nonce string
	// Audience, when not empty, replaces the aud claim.
	Audience string
	// Issuer, when not empty, replaces the iss claim.
	Issuer string
	// Expired issues ID tokens that expired an hour ago.
	Expired bool
	// NoIDToken leaves id_token out of token responses.
	NoIDToken bool
}

type code struct {
	clientID, redirectURI, challenge, nonce string
	user                                    User
	expires                                 time.Time
	used                                    bool
}

// Server is the provider. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	cfg Config

	mu          sync.Mutex
	key         *signer   // signs ID tokens
	published   []*signer // served at /jwks (key first)
	wrong       *signer
	codes       map[string]*code
	access      map[string]User
	down        bool
	hang        chan struct{} // while not nil, requests wait for it to close
	arrived     chan struct{} // gets a value for each request that starts waiting
	tamper      Tamper
	jwksFetches int
	tokenCalls  int
	rotations   int
}

type signer struct {
	kid string
	alg string
	key crypto.Signer
}

// newSigner returns the i-th pool key (RS256), or a fresh P-256 key.
func (s *Server) newSigner(kid string, i int) *signer {
	if s.cfg.ES256 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return &signer{kid: kid, alg: kit.ES256, key: k}
	}
	return &signer{kid: kid, alg: kit.RS256, key: poolKey(i)}
}

// jwk is the signer's public key as a JWK.
func (k *signer) jwk() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.key.Public().(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "use": "sig", "alg": kit.RS256, "kid": k.kid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, _ := pub.Bytes() // 0x04 || X || Y
		return map[string]string{"kty": "EC", "use": "sig", "alg": kit.ES256, "crv": "P-256", "kid": k.kid,
			"x": b64(raw[1:33]), "y": b64(raw[33:])}
	}
	return nil
}

// NewServer starts a provider. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = time.Minute
	}
	if cfg.IDTokenTTL == 0 {
		cfg.IDTokenTTL = time.Hour
	}
	s := &Server{cfg: cfg, codes: map[string]*code{}, access: map[string]User{}}
	s.key = s.newSigner(kit.Token(8), 0)
	s.published = []*signer{s.key}
	s.wrong = s.newSigner(s.key.kid, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	mux.HandleFunc("GET /jwks", s.jwks)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down, hang, arrived := s.down, s.hang, s.arrived
		s.mu.Unlock()
		if hang != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, "provider is down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Issuer is the issuer URL (the base URL); discovery lives under it.
func (s *Server) Issuer() string { return s.srv.URL }

// AuthURL, TokenURL, UserInfoURL and JWKSURL are the endpoints, for
// providers configured without discovery.
func (s *Server) AuthURL() string { return s.srv.URL + "/authorize" }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.srv.URL + "/token" }

// UserInfoURL is the user-info endpoint.
func (s *Server) UserInfoURL() string { return s.srv.URL + "/userinfo" }

// JWKSURL is the key-set endpoint.
func (s *Server) JWKSURL() string { return s.srv.URL + "/jwks" }

// SetUser changes the user /authorize approves.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	s.cfg.User = u
	s.mu.Unlock()
}

// SetDown makes every endpoint answer 503 (true) or work again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Hang makes every request wait, as a provider that accepts connections
// and never answers does, until release is called (or the client gives
// up). arrived receives a value as each request starts waiting (it holds
// one; later arrivals are not reported while it is full).
func (s *Server) Hang() (arrived <-chan struct{}, release func()) {
	hang, arr := make(chan struct{}), make(chan struct{}, 1)
	s.mu.Lock()
	s.hang, s.arrived = hang, arr
	s.mu.Unlock()
	var once sync.Once
	return arr, func() {
		once.Do(func() {
			s.mu.Lock()
			s.hang = nil
			s.mu.Unlock()
			close(hang)
		})
	}
}

// SetTamper sets how ID tokens are spoiled from now on.
func (s *Server) SetTamper(t Tamper) {
	s.mu.Lock()
	s.tamper = t
	s.mu.Unlock()
}

// RotateKeys starts signing with a new key under a new kid. With keepOld
// the old key stays in the JWKS; without, it is dropped.
func (s *Server) RotateKeys(keepOld bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotations++
	s.key = s.newSigner(kit.Token(8), 1+s.rotations) // pool key 0: the first key, 1: the wrong key
	if keepOld {
		s.published = append([]*signer{s.key}, s.published...)
	} else {
		s.published = []*signer{s.key}
	}
	s.wrong = s.newSigner(s.key.kid, 1)
}

// JWKSFetches counts requests to /jwks.
func (s *Server) JWKSFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jwksFetches
}

// TokenCalls counts requests to /token.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// Authorize follows an authorisation URL as a browser would, without
// following the final redirect, and returns the URL the provider redirected
// to (the app's callback with code and state, or with error).
func (s *Server) Authorize(authURL string) (*url.URL, error) {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("oidctest: /authorize answered %s", resp.Status)
	}
	return url.Parse(resp.Header.Get("Location"))
}

// MintTokens issues an access token (valid at /userinfo) and an ID token for
// the configured user, as if a native app had signed in by itself.
// Tamper applies.
func (s *Server) MintTokens(nonce string) (accessToken, idToken string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	accessToken = kit.Token(24)
	s.access[accessToken] = s.cfg.User
	idToken, err = s.idToken(s.cfg.User, nonce)
	return accessToken, idToken, err
}

// SignIDToken signs arbitrary claims with the server's current key, for
// tests that need a token no knob makes.
func (s *Server) SignIDToken(claims map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return kit.SignJWS(s.key.alg, s.key.kid, "JWT", payload, s.key.key)
}

// idToken signs an ID token for u; s.mu is held.
func (s *Server) idToken(u User, nonce string) (string, error) {
	now := s.cfg.Now()
	t := s.tamper
	claims := map[string]any{}
	for k, v := range u.Extra {
		claims[k] = v
	}
	claims["iss"] = s.Issuer()
	claims["sub"] = u.Subject
	claims["aud"] = s.cfg.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(s.cfg.IDTokenTTL).Unix()
	if u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	if u.Name != "" {
		claims["name"] = u.Name
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if t.Nonce != "" {
		claims["nonce"] = t.Nonce
	}
	if t.Audience != "" {
		claims["aud"] = t.Audience
	}
	if t.Issuer != "" {
		claims["iss"] = t.Issuer
	}
	if t.Expired {
		claims["iat"] = now.Add(-2 * time.Hour).Unix()
		claims["exp"] = now.Add(-time.Hour).Unix()
	}
	key := s.key
	if t.WrongKey {
		key = s.wrong
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return kit.SignJWS(key.alg, key.kid, "JWT", payload, key.key)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	alg := s.key.alg
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                s.AuthURL(),
		"token_endpoint":                        s.TokenURL(),
		"userinfo_endpoint":                     s.UserInfoURL(),
		"jwks_uri":                              s.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{alg},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != s.cfg.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case redirectURI == "":
		http.Error(w, "redirect_uri is required", http.StatusBadRequest)
		return
	case len(s.cfg.RedirectURIs) > 0 && !slices.Contains(s.cfg.RedirectURIs, redirectURI):
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	target, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	back := target.Query()
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	fail := func(code string) {
		back.Set("error", code)
		target.RawQuery = back.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type")
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		fail("invalid_request") // plain is not accepted
		return
	}
	c := kit.Token(24)
	s.mu.Lock()
	s.codes[c] = &code{clientID: s.cfg.ClientID, redirectURI: redirectURI, challenge: challenge,
		nonce: q.Get("nonce"), user: s.cfg.User, expires: s.cfg.Now().Add(s.cfg.CodeTTL)}
	s.mu.Unlock()
	back.Set("code", c)
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls++
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	f := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != s.cfg.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	c, ok := s.codes[f.Get("code")]
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
		return
	case c.used:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code already used")
		return
	}
	c.used = true // single use, whatever happens next
	switch {
	case !s.cfg.Now().Before(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code expired")
		return
	case c.clientID != id:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code was issued to another client")
		return
	case f.Get("redirect_uri") != c.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorisation request")
		return
	}
	verifier := f.Get("code_verifier")
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
	} else if verifier != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier without a code_challenge")
		return
	}
	access := kit.Token(24)
	s.access[access] = c.user
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": "openid email profile"}
	if !s.tamper.NoIDToken {
		idt, err := s.idToken(c.user, c.nonce)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		out["id_token"] = idt
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	u, ok := s.access[h[min(len(prefix), len(h)):]]
	s.mu.Unlock()
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix || !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "unknown access token")
		return
	}
	out := map[string]any{}
	for k, v := range u.Extra {
		out[k] = v
	}
	out["sub"] = u.Subject
	if u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if u.Name != "" {
		out["name"] = u.Name
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.jwksFetches++
	keys := make([]map[string]string, 0, len(s.published))
	for _, k := range s.published {
		keys = append(keys, k.jwk())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// Keys are expensive to make (RSA-2048), so one pool serves every server in
// a test binary; each server still has its own issuer URL.
var pool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

func poolKey(i int) *rsa.PrivateKey {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for len(pool.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(errors.Join(errors.New("oidctest: generating an RSA key"), err))
		}
		pool.keys = append(pool.keys, k)
	}
	return pool.keys[i]
}
