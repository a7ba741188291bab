// Package jws signs and verifies the compact JWS form of ginauth's access
// tokens. It is deliberately small and strict: three asymmetric algorithms,
// the algorithm pinned by the caller (never taken from the token), no
// symmetric keys at all (so no HS/RS confusion), and any header that points
// elsewhere for a key (jku, x5u, jwk, x5c) or asks for extensions (crit) is
// refused.
package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Supported algorithms.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Errors returned by Parse and Verify.
var (
	ErrMalformed    = errors.New("jws: malformed token")
	ErrAlgorithm    = errors.New("jws: unexpected algorithm")
	ErrHeader       = errors.New("jws: forbidden header parameter")
	ErrSignature    = errors.New("jws: signature does not verify")
	ErrKeyType      = errors.New("jws: key does not match algorithm")
	ErrUnsupported  = errors.New("jws: unsupported algorithm")
	errNotCompactJW = fmt.Errorf("%w: not three dot-separated parts", ErrMalformed)
)

// Header is the part of a JOSE header ginauth reads.
type Header struct {
	Alg     string `json:"alg"`
	Typ     string `json:"typ,omitempty"`
	Kid     string `json:"kid,omitempty"`
	Version string `json:"version,omitempty"`
}

// hostile lists header parameters that would let a token choose its own key
// or change how it is processed.
type hostile struct {
	Jku  json.RawMessage `json:"jku"`
	X5u  json.RawMessage `json:"x5u"`
	Jwk  json.RawMessage `json:"jwk"`
	X5c  json.RawMessage `json:"x5c"`
	Crit json.RawMessage `json:"crit"`
}

// Parsed is a token split into its parts, not yet verified.
type Parsed struct {
	Header       Header
	Payload      []byte // decoded JSON
	signingInput string
	signature    []byte
}

// Parse splits and decodes a compact JWS. It checks the form only; call
// Verify before trusting anything in it.
func Parse(token string) (*Parsed, error) {
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return nil, errNotCompactJW
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 {
		return nil, errNotCompactJW
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return nil, errNotCompactJW
	}
	hb, err := base64.RawURLEncoding.DecodeString(token[:i])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	pb, err := base64.RawURLEncoding.DecodeString(token[i+1 : j])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[j+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	p := &Parsed{Payload: pb, signingInput: token[:j], signature: sig}
	if err := json.Unmarshal(hb, &p.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	// Only pay for the second decode when a suspicious name appears at all.
	if bytes.Contains(hb, []byte(`"jku"`)) || bytes.Contains(hb, []byte(`"x5u"`)) ||
		bytes.Contains(hb, []byte(`"jwk"`)) || bytes.Contains(hb, []byte(`"x5c"`)) ||
		bytes.Contains(hb, []byte(`"crit"`)) || bytes.Contains(hb, []byte(`\u`)) {
		var h hostile
		if err := json.Unmarshal(hb, &h); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
		if h.Jku != nil || h.X5u != nil || h.Jwk != nil || h.X5c != nil || h.Crit != nil {
			return nil, ErrHeader
		}
	}
	return p, nil
}

// Verify checks the token's signature with pub under the pinned algorithm
// alg. A token whose header names any other algorithm is refused.
func (p *Parsed) Verify(alg string, pub crypto.PublicKey) error {
	if p.Header.Alg != alg {
		return ErrAlgorithm
	}
	switch alg {
	case RS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return ErrKeyType
		}
		h := sha256.Sum256([]byte(p.signingInput))
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], p.signature) != nil {
			return ErrSignature
		}
	case ES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return ErrKeyType
		}
		if len(p.signature) != 64 {
			return ErrSignature
		}
		h := sha256.Sum256([]byte(p.signingInput))
		r := new(big.Int).SetBytes(p.signature[:32])
		s := new(big.Int).SetBytes(p.signature[32:])
		if !ecdsa.Verify(k, h[:], r, s) {
			return ErrSignature
		}
	case EdDSA:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return ErrKeyType
		}
		if !ed25519.Verify(k, []byte(p.signingInput), p.signature) {
			return ErrSignature
		}
	default:
		return ErrUnsupported
	}
	return nil
}

// Sign returns the compact JWS of payload (already JSON) under header h,
// signed with key. h.Alg selects the algorithm.
func Sign(h Header, payload []byte, key crypto.Signer) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(payload)
	var sig []byte
	switch h.Alg {
	case RS256:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return "", ErrKeyType
		}
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	case ES256:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return "", ErrKeyType
		}
		d := sha256.Sum256([]byte(input))
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, d[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	case EdDSA:
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return "", ErrKeyType
		}
		sig = ed25519.Sign(k, []byte(input))
	default:
		return "", ErrUnsupported
	}
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}
