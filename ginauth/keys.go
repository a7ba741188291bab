package ginauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/models"
)

// signingKey is a loaded models.SigningKey.
type signingKey struct {
	kid         string
	alg         string
	priv        crypto.Signer
	pub         crypto.PublicKey
	signUntil   time.Time
	verifyUntil time.Time
}

// keyStore keeps the signing keys in memory so that verifying a token needs
// no database round trip. It reloads from the database when it meets a kid
// it does not know (another instance rotated) at most once per
// reloadInterval, and rotates when the signing key's time is up.
type keyStore struct {
	db       *gorm.DB
	alg      string
	rotation time.Duration
	validity time.Duration
	now      func() time.Time
	// sealer seals private keys at rest (Config.SecretKey); nil stores
	// them in the clear.
	sealer *seal.Sealer
	log    *slog.Logger

	mu   sync.RWMutex
	keys map[string]*signingKey
	// gen counts the replacements of keys (reload); the verified-token
	// cache trusts an entry only while gen is what it was when the entry's
	// key was looked up, so a key dropped by a reload stops its tokens at
	// once without a hit taking mu.
	gen        atomic.Uint64
	current    *signingKey
	lastReload time.Time
	reloadMu   sync.Mutex
}

const reloadInterval = 10 * time.Second

func newKeyStore(ctx context.Context, db *gorm.DB, s settings, now func() time.Time, sealer *seal.Sealer, log *slog.Logger) (*keyStore, error) {
	ks := &keyStore{db: db, alg: s.alg, rotation: s.rotation, validity: s.accessValidity, now: now, keys: map[string]*signingKey{},
		sealer: sealer, log: log}
	if err := ks.reload(ctx); err != nil {
		return nil, err
	}
	if _, err := ks.signer(ctx); err != nil {
		return nil, err
	}
	return ks, nil
}

// reload replaces the in-memory keys with the database's live ones.
func (ks *keyStore) reload(ctx context.Context) error {
	now := ks.now()
	var rows []models.SigningKey
	if err := ks.db.WithContext(dbContext(ctx)).Where("verify_until > ?", now).Order("created_at").Find(&rows).Error; err != nil {
		return DBError(err)
	}
	keys := make(map[string]*signingKey, len(rows))
	var current *signingKey
	for i := range rows {
		k, err := ks.decodeKey(&rows[i])
		if err != nil {
			return NewError(ErrInternal, fmt.Errorf("signing key %s: %w", rows[i].KID, err))
		}
		ks.maybeReseal(ctx, &rows[i])
		keys[k.kid] = k
		if k.alg == ks.alg && k.signUntil.After(now) && (current == nil || k.signUntil.After(current.signUntil)) {
			current = k
		}
	}
	ks.mu.Lock()
	ks.keys, ks.current, ks.lastReload = keys, current, now
	ks.gen.Add(1)
	ks.mu.Unlock()
	return nil
}

// signer returns the key to sign with, creating one when none is left.
func (ks *keyStore) signer(ctx context.Context) (*signingKey, error) {
	now := ks.now()
	ks.mu.RLock()
	cur := ks.current
	ks.mu.RUnlock()
	if cur != nil && cur.signUntil.After(now) {
		return cur, nil
	}
	ks.reloadMu.Lock()
	defer ks.reloadMu.Unlock()
	// Another instance may have rotated already.
	if err := ks.reload(ctx); err != nil {
		return nil, err
	}
	ks.mu.RLock()
	cur = ks.current
	ks.mu.RUnlock()
	if cur != nil && cur.signUntil.After(now) {
		return cur, nil
	}
	row, err := generateKey(ks.alg, now, ks.rotation, ks.validity)
	if err != nil {
		return nil, NewError(ErrInternal, err)
	}
	if ks.sealer != nil {
		row.PrivateKey = ks.sealer.Seal([]byte(row.PrivateKey), signingKeyAAD(row.KID))
	}
	if err := ks.db.WithContext(dbContext(ctx)).Create(row).Error; err != nil {
		return nil, DBError(err)
	}
	k, err := ks.decodeKey(row)
	if err != nil {
		return nil, NewError(ErrInternal, err)
	}
	ks.mu.Lock()
	ks.keys[k.kid] = k
	ks.current = k
	ks.mu.Unlock()
	return k, nil
}

// verifier returns the public key for kid, reloading once if it is unknown.
func (ks *keyStore) verifier(ctx context.Context, kid string) (*signingKey, bool) {
	ks.mu.RLock()
	k, ok := ks.keys[kid]
	last := ks.lastReload
	ks.mu.RUnlock()
	if ok {
		return k, true
	}
	// Only kids of our own shape can be on the way from another instance;
	// anything else is refused without touching the database. A kid made
	// after our last reload may be a key another instance has just created,
	// so it earns a reload sooner than one that should already be loaded:
	// a forged kid can then cost at most one reload a second, and cannot
	// keep a real new key out for the whole interval.
	if !plausibleKid(kid) {
		return nil, false
	}
	now := ks.now()
	wait := reloadInterval
	if created, ok := kidTime(kid); ok && created.After(last) && !created.After(now.Add(time.Minute)) {
		wait = time.Second
	}
	if now.Sub(last) < wait {
		return nil, false
	}
	ks.reloadMu.Lock()
	defer ks.reloadMu.Unlock()
	if ks.now().Sub(ks.lastReload) >= wait {
		if err := ks.reload(ctx); err != nil {
			return nil, false
		}
	}
	ks.mu.RLock()
	k, ok = ks.keys[kid]
	ks.mu.RUnlock()
	return k, ok
}

func plausibleKid(kid string) bool {
	return len(kid) > 2 && len(kid) <= 64 && kid[:2] == "d-"
}

// kidTime reads the creation time from a kid "d-<unix ms>-<random>".
func kidTime(kid string) (time.Time, bool) {
	rest := kid[2:]
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest = rest[:i]
	}
	ms, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// all returns the keys that still verify, oldest first.
func (ks *keyStore) all() []*signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := make([]*signingKey, 0, len(ks.keys))
	now := ks.now()
	for _, k := range ks.keys {
		if k.verifyUntil.After(now) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kid < out[j].kid })
	return out
}

func generateKey(alg string, now time.Time, rotation, validity time.Duration) (*models.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jws.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jws.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jws.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	signUntil := now.Add(rotation)
	return &models.SigningKey{
		// "d-" marks a dynamic (rotating) key, as SuperTokens does; the
		// random tail keeps two instances rotating at once apart.
		KID:         "d-" + strconv.FormatInt(now.UnixMilli(), 10) + "-" + random.Token(6),
		Algorithm:   alg,
		PrivateKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CreatedAt:   now,
		SignUntil:   signUntil,
		VerifyUntil: signUntil.Add(validity),
	}, nil
}

// signingKeyAAD binds a sealed private key to its row: copied under
// another kid it does not open.
func signingKeyAAD(kid string) string { return signingKeyLabel + "\x00" + kid }

// errSealedKey says why a sealed signing key did not open.
var errSealedKey = errors.New("the private key is sealed and does not open with Config.SecretKey or OldSecretKeys " +
	"(a wrong SecretKey, the key that sealed it missing from OldSecretKeys, or a tampered row)")

// decodeKey parses a row's private key, opening it first when it is sealed.
func (ks *keyStore) decodeKey(row *models.SigningKey) (*signingKey, error) {
	pemText := []byte(row.PrivateKey)
	if seal.IsSealed(row.PrivateKey) {
		if ks.sealer == nil {
			return nil, errors.New("the private key is sealed but Config.SecretKey is not set")
		}
		plain, err := ks.sealer.Open(row.PrivateKey, signingKeyAAD(row.KID))
		if err != nil {
			return nil, errSealedKey
		}
		pemText = plain
	}
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, fmt.Errorf("private key is not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", parsed)
	}
	return &signingKey{kid: row.KID, alg: row.Algorithm, priv: signer, pub: signer.Public(),
		signUntil: row.SignUntil, verifyUntil: row.VerifyUntil}, nil
}

// maybeReseal seals a row stored in the clear (written before a SecretKey
// was configured) or under an old key. It is best effort: a failure is
// logged and retried at the next load; the update is conditional on the
// value read, so instances doing it at once agree.
func (ks *keyStore) maybeReseal(ctx context.Context, row *models.SigningKey) {
	if ks.sealer == nil || ks.sealer.Current(row.PrivateKey) {
		return
	}
	plain := []byte(row.PrivateKey)
	if seal.IsSealed(row.PrivateKey) {
		var err error
		if plain, err = ks.sealer.Open(row.PrivateKey, signingKeyAAD(row.KID)); err != nil {
			return // decodeKey has already refused it
		}
	}
	sealed := ks.sealer.Seal(plain, signingKeyAAD(row.KID))
	err := ks.db.WithContext(dbContext(ctx)).Model(&models.SigningKey{}).
		Where("kid = ? AND private_key = ?", row.KID, row.PrivateKey).Update("private_key", sealed).Error
	if err != nil {
		ks.log.Warn("ginauth: sealing a stored signing key failed; it will be retried", "kid", row.KID, "error", err)
	}
}

// jwk is one entry of the JWKS document.
func (k *signingKey) jwk() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	m := map[string]string{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(pub.N.Bytes())
		m["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = "P-256"
		raw, _ := pub.ECDH()
		b := raw.Bytes() // 0x04 || X || Y
		m["x"] = b64(b[1:33])
		m["y"] = b64(b[33:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(pub)
	}
	return m
}
