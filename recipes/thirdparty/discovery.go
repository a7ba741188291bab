package thirdparty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

const (
	discoveryTTL   = 24 * time.Hour
	jwksTTL        = time.Hour
	jwksMinRefresh = time.Minute // at most one forced JWKS fetch per minute
	maxFetchBytes  = 1 << 20
)

// discoveryDoc is the part of an OpenID Provider Metadata document we use.
type discoveryDoc struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

type cachedDoc struct {
	doc     discoveryDoc
	fetched time.Time
}

// discoveryCache holds discovery documents by URL.
type discoveryCache struct {
	mu   sync.Mutex
	docs map[string]cachedDoc
}

// wellKnown turns an issuer URL into its discovery URL.
func wellKnown(endpoint string) string {
	const suffix = "/.well-known/openid-configuration"
	if strings.HasSuffix(endpoint, suffix) {
		return endpoint
	}
	return strings.TrimRight(endpoint, "/") + suffix
}

func (dc *discoveryCache) get(ctx context.Context, hc *http.Client, endpoint string, now time.Time) (discoveryDoc, error) {
	u := wellKnown(endpoint)
	dc.mu.Lock()
	defer dc.mu.Unlock() // serialises fetches: one request per URL, not one per caller
	if d, ok := dc.docs[u]; ok && now.Sub(d.fetched) < discoveryTTL {
		return d.doc, nil
	}
	var doc discoveryDoc
	if err := fetchJSON(ctx, hc, u, "", &doc); err != nil {
		if d, ok := dc.docs[u]; ok { // a stale document beats none while the provider is down
			return d.doc, nil
		}
		return discoveryDoc{}, err
	}
	if doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" || doc.Issuer == "" {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document %s lacks issuer, authorization_endpoint or token_endpoint", ErrProvider, u)
	}
	// OpenID Connect Discovery §4.3: the issuer must be the URL the document
	// was fetched from (Microsoft's "{tenantid}" template excepted).
	if want := strings.TrimSuffix(u, "/.well-known/openid-configuration"); !strings.Contains(doc.Issuer, "{tenantid}") &&
		strings.TrimRight(doc.Issuer, "/") != strings.TrimRight(want, "/") {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document %s names the issuer %q", ErrProvider, u, doc.Issuer)
	}
	if dc.docs == nil {
		dc.docs = map[string]cachedDoc{}
	}
	dc.docs[u] = cachedDoc{doc: doc, fetched: now}
	return doc, nil
}

// resolve returns a copy of p with the endpoints it left empty filled in
// from its discovery document.
func (r *Recipe) resolve(ctx context.Context, p *Provider) (*Provider, error) {
	if p.OIDCDiscoveryEndpoint == "" {
		return p, nil
	}
	doc, err := r.discovery.get(ctx, r.httpClient, p.OIDCDiscoveryEndpoint, r.now())
	if err != nil {
		return nil, err
	}
	q := *p
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&q.AuthURL, doc.AuthorizationEndpoint)
	fill(&q.TokenURL, doc.TokenEndpoint)
	fill(&q.UserInfoURL, doc.UserinfoEndpoint)
	fill(&q.JWKSURL, doc.JWKSURI)
	fill(&q.Issuer, doc.Issuer)
	// Knowing the client authentication method spares x/oauth2's guess,
	// which costs a failed request and, with single-use codes, the code.
	if q.AuthStyle == oauth2.AuthStyleAutoDetect {
		switch {
		case len(doc.TokenEndpointAuthMethods) == 0 || slices.Contains(doc.TokenEndpointAuthMethods, "client_secret_basic"):
			q.AuthStyle = oauth2.AuthStyleInHeader // the spec's default method
		case slices.Contains(doc.TokenEndpointAuthMethods, "client_secret_post"):
			q.AuthStyle = oauth2.AuthStyleInParams
		}
	}
	if len(doc.CodeChallengeMethodsSupported) > 0 && !slices.Contains(doc.CodeChallengeMethodsSupported, "S256") {
		q.DisablePKCE = true
	}
	return &q, nil
}

// fetchJSON GETs url (with a bearer token when one is given) and decodes
// its JSON answer into v, reading at most maxFetchBytes.
func fetchJSON(ctx context.Context, hc *http.Client, url, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProvider, err)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrProviderUnavailable, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrProviderUnavailable, url, err)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%w: GET %s: HTTP %d", ErrProviderUnavailable, url, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: HTTP %d: %.200s", ErrProvider, url, resp.StatusCode, body)
	}
	if len(body) > maxFetchBytes {
		return fmt.Errorf("%w: GET %s: answer larger than %d bytes", ErrProvider, url, maxFetchBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: GET %s: answer is not JSON: %v", ErrProvider, url, err)
	}
	return nil
}

// Errors the recipe's Go API and hooks may see. Provider failures reach the
// frontend as GENERAL_ERROR with a message that names the provider; the
// cause is logged.
var (
	// ErrProvider: the provider answered, but not as expected (a refused
	// code, a malformed answer, an error status).
	ErrProvider = errors.New("thirdparty: provider error")
	// ErrProviderUnavailable: the provider could not be reached or answered
	// with a 5xx.
	ErrProviderUnavailable = errors.New("thirdparty: provider unavailable")
	// ErrInvalidIDToken: an ID token failed verification (signature,
	// issuer, audience, expiry or nonce).
	ErrInvalidIDToken = errors.New("thirdparty: invalid ID token")
)
