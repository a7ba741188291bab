package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of RFC 6238.
type Algorithm string

// Algorithms. Authenticator apps all support SHA1; several ignore the
// others, so only choose them when you know your users' apps.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

func (a Algorithm) hash() (func() hash.Hash, error) {
	switch a {
	case SHA1, "":
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("totp: unknown algorithm %q (want SHA1, SHA256 or SHA512)", string(a))
}

// Defaults of RFC 6238 and of every authenticator app.
const (
	DefaultDigits = 6
	DefaultPeriod = 30 // seconds
	DefaultSkew   = 1  // steps each side
	// SecretSize is the size of generated secrets in bytes: 160 bits, as
	// RFC 4226 recommends (32 base32 characters).
	SecretSize = 20
)

// Params are the code parameters of one device. The zero value is SHA1,
// 6 digits, 30 seconds.
type Params struct {
	Algorithm Algorithm
	// Digits is 6, 7 or 8.
	Digits int
	// Period is the time step in seconds.
	Period int
}

func (p Params) withDefaults() Params {
	if p.Algorithm == "" {
		p.Algorithm = SHA1
	}
	if p.Digits == 0 {
		p.Digits = DefaultDigits
	}
	if p.Period == 0 {
		p.Period = DefaultPeriod
	}
	return p
}

func (p Params) validate() error {
	if _, err := p.Algorithm.hash(); err != nil {
		return err
	}
	if p.Digits < 6 || p.Digits > 8 {
		return fmt.Errorf("totp: %d digits: want 6, 7 or 8", p.Digits)
	}
	if p.Period < 1 || p.Period > 600 {
		return fmt.Errorf("totp: period of %d seconds: want 1 to 600", p.Period)
	}
	return nil
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// HOTP returns the RFC 4226 code of secret for counter, with the given hash
// and number of digits (6 to 8).
func HOTP(secret []byte, counter uint64, alg Algorithm, digits int) (string, error) {
	h, err := alg.hash()
	if err != nil {
		return "", err
	}
	if digits < 6 || digits > 8 {
		return "", fmt.Errorf("totp: %d digits: want 6, 7 or 8", digits)
	}
	return hotp(h, secret, counter, digits), nil
}

func hotp(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(h, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", digits, bin%pow10[digits])
}

// Step returns the RFC 6238 time step of t: whole periods since the Unix
// epoch.
func Step(t time.Time, period int) int64 {
	if period <= 0 {
		period = DefaultPeriod
	}
	u := t.Unix()
	if u < 0 {
		return 0
	}
	return u / int64(period)
}

// Code returns the RFC 6238 code of secret at time t.
func Code(secret []byte, t time.Time, p Params) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", err
	}
	return HOTP(secret, uint64(Step(t, p.Period)), p.Algorithm, p.Digits)
}

// match looks for code among the steps within skew of now's step that are
// later than after, and returns the step it matched. Every candidate is
// computed and compared in constant time.
func match(secret []byte, code string, now time.Time, p Params, skew int, after int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != p.Digits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	h, err := p.Algorithm.hash()
	if err != nil {
		return 0, false
	}
	cur := Step(now, p.Period)
	var found int64
	ok := false
	for s := cur - int64(skew); s <= cur+int64(skew); s++ {
		if s < 0 {
			continue
		}
		want := hotp(h, secret, uint64(s), p.Digits)
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > after && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns the base32 form of a secret (no padding), as
// authenticator apps and otpauth:// URIs take it.
func EncodeSecret(secret []byte) string { return b32.EncodeToString(secret) }

// DecodeSecret reads a base32 secret, ignoring case, spaces and padding.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(s))
	b, err := b32.DecodeString(s)
	if err != nil {
		return nil, errors.New("totp: the secret is not valid base32")
	}
	return b, nil
}

// NewSecret returns SecretSize random bytes.
func NewSecret() []byte {
	b := make([]byte, SecretSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return b
}
