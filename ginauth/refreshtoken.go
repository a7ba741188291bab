package ginauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/ginauth/ginauth/internal/random"
)

// A refresh token reads "<session handle>.<base64url(body)>", where body is
//
//	nonce (24 random bytes) | parent (16 bytes) | tag (16 bytes)
//
// parent is the first half of the SHA-256 of the token this one was issued
// from (zero for a session's first token), and tag an HMAC-SHA256 under a
// key derived from Config.SecretKey over the handle, nonce and parent. The
// database keeps only the hash of the session's current token: a token is
// the current one, a child of it (its parent is the current token), or
// stale. No list of children is stored, so none can be pushed out (see
// docs/sessions.md).
//
// Access tokens show the hashes of their refresh token and its parent to
// anyone; the tag is what keeps that knowledge from being enough to make a
// child: without the server secret no valid body can be built.
const (
	refreshNonceLen  = 24
	refreshParentLen = 16
	refreshTagLen    = 16
	refreshBodyLen   = refreshNonceLen + refreshParentLen + refreshTagLen
)

// refreshTokenInfo is what an authentic refresh token says about itself.
type refreshTokenInfo struct {
	handle string
	parent [refreshParentLen]byte
}

// parentRef is what the children of the token whose stored hash (hex
// SHA-256) is refreshHash carry as their parent.
func parentRef(refreshHash string) (ref [refreshParentLen]byte, ok bool) {
	if len(refreshHash) < 2*refreshParentLen {
		return ref, false
	}
	_, err := hex.Decode(ref[:], []byte(refreshHash[:2*refreshParentLen]))
	return ref, err == nil
}

func refreshTag(key []byte, handle string, nonce, parent []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ginauth-refresh-token-v2\x00"))
	m.Write([]byte(handle))
	m.Write([]byte{0})
	m.Write(nonce)
	m.Write(parent)
	return m.Sum(nil)[:refreshTagLen]
}

// newRefreshToken mints a refresh token for the session handle, issued
// from the token whose stored hash is parentHash ("" for a session's first
// token). It returns the token and its hash.
func (ss *serverSecret) newRefreshToken(handle, parentHash string) (string, string) {
	var body [refreshBodyLen]byte
	_, _ = rand.Read(body[:refreshNonceLen]) // crypto/rand.Read never fails (Go ≥ 1.24)
	if parentHash != "" {
		ref, _ := parentRef(parentHash)
		copy(body[refreshNonceLen:], ref[:])
	}
	copy(body[refreshNonceLen+refreshParentLen:], refreshTag(ss.refreshMAC[0], handle,
		body[:refreshNonceLen], body[refreshNonceLen:refreshNonceLen+refreshParentLen]))
	t := handle + "." + base64.RawURLEncoding.EncodeToString(body[:])
	return t, random.Hash(t)
}

// openRefreshToken checks a presented refresh token's shape and tag (under
// the current or an old secret). It reports false for anything ginauth did
// not mint, including tokens of the format before the tag (a one-time
// sign-out, docs/migrations.md).
func (ss *serverSecret) openRefreshToken(tok string) (refreshTokenInfo, bool) {
	var info refreshTokenInfo
	handle, ok := parseRefreshToken(tok)
	if !ok {
		return info, false
	}
	// Strict: one spelling per body, so that a token's hash names it.
	body, err := base64.RawURLEncoding.Strict().DecodeString(tok[len(handle)+1:])
	if err != nil || len(body) != refreshBodyLen {
		return info, false
	}
	nonce, parent := body[:refreshNonceLen], body[refreshNonceLen:refreshNonceLen+refreshParentLen]
	tag := body[refreshNonceLen+refreshParentLen:]
	for _, key := range ss.refreshMAC {
		if hmac.Equal(tag, refreshTag(key, handle, nonce, parent)) {
			info.handle = handle
			copy(info.parent[:], parent)
			return info, true
		}
	}
	return info, false
}
