package totp

import (
	"errors"
	"fmt"

	"github.com/ginauth/ginauth/recipes/kit"
)

// ErrSecretKey is returned (wrapped, saying what is wrong) by Setup and
// Config.Validate when the sealing key is missing or not 32 bytes.
var ErrSecretKey = errors.New("totp: Config.SecretKey must be 32 random bytes (AES-256); generate one with `openssl rand -base64 32` and keep it out of the database")

// sealer seals TOTP secrets with AES-256-GCM (kit.Sealer). A sealed
// secret reads "v1.<key id>.<base64url(nonce | ciphertext | tag)>"; the key
// id lets old keys keep opening secrets sealed before a key rotation.
type sealer struct{ s *kit.Sealer }

// keyLabel goes into the key ids; it must not change, or stored secrets
// stop opening.
const keyLabel = "ginauth-totp-key-id"

func checkKey(key []byte) error {
	if len(key) != kit.SealKeySize {
		return fmt.Errorf("%w (got %d bytes)", ErrSecretKey, len(key))
	}
	return nil
}

func newSealer(key []byte, old [][]byte) (*sealer, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	for i, k := range old {
		if err := checkKey(k); err != nil {
			return nil, fmt.Errorf("OldSecretKeys[%d]: %w", i, err)
		}
	}
	s, err := kit.NewSealer(keyLabel, key, old)
	if err != nil {
		return nil, err
	}
	return &sealer{s: s}, nil
}

// seal encrypts plain, bound to aad (the device's user id and name, so a
// sealed secret copied to another row does not open).
func (s *sealer) seal(plain []byte, aad string) string { return s.s.Seal(plain, aad) }

var errSealed = errors.New("totp: a stored secret cannot be opened (wrong or rotated-out SecretKey, or a tampered row)")

func (s *sealer) open(sealed, aad string) ([]byte, error) {
	plain, err := s.s.Open(sealed, aad)
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

func deviceAAD(userID, name string) string { return "ginauth-totp\x00" + userID + "\x00" + name }
