package thirdparty

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ginauth/ginauth/internal/jws"
)

// idTokenLeeway is the clock skew allowed on exp, nbf and iat.
const idTokenLeeway = time.Minute

// jwk is one key of a JSON Web Key Set, as far as we read it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// verifyKey is a usable public key with the one algorithm it verifies.
type verifyKey struct {
	alg string
	pub crypto.PublicKey
}

type keySet struct {
	keys    map[string]verifyKey // by kid ("" for a key without one)
	fetched time.Time
}

// jwksCache holds providers' signing keys by JWKS URL. A token with an
// unknown kid triggers one re-fetch (keys rotate), at most once per
// jwksMinRefresh per URL, so that junk tokens cannot make us hammer the
// provider.
type jwksCache struct {
	mu   sync.Mutex
	sets map[string]*keySet
}

func (ks *keySet) find(kid string) (verifyKey, bool) {
	if k, ok := ks.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(ks.keys) == 1 { // a token without kid, a set of one key
		for _, k := range ks.keys {
			return k, true
		}
	}
	return verifyKey{}, false
}

func (jc *jwksCache) key(ctx context.Context, hc *http.Client, url, kid string, now time.Time) (verifyKey, error) {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	if jc.sets == nil {
		jc.sets = map[string]*keySet{}
	}
	ks := jc.sets[url]
	fresh := ks != nil && now.Sub(ks.fetched) < jwksTTL
	if fresh {
		if k, ok := ks.find(kid); ok {
			return k, nil
		}
		if now.Sub(ks.fetched) < jwksMinRefresh {
			return verifyKey{}, fmt.Errorf("%w: unknown key id %q", ErrInvalidIDToken, kid)
		}
	}
	keys, err := fetchJWKS(ctx, hc, url)
	if err != nil {
		if ks != nil { // keep using what we had while the provider is down
			if k, ok := ks.find(kid); ok {
				return k, nil
			}
		}
		return verifyKey{}, err
	}
	ks = &keySet{keys: keys, fetched: now}
	jc.sets[url] = ks
	if k, ok := ks.find(kid); ok {
		return k, nil
	}
	return verifyKey{}, fmt.Errorf("%w: unknown key id %q", ErrInvalidIDToken, kid)
}

func fetchJWKS(ctx context.Context, hc *http.Client, url string) (map[string]verifyKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := fetchJSON(ctx, hc, url, "", &set); err != nil {
		return nil, err
	}
	out := map[string]verifyKey{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		vk, err := k.parse()
		if err != nil {
			continue // a key we cannot use is skipped, not fatal
		}
		out[k.Kid] = vk
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no usable RS256 or ES256 key", ErrProvider, url)
	}
	return out, nil
}

func (k jwk) parse() (verifyKey, error) {
	b64 := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && k.Alg != jws.RS256 {
			return verifyKey{}, fmt.Errorf("unsupported alg %s", k.Alg)
		}
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return verifyKey{}, fmt.Errorf("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return verifyKey{}, fmt.Errorf("weak RSA key")
		}
		return verifyKey{alg: jws.RS256, pub: pub}, nil
	case "EC":
		if k.Crv != "P-256" || (k.Alg != "" && k.Alg != jws.ES256) {
			return verifyKey{}, fmt.Errorf("unsupported curve %s / alg %s", k.Crv, k.Alg)
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) > 32 || len(y) > 32 {
			return verifyKey{}, fmt.Errorf("bad EC key")
		}
		point := make([]byte, 65)
		point[0] = 4
		copy(point[1+32-len(x):33], x)
		copy(point[33+32-len(y):], y)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point) // checks the point is on the curve
		if err != nil {
			return verifyKey{}, err
		}
		return verifyKey{alg: jws.ES256, pub: pub}, nil
	}
	return verifyKey{}, fmt.Errorf("unsupported key type %s", k.Kty)
}

// idTokenCheck is what an ID token must satisfy.
type idTokenCheck struct {
	jwksURL  string
	issuers  []string // accepted iss values; "{tenantid}" matches the tid claim
	clientID string
	nonce    string // required value of the nonce claim, when not empty
	now      time.Time
}

// verifyIDToken checks an ID token's signature against the provider's
// keys, then its issuer, audience, expiry and nonce, and returns its claims.
func (r *Recipe) verifyIDToken(ctx context.Context, raw string, chk idTokenCheck) (map[string]any, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidIDToken, fmt.Sprintf(format, args...))
	}
	if len(raw) > 16<<10 {
		return nil, bad("too long")
	}
	p, err := jws.Parse(raw)
	if err != nil {
		return nil, bad("%v", err)
	}
	if p.Header.Alg != jws.RS256 && p.Header.Alg != jws.ES256 {
		return nil, bad("algorithm %q is not RS256 or ES256", p.Header.Alg)
	}
	key, err := r.jwks.key(ctx, r.httpClient, chk.jwksURL, p.Header.Kid, chk.now)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(key.alg, key.pub); err != nil { // alg pinned by the key, never by the token
		return nil, bad("%v", err)
	}
	var cl map[string]any
	dec := json.NewDecoder(strings.NewReader(string(p.Payload)))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return nil, bad("payload is not a JSON object")
	}

	iss, _ := cl["iss"].(string)
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
		if iss == want {
			issOK = true
			break
		}
	}
	if !issOK {
		return nil, bad("issuer %q is not the provider's", iss)
	}

	var auds []string
	switch a := cl["aud"].(type) {
	case string:
		auds = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	audOK := false
	for _, a := range auds {
		if a == chk.clientID {
			audOK = true
		}
	}
	if !audOK {
		return nil, bad("audience %v is not the client %s", auds, chk.clientID)
	}
	if azp, ok := cl["azp"].(string); ok && len(auds) > 1 && azp != chk.clientID {
		return nil, bad("authorised party %q is not the client", azp)
	}

	exp, ok := numericDate(cl["exp"])
	if !ok {
		return nil, bad("no exp")
	}
	if !chk.now.Before(exp.Add(idTokenLeeway)) {
		return nil, bad("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok := numericDate(cl["nbf"]); ok && chk.now.Add(idTokenLeeway).Before(nbf) {
		return nil, bad("not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if iat, ok := numericDate(cl["iat"]); ok && chk.now.Add(idTokenLeeway).Before(iat) {
		return nil, bad("issued in the future")
	}
	if chk.nonce != "" {
		if n, _ := cl["nonce"].(string); n != chk.nonce {
			return nil, bad("nonce does not match this sign-in")
		}
	}
	if sub, _ := cl["sub"].(string); sub == "" {
		return nil, bad("no sub")
	}
	return cl, nil
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
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
