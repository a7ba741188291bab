package thirdparty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

const (
	discoveryTTL   = 24 * time.Hour
	jwksTTL        = time.Hour
	jwksMinRefresh = time.Minute // at most one forced JWKS fetch per minute
	maxFetchBytes  = 1 << 20
)

// discoveryDoc is what we use of an OpenID Provider Metadata document.
type discoveryDoc struct {
	Issuer                        string
	AuthorizationEndpoint         string
	TokenEndpoint                 string
	UserinfoEndpoint              string
	JWKSURI                       string
	CodeChallengeMethodsSupported []string
	TokenEndpointAuthMethods      []string
}

type cachedDoc struct {
	doc     discoveryDoc
	fetched time.Time
}

// discoveryCache holds discovery documents by URL. No lock is held across
// a fetch: concurrent callers of one URL share one request (singleflight),
// so a provider that hangs delays only its own sign-ins.
type discoveryCache struct {
	mu     sync.Mutex
	docs   map[string]cachedDoc
	flight singleflight.Group
}

// issuerOf turns a discovery endpoint (an issuer URL, or its well-known
// document's URL) into the issuer URL go-oidc expects.
func issuerOf(endpoint string) string {
	const suffix = "/.well-known/openid-configuration"
	return strings.TrimSuffix(strings.TrimSuffix(endpoint, suffix), "/")
}

func (dc *discoveryCache) cached(issuer string) (cachedDoc, bool) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	d, ok := dc.docs[issuer]
	return d, ok
}

func (dc *discoveryCache) get(ctx context.Context, hc *http.Client, endpoint string, now time.Time) (discoveryDoc, error) {
	issuer := issuerOf(endpoint)
	old, had := dc.cached(issuer)
	if had && now.Sub(old.fetched) < discoveryTTL {
		return old.doc, nil
	}
	ch := dc.flight.DoChan(issuer, func() (any, error) {
		// Detached from the first caller's context (its deadline must not
		// fail the callers sharing the fetch); the HTTP client's timeout
		// bounds it.
		doc, err := discover(oidc.ClientContext(context.WithoutCancel(ctx), hc), issuer)
		if err != nil {
			return nil, err
		}
		dc.mu.Lock()
		if dc.docs == nil {
			dc.docs = map[string]cachedDoc{}
		}
		dc.docs[issuer] = cachedDoc{doc: doc, fetched: now}
		dc.mu.Unlock()
		return doc, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			if had { // a stale document beats none while the provider is down
				return old.doc, nil
			}
			return discoveryDoc{}, res.Err
		}
		return res.Val.(discoveryDoc), nil
	case <-ctx.Done():
		return discoveryDoc{}, fmt.Errorf("%w: discovery of %s: %v", ErrProviderUnavailable, issuer, ctx.Err())
	}
}

// discover fetches and checks a discovery document with go-oidc, which
// requires the document's issuer to be the URL it was fetched from (OpenID
// Connect Discovery §4.3). Microsoft's multi-tenant documents name a
// "{tenantid}" template instead; only that exception is let through, and
// ID tokens are then checked against the template with the token's tid.
func discover(ctx context.Context, issuer string) (discoveryDoc, error) {
	p, err := oidc.NewProvider(ctx, issuer)
	var mismatch *oidc.IssuerMismatchError
	if errors.As(err, &mismatch) && strings.Contains(mismatch.Discovered, "{tenantid}") {
		p, err = oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, mismatch.Discovered), issuer)
	}
	if err != nil {
		if errors.As(err, &mismatch) {
			return discoveryDoc{}, fmt.Errorf("%w: discovery document of %s names the issuer %q", ErrProvider, issuer, mismatch.Discovered)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return discoveryDoc{}, fmt.Errorf("%w: discovery of %s: %v", ErrProviderUnavailable, issuer, err)
		}
		if strings.HasPrefix(err.Error(), "5") { // "503 Service Unavailable: ..."
			return discoveryDoc{}, fmt.Errorf("%w: discovery of %s: HTTP %.200s", ErrProviderUnavailable, issuer, err)
		}
		return discoveryDoc{}, fmt.Errorf("%w: discovery of %s: %.200s", ErrProvider, issuer, err)
	}
	var extra struct {
		Issuer                   string   `json:"issuer"`
		JWKSURI                  string   `json:"jwks_uri"`
		CodeChallengeMethods     []string `json:"code_challenge_methods_supported"`
		TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&extra); err != nil {
		return discoveryDoc{}, fmt.Errorf("%w: discovery of %s: %v", ErrProvider, issuer, err)
	}
	ep := p.Endpoint()
	doc := discoveryDoc{
		Issuer:                        extra.Issuer,
		AuthorizationEndpoint:         ep.AuthURL,
		TokenEndpoint:                 ep.TokenURL,
		UserinfoEndpoint:              p.UserInfoEndpoint(),
		JWKSURI:                       extra.JWKSURI,
		CodeChallengeMethodsSupported: extra.CodeChallengeMethods,
		TokenEndpointAuthMethods:      extra.TokenEndpointAuthMethods,
	}
	if doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" || doc.Issuer == "" {
		return discoveryDoc{}, fmt.Errorf("%w: discovery document of %s lacks issuer, authorization_endpoint or token_endpoint", ErrProvider, issuer)
	}
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
