// Package devoidc is the demo's development-only OpenID Connect provider: a
// real HTTP server on a fixed local address (DEMO_OIDC_ADDR, default
// 127.0.0.1:3002) with discovery, an authorisation endpoint that approves one
// configured user at once (no login page), a token endpoint, user info and a
// JWKS. It lets the demo show a working "Continue with Dev OIDC" button
// without registering an app with Google or GitHub.
//
// It is deliberately small, but it enforces what the thirdparty recipe must
// cope with from a real provider: the client id and secret at the token
// endpoint, an exact, registered redirect URI, single-use codes that expire
// after a minute, PKCE S256 and RS256-signed ID tokens carrying the nonce.
// (recipes/thirdparty/oidctest does the same for Go tests, but on an
// httptest server with a random port and no exported handler.)
//
// Never run it in production: anyone who can reach it signs in as its user.
package devoidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ginauth/ginauth/internal/jws"
)

// User is the account the provider approves.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Config configures the provider. Addr, ClientID, ClientSecret and
// RedirectURIs are required.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:3002".
	Addr string
	// Issuer is the provider's public base URL. Default "http://" + Addr.
	Issuer string
	// ClientID and ClientSecret are the one client the provider knows.
	ClientID, ClientSecret string
	// RedirectURIs are the callback URLs /authorize accepts (exact match).
	RedirectURIs []string
	// User is approved at /authorize without asking.
	User User
	// Logger, default slog.Default().
	Logger *slog.Logger
}

const (
	codeTTL   = time.Minute
	tokenTTL  = time.Hour
	maxTokens = 10_000 // bounds memory if something loops on /authorize
)

type grant struct {
	redirectURI, challenge, nonce string
	expires                       time.Time
}

// Server is a running provider.
type Server struct {
	cfg    Config
	key    *rsa.PrivateKey
	kid    string
	srv    *http.Server
	ln     net.Listener
	log    *slog.Logger
	mu     sync.Mutex
	codes  map[string]grant
	access map[string]time.Time // access token -> expiry
}

// Start listens on cfg.Addr and serves until Close. Listening happens
// before Start returns, so a taken port is reported here.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || len(cfg.RedirectURIs) == 0 {
		return nil, errors.New("devoidc: Addr, ClientID, ClientSecret and RedirectURIs are required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://" + cfg.Addr
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, key: key, kid: token(8), log: cfg.Logger,
		codes: map[string]grant{}, access: map[string]time.Time{}}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("devoidc: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("devoidc: serving", "error", err)
		}
	}()
	return s, nil
}

// Issuer is the issuer URL; discovery lives under it.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Close stops the server.
func (s *Server) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Handler is the provider's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("POST /dev/user", s.switchUser)
	return mux
}

func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
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
	iss := s.cfg.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{jws.RS256},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

// authorize approves the configured user at once and sends the browser back
// to the (registered) redirect URI with a code and the client's state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != s.cfg.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case !slices.Contains(s.cfg.RedirectURIs, redirectURI):
		// Never redirect to an unregistered URI (that would leak the code).
		http.Error(w, "redirect_uri is not registered with this provider", http.StatusBadRequest)
		return
	}
	target, _ := url.Parse(redirectURI) // registered, so it parses
	back := target.Query()
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	challenge := q.Get("code_challenge")
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case challenge == "" || q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request") // PKCE S256 is required
		back.Set("error_description", "PKCE with S256 is required")
	default:
		c := token(24)
		now := time.Now()
		s.mu.Lock()
		for k, g := range s.codes {
			if now.After(g.expires) {
				delete(s.codes, k)
			}
		}
		if len(s.codes) >= maxTokens {
			s.mu.Unlock()
			http.Error(w, "too many pending codes", http.StatusServiceUnavailable)
			return
		}
		s.codes[c] = grant{redirectURI: redirectURI, challenge: challenge, nonce: q.Get("nonce"), expires: now.Add(codeTTL)}
		s.mu.Unlock()
		back.Set("code", c)
		s.log.Info("devoidc: approved", "user", s.user().Email, "redirectURI", redirectURI)
	}
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
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
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code")) // single use, whatever happens next
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case !ok || time.Now().After(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case f.Get("redirect_uri") != g.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorisation request")
		return
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	now := time.Now()
	claims := s.userClaims()
	claims["iss"] = s.cfg.Issuer
	claims["aud"] = s.cfg.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(tokenTTL).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "encoding the ID token")
		return
	}
	idToken, err := jws.Sign(jws.Header{Alg: jws.RS256, Typ: "JWT", Kid: s.kid}, payload, s.key)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing the ID token")
		return
	}
	access := token(24)
	s.mu.Lock()
	for k, exp := range s.access {
		if now.After(exp) {
			delete(s.access, k)
		}
	}
	if len(s.access) < maxTokens {
		s.access[access] = now.Add(tokenTTL)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer",
		"expires_in": int(tokenTTL.Seconds()), "scope": "openid email profile", "id_token": idToken})
}

// SetUser changes the account the provider approves from now on.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	s.cfg.User = u
	s.mu.Unlock()
}

func (s *Server) user() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.User
}

// switchUser serves POST /dev/user (form field email): the approved
// account becomes that address, verified, with subject "dev-<local part>",
// and the previous address is answered, so that a test can sign in as a
// second person and switch back. It is as open as the rest of this
// development provider, which approves anyone.
func (s *Server) switchUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	email := strings.TrimSpace(r.PostFormValue("email"))
	local, _, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(email) > 256 {
		http.Error(w, "a form field email=<address> is required", http.StatusBadRequest)
		return
	}
	prev := s.user()
	s.SetUser(User{Subject: "dev-" + local, Email: email, EmailVerified: true, Name: local})
	writeJSON(w, http.StatusOK, map[string]any{"previous": prev.Email})
}

func (s *Server) userClaims() map[string]any {
	u := s.user()
	out := map[string]any{"sub": u.Subject}
	if u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if u.Name != "" {
		out["name"] = u.Name
	}
	return out
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, known := s.access[at]
	s.mu.Unlock()
	if !ok || !known || time.Now().After(exp) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "unknown or expired access token")
		return
	}
	writeJSON(w, http.StatusOK, s.userClaims())
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	pub := &s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": jws.RS256, "kid": s.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}
