package emailpassword

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the argon2id parameters new password hashes are made
// with. Hashes made with other parameters still verify, and are rehashed
// with these at the next successful sign-in.
type Argon2Params struct {
	// Memory in KiB. OWASP minimum (and default): 19456 (19 MiB).
	Memory uint32
	// Iterations (time cost). Default 2.
	Iterations uint32
	// Parallelism (lanes). Default 1.
	Parallelism uint8
	// SaltLength in bytes. Default 16.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes. Default 32.
	KeyLength uint32
}

// DefaultArgon2Params returns the OWASP minimum for argon2id: m=19456 KiB,
// t=2, p=1, with a 16-byte salt and a 32-byte key. One hash costs about
// 20 MB and 25 ms of one core.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// withDefaults fills zero fields from DefaultArgon2Params.
func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLength == 0 {
		p.SaltLength = d.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = d.KeyLength
	}
	return p
}

// Limits on what a hash (ours, or one read from the database) may ask for,
// so that a corrupt or hostile row cannot make one verification cost
// gigabytes or minutes.
const (
	maxMemoryKiB   = 1 << 20 // 1 GiB
	maxIterations  = 64
	minSaltLength  = 8
	maxSaltLength  = 64
	minKeyLength   = 16
	maxKeyLength   = 128
	maxHashStrLen  = 512
	maxPasswordLen = 1024 // bytes; bounds hashing cost whatever the validator allows
)

func (p Argon2Params) validate() error {
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("Argon2.Memory %d KiB is out of range (%d..%d)", p.Memory, 8*uint32(p.Parallelism), maxMemoryKiB)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("Argon2.Iterations %d is out of range (1..%d)", p.Iterations, maxIterations)
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return fmt.Errorf("Argon2.SaltLength %d is out of range (%d..%d)", p.SaltLength, minSaltLength, maxSaltLength)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("Argon2.KeyLength %d is out of range (%d..%d)", p.KeyLength, minKeyLength, maxKeyLength)
	}
	return nil
}

// belowOWASP reports whether p is weaker than the OWASP minimum.
func (p Argon2Params) belowOWASP() bool {
	d := DefaultArgon2Params()
	return p.Memory < d.Memory || p.Iterations < d.Iterations
}

// phc encodes an argon2id hash as a PHC string.
func (p Argon2Params) phc(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsedHash is a stored hash, decoded.
type parsedHash struct {
	bcrypt bool
	params Argon2Params
	salt   []byte
	key    []byte
}

var errBadHash = errors.New("emailpassword: unrecognised password hash")

// parseHash decodes a PHC argon2id string or recognises a bcrypt hash.
func parseHash(s string) (*parsedHash, error) {
	if len(s) > maxHashStrLen {
		return nil, errBadHash
	}
	if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return nil, errBadHash
		}
		return &parsedHash{bcrypt: true}, nil
	}
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, errBadHash
	}
	var p Argon2Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return nil, errBadHash
	}
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(kv[i], "=")
		if !ok || k != name {
			return nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, errBadHash
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			if n < 1 || n > 255 {
				return nil, errBadHash
			}
			p.Parallelism = uint8(n)
		}
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return nil, errBadHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	if p.validate() != nil {
		return nil, errBadHash
	}
	return &parsedHash{params: p, salt: salt, key: key}, nil
}

// hasher hashes and verifies passwords with at most cap(sem) hashes running
// at once, so that memory stays near pool size x hash memory however many
// requests arrive together. Waiting for a slot honours the context.
type hasher struct {
	params Argon2Params
	sem    chan struct{}
	dummy  string // an argon2id hash of a random password, for unknown users

	// onHash, when set (tests only), is called with the kind of work
	// ("argon2id", "bcrypt", "dummy") while a pool slot is held.
	onHash func(kind string)
}

func newHasher(params Argon2Params, size int) *hasher {
	h := &hasher{params: params, sem: make(chan struct{}, size)}
	// The dummy is made without the pool, once, at setup.
	salt := randomBytes(int(params.SaltLength))
	pw := randomBytes(24)
	h.dummy = params.phc(salt, argon2.IDKey(pw, salt, params.Iterations, params.Memory, params.Parallelism, params.KeyLength))
	return h
}

// errBusy is returned when the context ends while waiting for a hasher.
var errBusy = errors.New("emailpassword: gave up waiting for a password hasher")

func (h *hasher) acquire(ctx context.Context, kind string) (func(), error) {
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errBusy, ctx.Err())
	}
	if h.onHash != nil {
		h.onHash(kind)
	}
	return func() { <-h.sem }, nil
}

// Hash returns the argon2id PHC string of password.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > maxPasswordLen {
		return "", ErrPasswordTooLong
	}
	release, err := h.acquire(ctx, "argon2id")
	if err != nil {
		return "", err
	}
	defer release()
	p := h.params
	salt := randomBytes(int(p.SaltLength))
	return p.phc(salt, argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)), nil
}

// Verify reports whether password matches the stored hash, and whether the
// hash should be replaced (bcrypt, or argon2id with other parameters). The
// comparison is constant-time. An unrecognised hash is an error.
func (h *hasher) Verify(ctx context.Context, stored, password string) (ok, rehash bool, err error) {
	if len(password) > maxPasswordLen {
		return false, false, nil
	}
	ph, err := parseHash(stored)
	if err != nil {
		return false, false, err
	}
	if ph.bcrypt {
		release, err := h.acquire(ctx, "bcrypt")
		if err != nil {
			return false, false, err
		}
		defer release()
		// bcrypt only ever looks at the first 72 bytes; x/crypto refuses
		// longer input, which could not have been hashed by it either.
		if len(password) > 72 {
			return false, false, nil
		}
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil, true, nil
	}
	release, err := h.acquire(ctx, "argon2id")
	if err != nil {
		return false, false, err
	}
	defer release()
	p := ph.params
	key := argon2.IDKey([]byte(password), ph.salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	ok = subtle.ConstantTimeCompare(key, ph.key) == 1
	return ok, ok && h.needsRehash(ph), nil
}

// needsRehash reports whether a parsed hash was made with other settings
// than the configured ones.
func (h *hasher) needsRehash(ph *parsedHash) bool {
	if ph.bcrypt {
		return true
	}
	c := h.params
	return ph.params.Memory != c.Memory || ph.params.Iterations != c.Iterations ||
		ph.params.Parallelism != c.Parallelism || ph.params.KeyLength != c.KeyLength
}

// Dummy does the work of verifying password against a hash with the
// configured parameters and throws the result away, so that signing in
// with an unknown e-mail takes as long as with a wrong password.
func (h *hasher) Dummy(ctx context.Context, password string) error {
	if len(password) > maxPasswordLen {
		return nil
	}
	ph, err := parseHash(h.dummy)
	if err != nil {
		return err
	}
	release, err := h.acquire(ctx, "dummy")
	if err != nil {
		return err
	}
	defer release()
	p := ph.params
	key := argon2.IDKey([]byte(password), ph.salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	_ = subtle.ConstantTimeCompare(key, ph.key)
	return nil
}

// NeedsRehash reports whether a stored password hash was made with other
// settings than p (or is a bcrypt hash), so that it would be replaced at the
// next sign-in. An unrecognised hash needs a rehash.
func NeedsRehash(stored string, p Argon2Params) bool {
	ph, err := parseHash(stored)
	if err != nil {
		return true
	}
	return (&hasher{params: p.withDefaults()}).needsRehash(ph)
}

// HashPassword returns the argon2id PHC string of password with parameters
// p (zero fields take the defaults), for importing users or seeding a
// database. It does not go through any recipe's hasher pool.
func HashPassword(password string, p Argon2Params) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("emailpassword: %w", err)
	}
	h := &hasher{params: p, sem: make(chan struct{}, 1)}
	return h.Hash(context.Background(), password)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return b
}
