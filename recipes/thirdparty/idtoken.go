package thirdparty

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// idTokenLeeway is the clock skew allowed on exp, nbf and iat.
const idTokenLeeway = time.Minute

// idTokenAlgs are the signature algorithms accepted on ID tokens. The
// algorithm is pinned by the key that verifies: an RSA key only verifies
// RS256, a P-256 key only ES256.
var idTokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// keySet is one provider's JWKS as last fetched.
type keySet struct {
	keys    []jose.JSONWebKey
	fetched time.Time
}

// jwksCache holds providers' signing keys by JWKS URL and fetches them for
// go-oidc's verifier (it implements the fetch policy behind oidc.KeySet).
// A token with an unknown kid triggers one re-fetch (keys rotate), at most
// once per jwksMinRefresh per URL, so that junk tokens cannot make us
// hammer the provider. No lock is held across a fetch: concurrent callers
// of one URL share one request (singleflight), and a provider that hangs
// delays only its own sign-ins.
type jwksCache struct {
	mu     sync.Mutex
	sets   map[string]*keySet
	flight singleflight.Group
}

func (jc *jwksCache) cached(url string) *keySet {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return jc.sets[url]
}

// keys returns the key set for url, fetching it when there is none, when
// it is older than jwksTTL, or when refresh asks for it and the last fetch
// is older than jwksMinRefresh.
func (jc *jwksCache) keys(ctx context.Context, hc *http.Client, url string, refresh bool, now time.Time) (*keySet, error) {
	ks := jc.cached(url)
	if ks != nil {
		age := now.Sub(ks.fetched)
		if age < jwksTTL && (!refresh || age < jwksMinRefresh) {
			return ks, nil
		}
	}
	ch := jc.flight.DoChan(url, func() (any, error) {
		// Detached from the first caller's context: its deadline must not
		// fail the callers that share this fetch. The HTTP client's own
		// timeout bounds it.
		keys, err := fetchJWKS(context.WithoutCancel(ctx), hc, url)
		if err != nil {
			return nil, err
		}
		fresh := &keySet{keys: keys, fetched: now}
		jc.mu.Lock()
		if jc.sets == nil {
			jc.sets = map[string]*keySet{}
		}
		jc.sets[url] = fresh
		jc.mu.Unlock()
		return fresh, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			if ks != nil { // keep using what we had while the provider is down
				return ks, nil
			}
			return nil, res.Err
		}
		return res.Val.(*keySet), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: GET %s: %v", ErrProviderUnavailable, url, ctx.Err())
	}
}

// fetchJWKS reads a JWKS and keeps the keys we accept: RSA of at least 2048
// bits for RS256 and P-256 for ES256, for signing.
func fetchJWKS(ctx context.Context, hc *http.Client, url string) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := fetchJSON(ctx, hc, url, "", &raw); err != nil {
		return nil, err
	}
	var out []jose.JSONWebKey
	for _, msg := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(msg); err != nil {
			continue // a key we cannot read is skipped, not fatal
		}
		if usableKey(k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no usable RS256 or ES256 key", ErrProvider, url)
	}
	return out, nil
}

func usableKey(k jose.JSONWebKey) bool {
	if k.Use != "" && k.Use != "sig" {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return (k.Algorithm == "" || k.Algorithm == string(jose.RS256)) && pub.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return (k.Algorithm == "" || k.Algorithm == string(jose.ES256)) && pub.Curve == elliptic.P256()
	}
	return false
}

// find returns the keys a token with this kid may be verified with: the key
// of that id, or, for a token without kid, the only key of the set.
func (ks *keySet) find(kid string) (jose.JSONWebKey, bool) {
	for _, k := range ks.keys {
		if k.KeyID == kid {
			return k, true
		}
	}
	if kid == "" && len(ks.keys) == 1 {
		return ks.keys[0], true
	}
	return jose.JSONWebKey{}, false
}

// remoteKeys is the oidc.KeySet of one provider's JWKS URL.
type remoteKeys struct {
	cache *jwksCache
	hc    *http.Client
	url   string
	now   func() time.Time
}

var errBadSignature = errors.New("signature does not verify")

// VerifySignature implements oidc.KeySet.
func (rk remoteKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	sig, err := jose.ParseSigned(raw, idTokenAlgs)
	if err != nil {
		return nil, err
	}
	if len(sig.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	kid := sig.Signatures[0].Header.KeyID
	ks, err := rk.cache.keys(ctx, rk.hc, rk.url, false, rk.now())
	if err != nil {
		return nil, err
	}
	key, ok := ks.find(kid)
	if !ok {
		if ks, err = rk.cache.keys(ctx, rk.hc, rk.url, true, rk.now()); err != nil {
			return nil, err
		}
		if key, ok = ks.find(kid); !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
	}
	payload, err := sig.Verify(key)
	if err != nil {
		return nil, errBadSignature
	}
	return payload, nil
}

// idTokenCheck is what an ID token must satisfy.
type idTokenCheck struct {
	jwksURL  string
	issuers  []string // accepted iss values; "{tenantid}" matches the tid claim
	clientID string
	nonce    string // required value of the nonce claim, when not empty
	now      time.Time
}

// verifyIDToken checks an ID token with go-oidc (signature against the
// provider's keys, audience, expiry) and then what go-oidc leaves to us:
// the issuer against several accepted values and Microsoft's {tenantid}
// template, the authorised party, iat and the nonce. It returns the claims.
func (r *Recipe) verifyIDToken(ctx context.Context, raw string, chk idTokenCheck) (map[string]any, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidIDToken, fmt.Sprintf(format, args...))
	}
	if len(raw) > 16<<10 {
		return nil, bad("too long")
	}
	algs := make([]string, len(idTokenAlgs))
	for i, a := range idTokenAlgs {
		algs[i] = string(a)
	}
	verifier := oidc.NewVerifier("", remoteKeys{cache: &r.jwks, hc: r.httpClient, url: chk.jwksURL, now: func() time.Time { return chk.now }},
		&oidc.Config{
			ClientID:             chk.clientID,
			SupportedSigningAlgs: algs,
			SkipIssuerCheck:      true, // checked below, against every accepted issuer
			// go-oidc allows no skew on exp: move its clock back by ours.
			Now: func() time.Time { return chk.now.Add(-idTokenLeeway) },
		})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return nil, bad("expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
		case errors.Is(err, ErrProviderUnavailable), errors.Is(err, ErrProvider):
			return nil, err
		}
		return nil, bad("%s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	var cl map[string]any
	dec := json.NewDecoder(strings.NewReader(string(mustClaims(tok))))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return nil, bad("payload is not a JSON object")
	}

	tid, _ := cl["tid"].(string)
	issOK := false
	for _, want := range chk.issuers {
		if want == "" {
			continue
		}
		if strings.Contains(want, "{tenantid}") {
			if tid == "" {
				continue
			}
			want = strings.ReplaceAll(want, "{tenantid}", tid)
		}
		if tok.Issuer == want {
			issOK = true
			break
		}
	}
	if !issOK {
		return nil, bad("issuer %q is not the provider's", tok.Issuer)
	}
	if azp, ok := cl["azp"].(string); ok && len(tok.Audience) > 1 && azp != chk.clientID {
		return nil, bad("authorised party %q is not the client", azp)
	}
	if !tok.IssuedAt.IsZero() && chk.now.Add(idTokenLeeway).Before(tok.IssuedAt) {
		return nil, bad("issued in the future")
	}
	if chk.nonce != "" && tok.Nonce != chk.nonce {
		return nil, bad("nonce does not match this sign-in")
	}
	if tok.Subject == "" {
		return nil, bad("no sub")
	}
	return cl, nil
}

// mustClaims returns the token's raw claims; go-oidc has decoded them
// already, so this cannot fail for a verified token.
func mustClaims(tok *oidc.IDToken) json.RawMessage {
	var raw json.RawMessage
	if err := tok.Claims(&raw); err != nil {
		return json.RawMessage("null")
	}
	return raw
}

// nonceFor derives the nonce bound to an authorisation from its PKCE
// verifier. The verifier never leaves the browser and our server, so only
// the sign-in that started the authorisation can present an ID token with
// this nonce; and the server needs to store nothing between the two
// requests.
func nonceFor(verifier string) string {
	sum := sha256.Sum256([]byte("ginauth-thirdparty-nonce:" + verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
