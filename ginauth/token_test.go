package ginauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/models"
)

// forge signs payload with the harness's real current key and the given
// header changes, to build tokens that are validly signed but wrong.
func forge(t *testing.T, h *harness, hdr jws.Header, payload map[string]any) string {
	t.Helper()
	k, err := h.auth.keys.signer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Alg == "" {
		hdr.Alg = k.alg
	}
	if hdr.Kid == "" {
		hdr.Kid = k.kid
	}
	if hdr.Typ == "" {
		hdr.Typ = "JWT"
	}
	if hdr.Version == "" {
		hdr.Version = "5"
	}
	body, _ := json.Marshal(payload)
	tok, err := jws.Sign(hdr, body, k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func validPayload(h *harness) map[string]any {
	now := h.clock.Now()
	return map[string]any{"sub": "u1", "rsub": "u1", "tId": "public", "sessionHandle": "h1", "refreshTokenHash1": "x",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "iss": "http://localhost:3001/auth"}
}

func with(p map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range p {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestTokenAttacks(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.SigningAlgorithm = "RS256" })
	p := validPayload(h)
	now := h.clock.Now()

	// HS256 signed with the RSA public key as the HMAC secret: the classic
	// algorithm confusion.
	k, _ := h.auth.keys.signer(t.Context())
	pubDER, _ := x509.MarshalPKIXPublicKey(k.pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsHeader, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": k.kid})
	body, _ := json.Marshal(p)
	input := base64.RawURLEncoding.EncodeToString(hsHeader) + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, pubPEM)
	mac.Write([]byte(input))
	hsToken := input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	// A token signed by an attacker's own RSA key, pointing at it with jku.
	evil, _ := rsa.GenerateKey(rand.Reader, 2048)
	evilTok, _ := jws.Sign(jws.Header{Alg: "RS256", Typ: "JWT", Kid: k.kid, Version: "5"}, body, evil)

	cases := []struct {
		name  string
		token string
		code  int // 402: refused as "no session" rather than "try refresh token"
	}{
		{"valid forged-by-us", forge(t, h, jws.Header{}, p), 200},
		{"leeway on exp", forge(t, h, jws.Header{}, with(p, "exp", now.Add(-3*time.Second).Unix())), 200},
		{"HS256 with public key", hsToken, 401},
		{"attacker key same kid", evilTok, 401},
		{"jku header", forge(t, h, jws.Header{}, p) + "", 200}, // control: replaced below
		{"unknown kid", forge(t, h, jws.Header{Kid: "d-1-zzz"}, p), 401},
		{"hostile kid", forge(t, h, jws.Header{Kid: "../../etc/passwd"}, p), 401},
		{"no exp", forge(t, h, jws.Header{}, with(p, "exp", nil)), 402},
		{"past exp", forge(t, h, jws.Header{}, with(p, "exp", now.Add(-time.Minute).Unix())), 401},
		{"string exp", forge(t, h, jws.Header{}, with(p, "exp", "never")), 402},
		{"future iat", forge(t, h, jws.Header{}, with(p, "iat", now.Add(time.Hour).Unix())), 401},
		{"future nbf", forge(t, h, jws.Header{}, with(p, "nbf", now.Add(time.Hour).Unix())), 401},
		{"wrong iss", forge(t, h, jws.Header{}, with(p, "iss", "https://evil.example/auth")), 401},
		{"no iss", forge(t, h, jws.Header{}, with(p, "iss", nil)), 401},
		{"oauth token type", forge(t, h, jws.Header{}, with(p, "stt", 1)), 402},
		{"no sub", forge(t, h, jws.Header{}, with(p, "sub", nil)), 402},
		{"no session handle", forge(t, h, jws.Header{}, with(p, "sessionHandle", nil)), 402},
	}
	cases[4].token = jkuToken(t, h, p)
	cases[4].code = 401
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client("header")
			c.Access = tc.token
			r := c.do("GET", "/me", "")
			switch tc.code {
			case 200:
				expect(t, r, 200, "")
			case 402:
				// Not shaped like an access token (supertokens-node's
				// validateAccessTokenStructure): ignored, so no session.
				expect(t, r, 401, "unauthorised")
			default:
				expect(t, r, 401, "try refresh token")
			}
		})
	}
}

// jkuToken is validly signed by our key but carries a jku header.
func jkuToken(t *testing.T, h *harness, p map[string]any) string {
	k, _ := h.auth.keys.signer(t.Context())
	hb, _ := json.Marshal(map[string]string{"alg": k.alg, "kid": k.kid, "jku": "https://evil.example/jwks"})
	body, _ := json.Marshal(p)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(body)
	d := sha256.Sum256([]byte(input))
	sig, err := k.priv.(*rsa.PrivateKey).Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestJWKSVerifiesIssuedTokens(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Session.SigningAlgorithm = SigningAlgorithm(alg) })
			cl := h.client("header")
			cl.login("u1")
			r := cl.do("GET", "/auth/jwt/jwks.json", "")
			expect(t, r, 200, "")
			keys := r.body["keys"].([]any)
			if len(keys) != 1 {
				t.Fatalf("jwks %s", r.Body)
			}
			jwk := keys[0].(map[string]any)
			pub := publicKeyFromJWK(t, jwk)
			p, err := jws.Parse(cl.Access)
			if err != nil {
				t.Fatal(err)
			}
			if p.Header.Kid != jwk["kid"] || jwk["alg"] != alg || jwk["use"] != "sig" {
				t.Fatalf("kid %s vs jwk %v", p.Header.Kid, jwk)
			}
			if err := p.Verify(alg, pub); err != nil {
				t.Fatalf("token does not verify with the published key: %v", err)
			}
			r = cl.do("GET", "/auth/.well-known/openid-configuration", "")
			if r.body["issuer"] != "http://localhost:3001/auth" || r.body["jwks_uri"] != "http://localhost:3001/auth/jwt/jwks.json" {
				t.Fatalf("openid configuration %s", r.Body)
			}
		})
	}
}

func publicKeyFromJWK(t *testing.T, jwk map[string]any) crypto.PublicKey {
	t.Helper()
	dec := func(k string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(jwk[k].(string))
		if err != nil {
			t.Fatalf("jwk %s: %v", k, err)
		}
		return b
	}
	switch jwk["kty"] {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec("n")), E: int(new(big.Int).SetBytes(dec("e")).Int64())}
	case "EC":
		raw := append([]byte{4}, append(dec("x"), dec("y")...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	case "OKP":
		return ed25519.PublicKey(dec("x"))
	}
	t.Fatalf("unknown kty %v", jwk["kty"])
	return nil
}

func TestKeyRotation(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Session.KeyRotationInterval = 2 * time.Hour
		c.Session.AccessTokenValidity = time.Hour
	})
	cl := h.client("header")
	cl.login("u1")
	oldToken := cl.Access
	oldKid := mustKid(t, oldToken)

	h.clock.Advance(2*time.Hour - 10*time.Minute)
	cl.login("u1")
	if mustKid(t, cl.Access) != oldKid {
		t.Fatal("rotated before the interval")
	}
	tokenBeforeRotation := cl.Access

	h.clock.Advance(20 * time.Minute) // past the rotation point
	cl.login("u1")
	newKid := mustKid(t, cl.Access)
	if newKid == oldKid {
		t.Fatal("key did not rotate")
	}
	// The token signed by the old key just before rotation still verifies.
	c := h.client("header")
	c.Access = tokenBeforeRotation
	expect(t, c.do("GET", "/me", ""), 200, "")
	r := c.do("GET", "/auth/jwt/jwks.json", "")
	if n := len(r.body["keys"].([]any)); n != 2 {
		t.Fatalf("jwks has %d keys during the overlap, want 2", n)
	}
	// A second instance on the same database verifies tokens signed after
	// it started (it reloads on an unknown kid).
	var rows []models.SigningKey
	h.auth.db.Find(&rows)
	if len(rows) != 2 {
		t.Fatalf("%d keys stored", len(rows))
	}
	// After the old key's tokens have all expired, it no longer verifies.
	h.clock.Advance(time.Hour + time.Minute)
	expect(t, c.do("GET", "/me", ""), 401, "try refresh token")
	r = c.do("GET", "/auth/jwt/jwks.json", "")
	if n := len(r.body["keys"].([]any)); n != 1 {
		t.Fatalf("jwks has %d keys after the overlap, want 1", n)
	}
	_ = oldToken
}

func TestSecondInstanceLearnsNewKeys(t *testing.T) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	cfg.Session.KeyRotationInterval = time.Hour
	a1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour + time.Second)
	_, tok, err := a1.CreateSessionTokens(t.Context(), NewSession{UserID: "u"}) // a1 rotates
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(reloadInterval)
	r := gin.New()
	r.GET("/me", a2.VerifySession(), func(c *gin.Context) { c.Status(200) })
	h := &harness{t: t, auth: a2, clock: clk, r: r}
	c := h.client("header")
	c.Access = tok.AccessToken
	expect(t, c.do("GET", "/me", ""), 200, "")
}

func mustKid(t *testing.T, tok string) string {
	t.Helper()
	p, err := jws.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	return p.Header.Kid
}

func TestRoutesAndTenants(t *testing.T) {
	h := newHarness(t, nil)
	// A recipe-like route that reports its tenant.
	h.auth.addRoute("test", Route{Method: "GET", Path: "/whoami", Handler: func(c *gin.Context) {
		c.JSON(200, gin.H{"tenant": TenantID(c)})
	}})
	// Without a tenant policy only the public tenant exists.
	expect(t, h.client("header").do("GET", "/auth/acme-1/whoami", ""), 404, "tenant not found")
	h.auth.tenantPolicy = &TenantPolicy{Resolve: func(ctx context.Context, id string) (string, error) {
		if id == "acme-1" {
			return id, nil
		}
		return "", unknownTenant(id)
	}}
	grouped := gin.New()
	h.auth.RegisterRoutes(grouped.Group("/"))
	grouped.GET("/after", func(c *gin.Context) { c.JSON(200, gin.H{"tenant": "none"}) })

	found := false
	for _, r := range grouped.Routes() {
		if r.Path == "/auth/session/refresh" && r.Method == "POST" {
			found = true
		}
	}
	if !found {
		t.Fatal("RegisterRoutes did not register /auth/session/refresh as a gin route")
	}
	for name, engine := range map[string]*gin.Engine{"middleware": h.r, "routes": grouped} {
		t.Run(name, func(t *testing.T) {
			hh := &harness{t: t, auth: h.auth, clock: h.clock, r: engine}
			c := hh.client("header")
			cases := []struct {
				path, tenant string
				code         int
			}{
				{"/auth/whoami", "public", 200},
				{"/auth/acme-1/whoami", "acme-1", 200},
				{"/auth/ACME-1/whoami", "acme-1", 200}, // ids are case-insensitive
				{"/auth/other/whoami", "", 404},
				{"/auth/bad_tenant/whoami", "", 404},
				{"/auth/acme/session/refresh", "", 404}, // refresh takes no tenant
			}
			for _, tc := range cases {
				method := "GET"
				if strings.HasSuffix(tc.path, "refresh") {
					method = "POST"
				}
				r := c.do(method, tc.path, "")
				if r.Code != tc.code || (tc.code == 200 && r.body["tenant"] != tc.tenant) {
					t.Errorf("%s: %d %s", tc.path, r.Code, r.Body)
				}
			}
			// Refresh behaves the same both ways.
			expect(t, c.do("POST", "/auth/session/refresh", ""), 401, "unauthorised")
		})
	}
	// The middleware leaves everything else alone.
	c := h.client("header")
	if r := c.do("GET", "/authx", ""); r.Code != 404 {
		t.Fatalf("/authx: %d", r.Code)
	}
}

func TestDeadDatabaseGivesCleanErrors(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("header")
	cl.login("u1")
	sqlDB, _ := h.auth.db.DB()
	_ = sqlDB.Close()
	r := cl.do("POST", "/auth/session/refresh", "")
	expect(t, r, 503, "the authentication database is unavailable, try again later")
	r = h.client("header").do("POST", "/login?user=u2", "")
	expect(t, r, 503, "")
	// A plain verify does not need the database at all.
	expect(t, cl.do("GET", "/me", ""), 200, "")
	expect(t, cl.do("GET", "/strict", ""), 503, "")
}

// A forged key id must not keep a real new key out for the whole reload
// interval.
func TestForgedKidDoesNotBlockNewKey(t *testing.T) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	cfg.Session.KeyRotationInterval = time.Hour
	a1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.GET("/me", a2.VerifySession(), func(c *gin.Context) { c.Status(200) })
	h := &harness{t: t, auth: a2, clock: clk, r: r}

	clk.Advance(time.Hour + time.Second)
	// An attacker sends a token with a made-up recent kid: a2 reloads.
	forged := h.client("header")
	forged.Access = forge(t, &harness{t: t, auth: a2, clock: clk}, jws.Header{Kid: "d-" + strconv.FormatInt(clk.Now().UnixMilli(), 10) + "-x"}, validPayload(h))
	expect(t, forged.do("GET", "/me", ""), 401, "try refresh token")
	// a1 rotates just after; its tokens verify on a2 within a second or two.
	clk.Advance(500 * time.Millisecond)
	_, tok, err := a1.CreateSessionTokens(t.Context(), NewSession{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(1500 * time.Millisecond)
	c := h.client("header")
	c.Access = tok.AccessToken
	expect(t, c.do("GET", "/me", ""), 200, "")
	// Forged kids from long ago get no reload at all within the interval.
	old := h.client("header")
	old.Access = forge(t, &harness{t: t, auth: a2, clock: clk}, jws.Header{Kid: "d-1000-x"}, validPayload(h))
	before := a2.keys.lastReload
	clk.Advance(2 * time.Second)
	expect(t, old.do("GET", "/me", ""), 401, "try refresh token")
	if a2.keys.lastReload != before {
		t.Fatal("an old forged kid caused a reload")
	}
}

func TestCheckSignIn(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	if id, err := h.auth.checkSignIn(ctx, "", "emailpassword"); id != "public" || err != nil {
		t.Fatalf("no policy, public: %q, %v", id, err)
	}
	if _, err := h.auth.checkSignIn(ctx, "acme", "emailpassword"); !isKind(err, ErrUnknownTenant) {
		t.Fatalf("no policy, acme: %v", err)
	}
	h.auth.tenantPolicy = &TenantPolicy{
		Resolve: func(ctx context.Context, id string) (string, error) { return id, nil },
		AllowFirstFactor: func(ctx context.Context, tenant, factor string) (bool, error) {
			return tenant != "acme" || factor == "thirdparty", nil
		},
	}
	if id, err := h.auth.checkSignIn(ctx, "ACME", "thirdparty"); id != "acme" || err != nil {
		t.Fatalf("acme thirdparty: %q, %v", id, err)
	}
	_, err := h.auth.checkSignIn(ctx, "acme", "emailpassword")
	if !isKind(err, ErrSignInNotAllowed) || err.(*Error).Message != "signing in with emailpassword is not enabled for this tenant" {
		t.Fatalf("acme emailpassword: %v", err)
	}
}
