package ginauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/internal/jws"
)

// protectedKeys are the standard access-token fields; an app's payload may
// not set them.
var protectedKeys = map[string]bool{
	"sub": true, "iat": true, "exp": true, "sessionHandle": true, "parentRefreshTokenHash1": true,
	"refreshTokenHash1": true, "antiCsrfToken": true, "rsub": true, "tId": true, "stt": true, "iss": true,
}

// accessToken is a signed access token with what the transport needs.
type accessToken struct {
	jwt         string
	userID      string
	expiry      time.Time
	payload     claims.Payload
	payloadJSON []byte
}

// tokenFields are the session facts an access token carries.
type tokenFields struct {
	handle, userID, recipeUserID, tenantID string
	refreshHash1                           string
	antiCSRF                               string
	// parentRefreshHash1 is set in the access token of a refresh token's
	// child until the child is promoted (h-refresh; sessions.go).
	parentRefreshHash1 string
}

// signAccessToken builds and signs an access token: the custom payload plus
// the standard fields, valid until expiry.
// signAccessTokenJSON signs an access token for f with the custom payload
// keys. Its payload is left undecoded (payload nil): a refresh sends the
// token and the front token, built from payloadJSON, and needs no more.
func (a *Auth) signAccessTokenJSON(ctx context.Context, f tokenFields, custom claims.Payload, expiry time.Time) (*accessToken, error) {
	key, err := a.keys.signer(ctx)
	if err != nil {
		return nil, err
	}
	p := make(claims.Payload, len(custom)+len(protectedKeys))
	for k, v := range custom {
		if !protectedKeys[k] {
			p[k] = v
		}
	}
	now := a.now()
	p["sub"] = f.userID
	p["rsub"] = f.recipeUserID
	p["tId"] = f.tenantID
	p["sessionHandle"] = f.handle
	p["refreshTokenHash1"] = f.refreshHash1
	p["iat"] = now.Unix()
	p["exp"] = expiry.Unix()
	p["iss"] = a.s.issuer
	// SuperTokens' v3+ tokens always carry these two keys, null when
	// unused, and its frontend test suite counts the payload's keys.
	p["parentRefreshTokenHash1"] = nullIfEmpty(f.parentRefreshHash1)
	p["antiCsrfToken"] = nullIfEmpty(f.antiCSRF)
	body, err := json.Marshal(p)
	if err != nil {
		return nil, BadRequest("the access-token payload cannot be encoded as JSON: %v", err)
	}
	tok, err := jws.Sign(jws.Header{Alg: key.alg, Typ: "JWT", Kid: key.kid, Version: "5"}, body, key.priv)
	if err != nil {
		return nil, NewError(ErrInternal, err)
	}
	return &accessToken{jwt: tok, userID: f.userID, expiry: time.Unix(expiry.Unix(), 0), payloadJSON: body}, nil
}

// signAccessToken is signAccessTokenJSON for callers that keep the token's
// payload (a Session): the front token must carry the payload byte for
// byte as the JWT does, so it is decoded back from the JWT's bytes, with
// the decoder verifyAccessToken uses, so that numbers have the types a
// parsed token has.
func (a *Auth) signAccessToken(ctx context.Context, f tokenFields, custom claims.Payload, expiry time.Time) (*accessToken, error) {
	tok, err := a.signAccessTokenJSON(ctx, f, custom, expiry)
	if err != nil {
		return nil, err
	}
	decoded, err := jws.DecodePayload(tok.payloadJSON)
	if err != nil {
		return nil, NewError(ErrInternal, err)
	}
	tok.payload = decoded
	return tok, nil
}

// nullIfEmpty maps "" to a JSON null.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errToken explains why an access token was refused; it is logged at
// debug level and never sent.
var errToken = errors.New("access token refused")

// verifiedToken is a parsed, checked access token.
type verifiedToken struct {
	payload                                claims.Payload
	payloadJSON                            []byte
	userID, recipeUserID, tenantID, handle string
	expiry                                 time.Time
	antiCSRF                               string
	// parent is the payload's parentRefreshTokenHash1 (a refreshed token
	// not yet used), read once when the token is verified so that a cache
	// hit does not look it up in the payload again.
	parent string
}

// errNotOurs marks a token that does not have the shape of a SuperTokens
// access token (an API key, another service's JWT, garbage). The transport
// ignores such a token, as if it were absent, instead of answering "try
// refresh token" (see accessTokenFromRequest).
var errNotOurs = errors.New("not shaped like a session access token")

// verifyAccessToken checks signature and standard fields. It touches the
// database only when it meets a key id of ours it has not loaded yet.
//
// A token that is not even shaped like an access token (see shapedLikeOurs)
// gives an error wrapping errNotOurs; any other refusal means the token is
// one of ours, or claims to be, and is invalid or expired.
//
// A token verified before is served from the verified-token cache (see
// verifyCache) under the same time rules, without the signature check.
func (a *Auth) verifyAccessToken(ctx context.Context, raw string) (*verifiedToken, error) {
	a.vcache.setup(a.cfg.Session.VerifyCacheSize)
	now := a.verifyNow()
	v, h := a.vcache.get(raw, now, a.keys)
	if v != nil {
		return v, nil
	}
	// Read before the key is looked up: a reload in between leaves the
	// entry with an older generation, a miss next time (never the reverse).
	keyGen := a.keys.gen.Load()
	var p jws.Parsed
	parseErr := jws.ParseInto(&p, raw)
	if parseErr != nil && !errors.Is(parseErr, jws.ErrSignatureEncoding) {
		// A header or payload that does not decode: not one of ours.
		if errors.Is(parseErr, jws.ErrMalformed) {
			return nil, fmt.Errorf("%w: %w", errNotOurs, parseErr)
		}
		return nil, parseErr
	}
	// The payload is decoded before the signature is checked, as the
	// reference does, to tell "not ours" from "ours but invalid"; the
	// decoder is fuzzed against encoding/json and costs less than a
	// signature check.
	payload, err := jws.DecodePayload(p.Payload)
	if err != nil || payload == nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object", errNotOurs)
	}
	if !shapedLikeOurs(p.Header, payload) {
		return nil, fmt.Errorf("%w: header or standard fields missing", errNotOurs)
	}
	if parseErr != nil {
		return nil, parseErr // ours, with a non-canonical signature
	}
	key, ok := a.keys.verifier(ctx, p.Header.Kid)
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id", errToken)
	}
	if err := p.Verify(key.alg, key.pub); err != nil {
		return nil, err
	}
	skew := a.s.skew
	// A key past its verifyUntil no longer verifies, even before a reload
	// drops it from the store.
	if now.After(key.verifyUntil.Add(skew)) {
		return nil, fmt.Errorf("%w: signing key no longer verifies", errToken)
	}
	exp, ok := payload["exp"].(float64)
	if !ok {
		return nil, fmt.Errorf("%w: no exp", errToken)
	}
	if now.After(time.Unix(int64(exp), 0).Add(skew)) {
		return nil, fmt.Errorf("%w: expired", errToken)
	}
	iat, ok := payload["iat"].(float64)
	if !ok || time.Unix(int64(iat), 0).After(now.Add(skew)) {
		return nil, fmt.Errorf("%w: missing or future iat", errToken)
	}
	validFrom := time.Unix(int64(iat), 0)
	if nbf, present := payload["nbf"]; present {
		n, ok := nbf.(float64)
		if !ok || time.Unix(int64(n), 0).After(now.Add(skew)) {
			return nil, fmt.Errorf("%w: not yet valid", errToken)
		}
		if nb := time.Unix(int64(n), 0); nb.After(validFrom) {
			validFrom = nb
		}
	}
	if iss, _ := payload["iss"].(string); iss != a.s.issuer {
		return nil, fmt.Errorf("%w: wrong issuer", errToken)
	}
	v = &verifiedToken{payload: payload, payloadJSON: p.Payload, expiry: time.Unix(int64(exp), 0)}
	v.userID, _ = payload["sub"].(string)
	v.handle, _ = payload["sessionHandle"].(string)
	v.tenantID, _ = payload["tId"].(string)
	v.recipeUserID, _ = payload["rsub"].(string)
	v.antiCSRF, _ = payload["antiCsrfToken"].(string)
	v.parent, _ = payload["parentRefreshTokenHash1"].(string)
	if v.userID == "" || v.handle == "" || v.tenantID == "" {
		return nil, fmt.Errorf("%w: missing sub, sessionHandle or tId", errToken)
	}
	if v.recipeUserID == "" {
		v.recipeUserID = v.userID
	}
	// Cache it for the window the checks above would accept it in.
	validTo := v.expiry
	if key.verifyUntil.Before(validTo) {
		validTo = key.verifyUntil
	}
	if a.vcache.off {
		return v, nil
	}
	a.vcache.put(raw, h, &verifyEntry{tok: v, keyGen: keyGen, validFrom: validFrom.Add(-skew), validTo: validTo.Add(skew)})
	return v, nil
}

// shapedLikeOurs reports whether a parsed, unverified token has the shape
// of a SuperTokens access token: a JWT header with a key id and a version
// of 3 or more (none means 3), and the standard payload fields of that
// version with the right JSON types. It mirrors supertokens-node's
// parseJWTWithoutSignatureVerification and validateAccessTokenStructure.
// jws.DecodePayload gives what json.Unmarshal gives, value for value
// (FuzzDecodePayload), so numbers are float64 here.
func shapedLikeOurs(h jws.Header, p map[string]any) bool {
	version := 3
	if h.Version != "" {
		v, err := strconv.Atoi(h.Version)
		if err != nil {
			return false
		}
		version = v
	}
	if h.Typ != "JWT" || h.Kid == "" || version < 3 {
		return false
	}
	if stt, present := p["stt"]; present && stt != float64(0) {
		return false // another SuperTokens token type
	}
	for _, k := range [...]string{"sub", "sessionHandle", "refreshTokenHash1"} {
		if _, ok := p[k].(string); !ok {
			return false
		}
	}
	for _, k := range [...]string{"exp", "iat"} {
		if _, ok := p[k].(float64); !ok {
			return false
		}
	}
	switch {
	case version >= 5:
		_, ok := p["rsub"].(string)
		return ok
	case version == 4:
		_, ok := p["tId"].(string)
		return ok
	}
	return true
}

// customPayload returns the app's part of a payload: everything but the
// standard fields.
func customPayload(p claims.Payload) claims.Payload {
	out := make(claims.Payload, len(p))
	for k, v := range p {
		if !protectedKeys[k] {
			out[k] = v
		}
	}
	return out
}
