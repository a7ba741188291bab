// Package seal encrypts small secrets at rest with AES-256-GCM under an
// application key, with old keys kept for opening what they sealed.
//
// A sealed value reads "v1.<key id>.<base64url(nonce | ciphertext | tag)>".
// The key id (4 bytes of a labelled hash of the key) picks the key that
// opens it, so a key rotation keeps old values readable. The additional
// data passed to Seal and Open binds a value to its row: a sealed value
// copied to another row does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the key length: AES-256.
const KeySize = 32

// ErrKeySize is returned (wrapped, with the length seen) for a key that is
// not KeySize bytes.
var ErrKeySize = errors.New("seal: a key must be 32 bytes (AES-256)")

// ErrOpen is returned by Open for a value that cannot be opened: not
// sealed, sealed under a key that is not configured, or tampered with.
var ErrOpen = errors.New("seal: the value cannot be opened (wrong or rotated-out key, or tampered)")

const prefix = "v1."

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	id   string
	aead cipher.AEAD
	old  map[string]cipher.AEAD
}

// KeyID is the id a sealed value names its key by. label separates the
// ids of different uses of the same key.
func KeyID(label string, key []byte) string {
	h := sha256.New()
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// New returns a Sealer that seals under key and opens values sealed under
// key or any of old. label names the use (it goes into the key ids).
func New(label string, key []byte, old [][]byte) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	s := &Sealer{id: KeyID(label, key), aead: aead, old: map[string]cipher.AEAD{}}
	for i, k := range old {
		a, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("old key %d: %w", i, err)
		}
		s.old[KeyID(label, k)] = a
	}
	return s, nil
}

// Seal encrypts plain, bound to aad.
func (s *Sealer) Seal(plain []byte, aad string) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("seal: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(aad))
	return prefix + s.id + "." + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made with the same aad, under the current key
// or an old one.
func (s *Sealer) Open(sealed, aad string) ([]byte, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || parts[0]+"." != prefix {
		return nil, ErrOpen
	}
	aead := s.aead
	if parts[1] != s.id {
		var ok bool
		if aead, ok = s.old[parts[1]]; !ok {
			return nil, ErrOpen
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Current reports whether sealed was sealed under the current key, so a
// caller can re-seal values still under an old one.
func (s *Sealer) Current(sealed string) bool {
	return strings.HasPrefix(sealed, prefix+s.id+".")
}

// IsSealed reports whether v has the shape of a sealed value (it may still
// fail to open).
func IsSealed(v string) bool { return strings.HasPrefix(v, prefix) }
