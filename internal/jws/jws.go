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
	// ErrSignatureEncoding is the ErrMalformed of a token whose header and
	// payload decoded but whose signature is not canonical base64url. The
	// Parsed then holds the header and payload (not the signature), so
	// that a caller can tell a token of its own kind with a bad signature
	// from garbage.
	ErrSignatureEncoding = fmt.Errorf("%w: signature is not canonical base64url", ErrMalformed)
)

// strictB64 is the only base64 ParseInto accepts: the URL alphabet, no
// padding, and (Strict) the unused low bits of the last character zero.
// Without Strict the last character of a 64-byte signature could be any of
// 16 characters, and every one of those spellings would verify. Together
// with the refusal of CR and LF, a token has one canonical spelling, so
// that a token refused or revoked by its string cannot come back as
// another.
var strictB64 = base64.RawURLEncoding.Strict()

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
	p := new(Parsed)
	if err := ParseInto(p, token); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseInto is Parse into a Parsed the caller provides (which may live on
// the caller's stack). On error *p is left in an unspecified state, except
// after ErrSignatureEncoding (see there).
func ParseInto(p *Parsed, token string) error {
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return errNotCompactJW
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 {
		return errNotCompactJW
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return errNotCompactJW
	}
	// encoding/base64 skips CR and LF anywhere in its input; refuse them
	// so that each token has exactly one spelling (see strictB64).
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return fmt.Errorf("%w: line break in token", ErrMalformed)
	}
	// One buffer for the three decoded parts; each part is capped so that
	// appending to one cannot overwrite the next.
	enc := strictB64
	hl, pl, sl := enc.DecodedLen(i), enc.DecodedLen(j-i-1), enc.DecodedLen(len(token)-j-1)
	buf := make([]byte, hl+pl+sl)
	src := []byte(token)
	n, err := enc.Decode(buf[:hl:hl], src[:i])
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	hb := buf[:n:n]
	n, err = enc.Decode(buf[hl:hl+pl:hl+pl], src[i+1:j])
	if err != nil {
		return fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	pb := buf[hl : hl+n : hl+n]
	*p = Parsed{Payload: pb, signingInput: token[:j]}
	if !parseHeaderFast(hb, &p.Header) {
		if err := parseHeaderSlow(hb, p); err != nil {
			return err
		}
	}
	// The signature is decoded last so that on ErrSignatureEncoding the
	// header and payload are there for a caller to look at.
	n, err = enc.Decode(buf[hl+pl:], src[j+1:])
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignatureEncoding, err)
	}
	p.signature = buf[hl+pl : hl+pl+n : hl+pl+n]
	return nil
}

// parseHeaderSlow decodes a header parseHeaderFast declined, with
// encoding/json, and refuses hostile parameters.
func parseHeaderSlow(hb []byte, p *Parsed) error {
	var h Header // not &p.Header: that would move a caller's Parsed to the heap
	if err := json.Unmarshal(hb, &h); err != nil {
		return fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	p.Header = h
	// Only pay for the second decode when a suspicious name appears at all.
	if bytes.Contains(hb, []byte(`"jku"`)) || bytes.Contains(hb, []byte(`"x5u"`)) ||
		bytes.Contains(hb, []byte(`"jwk"`)) || bytes.Contains(hb, []byte(`"x5c"`)) ||
		bytes.Contains(hb, []byte(`"crit"`)) || bytes.Contains(hb, []byte(`\u`)) {
		var x hostile
		if err := json.Unmarshal(hb, &x); err != nil {
			return fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
		if x.Jku != nil || x.X5u != nil || x.Jwk != nil || x.X5c != nil || x.Crit != nil {
			return ErrHeader
		}
	}
	return nil
}

// parseHeaderFast decodes the common header, as Sign writes it, without
// encoding/json: an object with no whitespace whose names are exactly
// "alg", "typ", "kid" or "version" and whose values are strings of
// printable ASCII without escapes. It reports false for anything else
// (other or differently cased names, escapes, non-string values, odd
// spacing), and Parse then decodes the header the slow way, hostile-name
// check included. Whatever it accepts, encoding/json decodes to the same
// Header and the hostile-name check passes (no other names are present).
func parseHeaderFast(hb []byte, h *Header) bool {
	if len(hb) < 2 || hb[0] != '{' {
		return false
	}
	if len(hb) == 2 {
		return hb[1] == '}'
	}
	i := 1
	for {
		name, ok := headerString(hb, &i)
		if !ok || i >= len(hb) || hb[i] != ':' {
			return false
		}
		i++
		val, ok := headerString(hb, &i)
		if !ok || i >= len(hb) {
			return false
		}
		switch string(name) {
		case "alg":
			switch string(val) {
			case RS256:
				h.Alg = RS256
			case ES256:
				h.Alg = ES256
			case EdDSA:
				h.Alg = EdDSA
			default:
				h.Alg = string(val)
			}
		case "typ":
			if string(val) == "JWT" {
				h.Typ = "JWT"
			} else {
				h.Typ = string(val)
			}
		case "kid":
			h.Kid = string(val)
		case "version":
			if string(val) == "5" {
				h.Version = "5"
			} else {
				h.Version = string(val)
			}
		default:
			return false
		}
		switch hb[i] {
		case ',':
			i++
		case '}':
			return i+1 == len(hb)
		default:
			return false
		}
	}
}

// headerString reads a JSON string of printable ASCII without escapes at
// *i and returns its contents.
func headerString(hb []byte, i *int) ([]byte, bool) {
	k := *i
	if k >= len(hb) || hb[k] != '"' {
		return nil, false
	}
	for j := k + 1; j < len(hb); j++ {
		c := hb[j]
		if c == '"' {
			*i = j + 1
			return hb[k+1 : j], true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return nil, false
		}
	}
	return nil, false
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
