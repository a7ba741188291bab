package webauthn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softAuthenticator is a passkey authenticator in software, for tests: an
// ES256 key, "none" attestation, and authenticator data built by hand
// (rpIdHash, flags, counter, attested credential data), so that every
// field can be tampered with.
type softAuthenticator struct {
	t       testing.TB
	key     *ecdsa.PrivateKey
	credID  []byte
	handle  []byte // the user handle from the registration options
	counter uint32
	origin  string
	// noUV leaves the user-verified flag unset.
	noUV bool
}

func newAuthenticator(t testing.TB, origin string) *softAuthenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &softAuthenticator{t: t, key: key, credID: id, origin: origin}
}

var b64u = base64.RawURLEncoding

func (a *softAuthenticator) id() string { return b64u.EncodeToString(a.credID) }

// authData builds authenticator data; with attested, the credential's id
// and public key (COSE) follow.
func (a *softAuthenticator) authData(rpID string, attested bool) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	flags := byte(0x01) // user present
	if !a.noUV {
		flags |= 0x04
	}
	if attested {
		flags |= 0x40
	}
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.counter)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: none
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.credID)))
		out = append(out, a.credID...)
		pub := a.key.PublicKey
		xy, err := pub.Bytes() // 0x04 || X || Y
		if err != nil {
			a.t.Fatal(err)
		}
		cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: xy[1:33], -3: xy[33:65]})
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// register answers registration options (the FDI body) as a browser
// would, returning the credential JSON.
func (a *softAuthenticator) register(opts map[string]any) string {
	a.t.Helper()
	rp, _ := opts["rp"].(map[string]any)
	u, _ := opts["user"].(map[string]any)
	if rp == nil || u == nil {
		a.t.Fatalf("options without rp or user: %v", opts)
	}
	handle, err := b64u.DecodeString(u["id"].(string))
	if err != nil {
		a.t.Fatal(err)
	}
	a.handle = handle
	cd := clientData("webauthn.create", opts["challenge"].(string), a.origin)
	ao, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(rp["id"].(string), true)})
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": a.id(), "rawId": a.id(), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "attestationObject": b64u.EncodeToString(ao),
			"transports": []string{"internal"}}})
	return string(b)
}

// assertion tweaks an assertion before it is signed or after.
type assertion struct {
	challenge, origin, rpID string
	badSignature            bool
}

// signIn answers sign-in options (the FDI body) as a browser would, with
// the counter raised by one first; mod may tamper with the inputs.
func (a *softAuthenticator) signIn(opts map[string]any, mod func(*assertion)) string {
	a.t.Helper()
	in := assertion{challenge: opts["challenge"].(string), origin: a.origin, rpID: opts["rpId"].(string)}
	if mod != nil {
		mod(&in)
	}
	a.counter++
	ad := a.authData(in.rpID, false)
	cd := clientData("webauthn.get", in.challenge, in.origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	if in.badSignature {
		sig[len(sig)-1] ^= 0xff
	}
	b, _ := json.Marshal(map[string]any{"id": a.id(), "rawId": a.id(), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "authenticatorData": b64u.EncodeToString(ad),
			"signature": b64u.EncodeToString(sig), "userHandle": b64u.EncodeToString(a.handle)}})
	return string(b)
}
