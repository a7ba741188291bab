package kit

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/internal/seal"
)

// Token returns n bytes from crypto/rand as unpadded base64url: the
// unguessable strings a recipe hands out (links, reset tokens, handles).
// 32 bytes (256 bits) is what the built-in recipes use for secrets.
func Token(n int) string { return random.Token(n) }

// HashToken returns the hex SHA-256 of a token, the value to store in place
// of the token itself. A fast hash is enough for a 256-bit random token; do
// not use it for passwords or short codes.
func HashToken(token string) string { return random.Hash(token) }

// NewID returns a random (version 4) UUID in its canonical text form, for
// row ids that the frontend sees.
func NewID() string { return random.UUID() }

// JWS algorithms SignJWS supports.
const (
	RS256 = jws.RS256 // RSASSA-PKCS1-v1_5 with SHA-256; key *rsa.PrivateKey
	ES256 = jws.ES256 // ECDSA P-256 with SHA-256; key *ecdsa.PrivateKey
)

// ErrJWSKeyType is returned by SignJWS when key does not fit alg.
var ErrJWSKeyType = jws.ErrKeyType

// SignJWS returns the compact JWS of payload (already JSON) with header
// {"alg": alg, "typ": typ, "kid": kid} (typ and kid left out when empty),
// signed with key: e.g. a client secret a provider wants as a JWT (Apple),
// or the ID tokens of a test identity provider.
func SignJWS(alg, kid, typ string, payload []byte, key crypto.Signer) (string, error) {
	return jws.Sign(jws.Header{Alg: alg, Kid: kid, Typ: typ}, payload, key)
}

// SealKeySize is the length of a Sealer key: AES-256.
const SealKeySize = seal.KeySize

// ErrSealKeySize is returned (wrapped, with the length seen) by NewSealer
// for a key that is not SealKeySize bytes.
var ErrSealKeySize = seal.ErrKeySize

// ErrSealOpen is returned by Sealer.Open for a value that cannot be opened:
// not sealed, sealed under a key that is not configured, or tampered with.
var ErrSealOpen = seal.ErrOpen

// Sealer encrypts a recipe's small secrets at rest (AES-256-GCM) under a
// key the app keeps out of the database, with old keys kept so that values
// sealed before a key rotation still open. A sealed value reads
// "v1.<key id>.<base64url(nonce | ciphertext | tag)>". It is safe for
// concurrent use.
type Sealer struct{ s *seal.Sealer }

// NewSealer returns a Sealer sealing under key and opening under key or
// any of old. label goes into the key ids written with each value; it
// names the use (e.g. "myrecipe-key-id") and must never change, or stored
// values stop opening.
func NewSealer(label string, key []byte, old [][]byte) (*Sealer, error) {
	if label == "" {
		return nil, errors.New("kit: NewSealer needs a label")
	}
	s, err := seal.New(label, key, old)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return &Sealer{s: s}, nil
}

// Seal encrypts plain, bound to aad: pass what identifies the row (user
// id, device name) so that a sealed value copied to another row does not
// open there.
func (s *Sealer) Seal(plain []byte, aad string) string { return s.s.Seal(plain, aad) }

// Open decrypts a value Seal returned for the same aad, under the current
// key or an old one; anything else is ErrSealOpen.
func (s *Sealer) Open(sealed, aad string) ([]byte, error) { return s.s.Open(sealed, aad) }

// Current reports whether sealed was sealed under the current key (false:
// re-seal it after opening, to finish a key rotation).
func (s *Sealer) Current(sealed string) bool { return s.s.Current(sealed) }
