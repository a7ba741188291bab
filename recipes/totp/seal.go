package totp

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

// ErrSecretKey is returned (wrapped, saying what is wrong) by Setup and
// Config.Validate when the sealing key is missing or not 32 bytes.
var ErrSecretKey = errors.New("totp: Config.SecretKey must be 32 random bytes (AES-256); generate one with `openssl rand -base64 32` and keep it out of the database")

// sealer seals TOTP secrets with AES-256-GCM. A sealed secret reads
// "v1.<key id>.<base64url(nonce | ciphertext | tag)>"; the key id (the
// first 4 bytes of a hash of the key) lets old keys keep opening secrets
// sealed before a key rotation.
type sealer struct {
	id   string
	aead cipher.AEAD
	old  map[string]cipher.AEAD
}

func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("ginauth-totp-key-id\x00"), key...))
	return hex.EncodeToString(sum[:4])
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrSecretKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newSealer(key []byte, old [][]byte) (*sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	s := &sealer{id: keyID(key), aead: aead, old: map[string]cipher.AEAD{}}
	for i, k := range old {
		a, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("OldSecretKeys[%d]: %w", i, err)
		}
		s.old[keyID(k)] = a
	}
	return s, nil
}

// seal encrypts plain, bound to aad (the device's user id and name, so a
// sealed secret copied to another row does not open).
func (s *sealer) seal(plain []byte, aad string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, plain, []byte(aad))
	return "v1." + s.id + "." + base64.RawURLEncoding.EncodeToString(out)
}

var errSealed = errors.New("totp: a stored secret cannot be opened (wrong or rotated-out SecretKey, or a tampered row)")

func (s *sealer) open(sealed, aad string) ([]byte, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, errSealed
	}
	aead := s.aead
	if parts[1] != s.id {
		var ok bool
		if aead, ok = s.old[parts[1]]; !ok {
			return nil, errSealed
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

func deviceAAD(userID, name string) string { return "ginauth-totp\x00" + userID + "\x00" + name }
