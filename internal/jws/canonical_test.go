package jws

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// A 64-byte signature is 86 base64url characters whose last one carries 2
// bits of data and 4 unused bits: 16 spellings decode to the same bytes.
// Only the canonical one (unused bits zero) may parse, or one token has 16
// strings that all verify (issue 13 item 5). Removing Strict() from
// strictB64 makes this fail.
func TestSignatureHasOneSpelling(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for alg, key := range map[string]any{ES256: ecKey, EdDSA: edKey} {
		t.Run(alg, func(t *testing.T) {
			var tok string
			var err error
			switch k := key.(type) {
			case *ecdsa.PrivateKey:
				tok, err = Sign(Header{Alg: alg, Kid: "k1"}, []byte(`{"a":1}`), k)
			case ed25519.PrivateKey:
				tok, err = Sign(Header{Alg: alg, Kid: "k1"}, []byte(`{"a":1}`), k)
			}
			if err != nil {
				t.Fatal(err)
			}
			sig := tok[strings.LastIndexByte(tok, '.')+1:]
			if len(sig) != 86 {
				t.Fatalf("signature is %d characters, want 86", len(sig))
			}
			p, err := Parse(tok)
			if err != nil || p.Verify(alg, publicOf(key)) != nil {
				t.Fatalf("canonical token refused: %v", err)
			}
			last := strings.IndexByte(b64url, tok[len(tok)-1])
			alternatives := 0
			for low := 1; low < 16; low++ {
				alt := tok[:len(tok)-1] + string(b64url[last|low])
				alternatives++
				_, err := Parse(alt)
				if !errors.Is(err, ErrSignatureEncoding) {
					t.Errorf("alternative spelling %q: %v, want ErrSignatureEncoding", alt[len(alt)-4:], err)
				}
			}
			if alternatives != 15 {
				t.Fatalf("%d alternatives tried, want 15", alternatives)
			}
		})
	}
}

// Padding, the standard alphabet's '+' and '/', and line breaks (which
// encoding/base64 would skip) are refused in every part of a token.
func TestNonCanonicalBase64Refused(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// A payload whose encoding contains '_' ("???" is "Pz8_"), so that the
	// standard alphabet's spelling differs.
	tok, err := Sign(Header{Alg: ES256, Kid: "k1"}, []byte(`{"a":"?????????"}`), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(tok); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	std := strings.NewReplacer("-", "+", "_", "/")
	for i, name := range []string{"header", "payload", "signature"} {
		mod := func(f func(string) string) string {
			ps := append([]string(nil), parts...)
			ps[i] = f(ps[i])
			return strings.Join(ps, ".")
		}
		cases := map[string]string{
			"padding":  mod(func(s string) string { return s + "=" }),
			"padding2": mod(func(s string) string { return s + "==" }),
			"newline":  mod(func(s string) string { return s[:2] + "\n" + s[2:] }),
			"CR":       mod(func(s string) string { return s[:2] + "\r" + s[2:] }),
			"CRLF end": mod(func(s string) string { return s + "\r\n" }),
			"space":    mod(func(s string) string { return s[:2] + " " + s[2:] }),
		}
		if s := std.Replace(parts[i]); s != parts[i] {
			cases["standard alphabet"] = mod(std.Replace)
		} else if name == "payload" {
			t.Fatal("test payload has no '-' or '_' in its encoding")
		}
		for cname, bad := range cases {
			if _, err := Parse(bad); err == nil {
				t.Errorf("%s with %s parsed: %q", name, cname, bad)
			} else if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s with %s: %v, want ErrMalformed", name, cname, err)
			}
		}
	}
}
