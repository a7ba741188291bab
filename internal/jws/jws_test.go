package jws

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := map[string]struct {
		key   any
		other any
	}{
		RS256: {rsaKey, &otherEC.PublicKey},
		ES256: {ecKey, &otherEC.PublicKey},
		EdDSA: {edKey, ed25519.PublicKey(make([]byte, 32))},
	}
	for alg, tc := range cases {
		t.Run(alg, func(t *testing.T) {
			var tok string
			var err error
			switch k := tc.key.(type) {
			case *rsa.PrivateKey:
				tok, err = Sign(Header{Alg: alg, Kid: "k1"}, []byte(`{"a":1}`), k)
			case *ecdsa.PrivateKey:
				tok, err = Sign(Header{Alg: alg, Kid: "k1"}, []byte(`{"a":1}`), k)
			case ed25519.PrivateKey:
				tok, err = Sign(Header{Alg: alg, Kid: "k1"}, []byte(`{"a":1}`), k)
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(tok)
			if err != nil || string(p.Payload) != `{"a":1}` || p.Header.Kid != "k1" {
				t.Fatalf("Parse: %+v, %v", p, err)
			}
			pub := publicOf(tc.key)
			if err := p.Verify(alg, pub); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := p.Verify(alg, tc.other); err == nil {
				t.Fatal("verified with another key")
			}
			for _, other := range []string{RS256, ES256, EdDSA} {
				if other != alg && !errors.Is(p.Verify(other, pub), ErrAlgorithm) {
					t.Fatalf("verified under %s", other)
				}
			}
		})
	}
}

func publicOf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return nil
}

func TestParseRefusesHostileHeaders(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, h := range []string{
		`{"alg":"RS256","jku":"https://evil/jwks"}`,
		`{"alg":"RS256","x5u":"https://evil/cert"}`,
		`{"alg":"RS256","jwk":{"kty":"RSA"}}`,
		`{"alg":"RS256","x5c":["MII"]}`,
		`{"alg":"RS256","crit":["exp"]}`,
		`{"alg":"RS256","\u006aku":"https://evil/jwks"}`,
	} {
		_, err := Parse(enc([]byte(h)) + "." + enc([]byte(`{}`)) + "." + enc([]byte("sig")))
		if !errors.Is(err, ErrHeader) {
			t.Errorf("%s: %v, want ErrHeader", h, err)
		}
	}
	for _, bad := range []string{"", "a", "a.b", "a.b.c.d", "!!.e30.AA", enc([]byte("{")) + ".e30.AA", "e30.!!.AA", "e30.e30.!!"} {
		if _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := Parse(enc([]byte(`{"alg":"none"}`)) + ".e30."); err != nil {
		t.Fatalf("an alg none token parses (and is refused by Verify): %v", err)
	}
	p, _ := Parse(enc([]byte(`{"alg":"none"}`)) + ".e30.")
	if !errors.Is(p.Verify(RS256, nil), ErrAlgorithm) {
		t.Fatal("alg none verified")
	}
}

// FuzzParse feeds arbitrary strings to the parser and verifier: nothing may
// panic, and nothing that does not carry a real signature may verify.
func FuzzParse(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := Sign(Header{Alg: ES256, Kid: "k"}, []byte(`{"sub":"u"}`), key)
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add(good + "x")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		if p.Verify(ES256, &key.PublicKey) == nil && s != good {
			// Only a token signed with the key can verify; ECDSA signatures
			// are randomised, so a fuzzer cannot produce another one, and
			// base64url is canonical only, so the token has one spelling.
			t.Fatalf("a token other than the signed one verified: %q", s)
		}
	})
}
