package ginauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/models"
)

// SecretKeySize is the length of Config.SecretKey and of each of
// Config.OldSecretKeys.
const SecretKeySize = 32

// fallbackSecretName is the ginauth_secrets row holding the generated key
// used when Config.SecretKey is not set.
const fallbackSecretName = "fallback-server-secret"

// serverSecret holds the keys derived from the server secret. Each use has
// its own key, derived from the secret with a label, so that one use can
// never stand in for another.
type serverSecret struct {
	// refreshMAC binds refresh tokens to their parent; the first one mints,
	// every one verifies (old keys keep tokens minted before a rotation
	// working).
	refreshMAC [][]byte
	// sealer seals signing keys at rest; nil without a configured
	// SecretKey (a key stored in the same database would hide nothing).
	sealer *seal.Sealer
	// fallback is true when the secret is the generated one in the
	// database.
	fallback bool
}

// signingKeyLabel names the signing-key use of the secret in sealed values'
// key ids and in the additional data; it must never change.
const signingKeyLabel = "ginauth-signing-key"

func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ginauth/" + label))
	return m.Sum(nil)
}

func checkSecretKeys(cfg *Config) error {
	if cfg.SecretKey == nil {
		if len(cfg.OldSecretKeys) > 0 {
			return fmt.Errorf("%w: OldSecretKeys is set but SecretKey is not", ErrConfig)
		}
		return nil
	}
	if len(cfg.SecretKey) != SecretKeySize {
		return fmt.Errorf("%w: SecretKey must be %d random bytes, got %d (generate one with `openssl rand -base64 32`)",
			ErrConfig, SecretKeySize, len(cfg.SecretKey))
	}
	for i, k := range cfg.OldSecretKeys {
		if len(k) != SecretKeySize {
			return fmt.Errorf("%w: OldSecretKeys[%d] must be %d bytes, got %d", ErrConfig, i, SecretKeySize, len(k))
		}
	}
	return nil
}

// loadServerSecret derives the keys from cfg.SecretKey, or, when it is not
// set, from the generated key in ginauth_secrets (creating it on first
// use), with a loud warning.
func (a *Auth) loadServerSecret(ctx context.Context) (*serverSecret, error) {
	if a.cfg.SecretKey != nil {
		ss := &serverSecret{refreshMAC: [][]byte{deriveKey(a.cfg.SecretKey, "refresh-token-mac")}}
		sealKeys := make([][]byte, len(a.cfg.OldSecretKeys))
		for i, k := range a.cfg.OldSecretKeys {
			ss.refreshMAC = append(ss.refreshMAC, deriveKey(k, "refresh-token-mac"))
			sealKeys[i] = deriveKey(k, "signing-key-seal")
		}
		var err error
		if ss.sealer, err = seal.New(signingKeyLabel, deriveKey(a.cfg.SecretKey, "signing-key-seal"), sealKeys); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return ss, nil
	}
	secret, err := a.fallbackSecret(ctx)
	if err != nil {
		return nil, err
	}
	a.log.Warn("ginauth: Config.SecretKey is not set. Refresh tokens are bound with a random key stored in the database table " +
		models.TableSecrets + ", and the access-token signing keys are stored unencrypted in " + models.TableSigningKeys +
		": anyone who can read the database can forge sessions for every user. Set Config.SecretKey to 32 random bytes " +
		"kept outside the database (e.g. `openssl rand -base64 32`, passed in an environment variable and base64-decoded); " +
		"existing signing keys are then sealed on the next start, and open sessions are signed out once.")
	return &serverSecret{refreshMAC: [][]byte{deriveKey(secret, "refresh-token-mac")}, fallback: true}, nil
}

// fallbackSecret returns the generated secret, creating it if no instance
// has yet. Instances starting at once race on the insert; every one then
// reads the row that won.
func (a *Auth) fallbackSecret(ctx context.Context) ([]byte, error) {
	db := a.db.WithContext(dbContext(ctx))
	var row models.Secret
	err := db.Where("name = ?", fallbackSecretName).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		b := make([]byte, SecretKeySize)
		if _, err := rand.Read(b); err != nil {
			return nil, NewError(ErrInternal, err)
		}
		row = models.Secret{Name: fallbackSecretName, Value: base64.StdEncoding.EncodeToString(b), CreatedAt: a.now()}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return nil, DBError(err)
		}
		err = db.Where("name = ?", fallbackSecretName).Take(&row).Error
	}
	if err != nil {
		return nil, DBError(err)
	}
	b, err := base64.StdEncoding.DecodeString(row.Value)
	if err != nil || len(b) != SecretKeySize {
		return nil, fmt.Errorf("%w: the %s row %q is not %d base64 bytes; delete it to have a new one generated",
			ErrConfig, models.TableSecrets, fallbackSecretName, SecretKeySize)
	}
	return b, nil
}
