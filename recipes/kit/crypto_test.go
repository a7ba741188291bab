package kit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestTokenHashAndID(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok := Token(32)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 || seen[tok] {
			t.Fatalf("Token(32) = %q: %v, %d bytes, repeated %v", tok, err, len(raw), seen[tok])
		}
		seen[tok] = true
	}
	// SHA-256 of "abc" (FIPS 180-2): the stored value of a token.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashToken(abc) = %s", got)
	}
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if a, b := NewID(), NewID(); !re.MatchString(a) || a == b {
		t.Fatalf("NewID() = %q, %q", a, b)
	}
}

func TestSignJWS(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	payload := []byte(`{"sub":"u1"}`)
	tok, err := SignJWS(ES256, "k1", "JWT", payload, ec)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]string
	if err := json.Unmarshal(hb, &h); err != nil || h["alg"] != "ES256" || h["kid"] != "k1" || h["typ"] != "JWT" {
		t.Fatalf("header %s: %v", hb, err)
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(pb) != string(payload) {
		t.Fatalf("payload %s", pb)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(&ec.PublicKey, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("ES256 signature does not verify")
	}
	// typ and kid are left out when empty (Apple's client secret has no typ).
	tok, _ = SignJWS(ES256, "", "", payload, ec)
	hb, _ = base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if string(hb) != `{"alg":"ES256"}` {
		t.Fatalf("header %s", hb)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := SignJWS(ES256, "k", "", payload, rk); !errors.Is(err, ErrJWSKeyType) {
		t.Fatalf("ES256 with an RSA key: %v", err)
	}
	if _, err := SignJWS(RS256, "k", "", payload, rk); err != nil {
		t.Fatal(err)
	}
}

func TestSealer(t *testing.T) {
	key := func(b byte) []byte { k := make([]byte, SealKeySize); k[0] = b; return k }
	if _, err := NewSealer("l", key(1)[:16], nil); !errors.Is(err, ErrSealKeySize) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := NewSealer("", key(1), nil); err == nil {
		t.Fatal("empty label accepted")
	}
	old, _ := NewSealer("l", key(1), nil)
	sealed := old.Seal([]byte("secret"), "row1")
	if strings.Contains(sealed, "secret") || !strings.HasPrefix(sealed, "v1.") {
		t.Fatalf("sealed = %q", sealed)
	}
	if _, err := old.Open(sealed, "row2"); !errors.Is(err, ErrSealOpen) {
		t.Fatalf("opened under another row's aad: %v", err)
	}
	rotated, err := NewSealer("l", key(2), [][]byte{key(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, "row1"); err != nil || string(got) != "secret" || rotated.Current(sealed) {
		t.Fatalf("after rotation: %q, %v, current %v", got, err, rotated.Current(sealed))
	}
	if !rotated.Current(rotated.Seal([]byte("x"), "a")) {
		t.Fatal("a fresh value is not under the current key")
	}
	other, _ := NewSealer("other-label", key(1), nil)
	if _, err := other.Open(sealed, "row1"); !errors.Is(err, ErrSealOpen) {
		t.Fatalf("another label's sealer opened it: %v", err)
	}
}
