package ginauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/models"
)

// Session is the verified session of one request, as a handler sees it.
// Get it with SessionFrom, MustSession or SessionFromContext. It offers
// what SuperTokens' session container offers: ids, the access-token
// payload, claim values, payload merges and revocation. Methods that change
// the token send the new one on the current response.
//
// A Session is tied to its request: once the request has ended, the
// methods that would send a new token or clear the tokens
// (MergeIntoAccessTokenPayload and the claim setters, Revoke) change
// nothing and return an error matching ErrRequestEnded, since gin hands the
// request's *gin.Context to another request. Reading (UserID, Payload, ...)
// stays fine. Work that outlives the request uses the Auth methods that
// take a session handle (Auth.MergeIntoAccessTokenPayload,
// Auth.RevokeSession).
type Session struct {
	auth     *Auth
	resp     *respBinding // nil for sessions made outside a request
	tok      *verifiedToken
	transfer TokenTransfer
	revoked  bool

	// view is this request's own copy of tok.payload, made on the first
	// Payload call: a verified token's payload is shared, through the
	// verified-token cache, by every request that presents the token.
	viewMu sync.Mutex
	view   claims.Payload
}

// Auth returns the instance that verified the session.
func (s *Session) Auth() *Auth { return s.auth }

// UserID returns the (primary) user id, the token's sub.
func (s *Session) UserID() string { return s.tok.userID }

// RecipeUserID returns the id of the login method used to sign in.
func (s *Session) RecipeUserID() string { return s.tok.recipeUserID }

// TenantID returns the tenant the session belongs to.
func (s *Session) TenantID() string { return s.tok.tenantID }

// Handle returns the session handle, the session's id.
func (s *Session) Handle() string { return s.tok.handle }

// Expiry returns when the current access token expires.
func (s *Session) Expiry() time.Time { return s.tok.expiry }

// AccessTokenPayload returns a copy of the whole access-token payload,
// standard fields included.
//
// The copy is deep: verified tokens are cached and their payload shared by
// every request that presents the same token, so a handler that changes a
// nested value must not change it for the others.
func (s *Session) AccessTokenPayload() claims.Payload {
	return deepCopyJSON(s.tok.payload).(claims.Payload)
}

// deepCopyJSON copies a decoded JSON value: maps and slices are new, the
// rest (strings, numbers, booleans, nil) are immutable and shared.
func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case claims.Payload:
		out := make(claims.Payload, len(x))
		for k, e := range x {
			out[k] = deepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyJSON(e)
		}
		return out
	}
	return v
}

// Payload returns the access-token payload, standard fields included, for
// reading; claim accessors such as claims.Boolean.Get read from it.
//
// It is this request's own deep copy, made on the first call and returned
// again by later calls (until the session's token changes): a handler that
// modifies it changes nothing another request sees, and the verify path
// pays for the copy only when Payload is called.
func (s *Session) Payload() claims.Payload {
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	if s.view == nil {
		s.view = deepCopyJSON(s.tok.payload).(claims.Payload)
	}
	return s.view
}

// MergeIntoAccessTokenPayload merges update into the session's payload (a
// nil value removes a key; standard fields cannot be set), stores it so
// that refreshed tokens keep it, and sends a new access token and
// front-token on the current response.
func (s *Session) MergeIntoAccessTokenPayload(ctx context.Context, update claims.Payload) error {
	if s.revoked {
		return NewError(ErrUnauthorised, nil)
	}
	if err := s.resp.live(); err != nil {
		return err
	}
	custom := customPayload(s.tok.payload)
	claims.Merge(custom, stripProtected(update))
	if err := s.auth.storePayload(ctx, s.tok.handle, custom); err != nil {
		return err
	}
	return s.reissue(ctx, custom)
}

// SetClaimValue is MergeIntoAccessTokenPayload for a claim's update, e.g.
// s.SetClaimValue(ctx, secondFactor.Update(true, auth.now())).
func (s *Session) SetClaimValue(ctx context.Context, update claims.Payload) error {
	return s.MergeIntoAccessTokenPayload(ctx, update)
}

// FetchAndSetClaim fetches a claim's current value and stores it in the
// session.
func (s *Session) FetchAndSetClaim(ctx context.Context, c claims.Claim) error {
	update, err := c.Build(withRecipeUser(s.auth.withAuth(ctx), s.RecipeUserID()), s.UserID(), s.TenantID(), s.auth.now())
	if err != nil {
		return err
	}
	if update == nil {
		update = claims.Payload{c.Key(): nil}
	}
	return s.MergeIntoAccessTokenPayload(ctx, update)
}

// RemoveClaim removes a claim from the session.
func (s *Session) RemoveClaim(ctx context.Context, c claims.Claim) error {
	return s.MergeIntoAccessTokenPayload(ctx, claims.Payload{c.Key(): nil})
}

// AssertClaims runs validators against the session (refetching where they
// ask) and returns an ErrInvalidClaim *Error listing the failures.
func (s *Session) AssertClaims(ctx context.Context, validators ...claims.Validator) error {
	return s.auth.checkClaims(ctx, s, validators)
}

// GetSessionData returns the server-side data kept with the session.
func (s *Session) GetSessionData(ctx context.Context) (map[string]any, error) {
	info, err := s.auth.GetSessionInfo(ctx, s.tok.handle)
	if err != nil {
		return nil, err
	}
	return info.SessionData, nil
}

// UpdateSessionData replaces the server-side data kept with the session.
func (s *Session) UpdateSessionData(ctx context.Context, data map[string]any) error {
	return s.auth.UpdateSessionData(ctx, s.tok.handle, data)
}

// Revoke ends the session: its refresh token dies at once, and the tokens
// are cleared from the client on the current response.
func (s *Session) Revoke(ctx context.Context) error {
	if err := s.resp.live(); err != nil {
		return err
	}
	if _, err := s.auth.RevokeSession(ctx, s.tok.handle); err != nil {
		return err
	}
	s.revoked = true
	return s.resp.write(func(c *gin.Context) { s.auth.clearTokens(c, s.transfer) })
}

// reissue signs a new access token for the same session and expiry with
// the given custom payload, and sends it.
func (s *Session) reissue(ctx context.Context, custom claims.Payload) error {
	t := s.tok
	refreshHash1, _ := t.payload["refreshTokenHash1"].(string)
	parent, _ := t.payload["parentRefreshTokenHash1"].(string) // a child stays one until promoted (h-refresh)
	tok, err := s.auth.signAccessToken(ctx, tokenFields{handle: t.handle, userID: t.userID, recipeUserID: t.recipeUserID,
		tenantID: t.tenantID, refreshHash1: refreshHash1, parentRefreshHash1: parent, antiCSRF: t.antiCSRF}, custom, t.expiry)
	if err != nil {
		return err
	}
	s.tok = &verifiedToken{payload: tok.payload, payloadJSON: tok.payloadJSON, userID: t.userID, recipeUserID: t.recipeUserID,
		tenantID: t.tenantID, handle: t.handle, expiry: t.expiry, antiCSRF: t.antiCSRF, parent: parent}
	s.viewMu.Lock()
	s.view = nil
	s.viewMu.Unlock()
	return s.resp.write(func(c *gin.Context) { s.auth.writeAccessToken(c, s.transfer, tok) })
}

func stripProtected(p claims.Payload) claims.Payload {
	out := make(claims.Payload, len(p))
	for k, v := range p {
		if !protectedKeys[k] {
			out[k] = v
		}
	}
	return out
}

func (a *Auth) storePayload(ctx context.Context, handle string, custom claims.Payload) error {
	b, err := json.Marshal(custom)
	if err != nil {
		return BadRequest("the access-token payload cannot be encoded as JSON: %v", err)
	}
	res := a.db.WithContext(dbContext(ctx)).Model(&models.Session{}).Where("handle = ?", handle).
		Updates(map[string]any{"access_token_payload": string(b), "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return DBError(res.Error)
	}
	if res.RowsAffected == 0 {
		return NewError(ErrUnauthorised, nil)
	}
	return nil
}

type sessionKey struct{}

// ErrRequestEnded is the cause (errors.Is) of the error a Session method
// returns when it would write to a response whose request has ended: a
// Session kept past its handler, e.g. by a goroutine the handler started.
// Nothing was changed. Outside a request, use the Auth methods that take
// the session handle.
var ErrRequestEnded = errors.New("ginauth: the session's request has ended; use the Auth methods that take a session handle")

// respBinding ties a session to the response of the request that verified
// or created it. gin reuses a *gin.Context for another request once the
// handler chain returns, so the session never keeps c itself past that:
// end cuts the link under mu, and write runs under mu, so a write either
// happens while the request is live or not at all.
type respBinding struct {
	mu sync.Mutex
	c  *gin.Context // nil once ended
	// ctx is the request's context when no guard ends the binding
	// (GetSession, CreateSession): net/http cancels it when the handler
	// returns, which then counts as the end. nil for bindings that
	// VerifySession ends, whose handler may outlive a client's disconnect.
	ctx context.Context
}

func (b *respBinding) endedLocked() bool {
	return b.c == nil || (b.ctx != nil && b.ctx.Err() != nil)
}

// live returns the ErrRequestEnded error once the request has ended; nil
// while it runs, and always for a session made outside a request.
func (b *respBinding) live() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.endedLocked() {
		return NewError(ErrInternal, ErrRequestEnded)
	}
	return nil
}

// write runs f on the request's context if the request is still live.
func (b *respBinding) write(f func(c *gin.Context)) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.endedLocked() {
		return NewError(ErrInternal, ErrRequestEnded)
	}
	f(b.c)
	return nil
}

// end cuts the link: later writes are refused.
func (b *respBinding) end() {
	b.mu.Lock()
	b.c = nil
	b.mu.Unlock()
}

// SessionFrom returns the session VerifySession (or GetSession,
// CreateSession) attached to c's request, if any. The session travels in
// the request's context (see SessionFromContext): a handler that replaces
// c.Request must derive the new request's context from the old one.
func SessionFrom(c *gin.Context) (*Session, bool) {
	if c == nil || c.Request == nil {
		return nil, false
	}
	return sessionOf(c.Request.Context())
}

// sessionOf finds the session in a request context: directly when ours is
// the outermost layer (the usual case), else through Value.
func sessionOf(ctx context.Context) (*Session, bool) {
	if sc, ok := ctx.(*sessionCtx); ok {
		return sc.sess, sc.sess != nil
	}
	s, ok := ctx.Value(sessionKey{}).(*Session)
	return s, ok && s != nil
}

// MustSession returns the session VerifySession attached to c. It panics
// when there is none: use it only behind a VerifySession that requires a
// session.
func MustSession(c *gin.Context) *Session {
	s, ok := SessionFrom(c)
	if !ok {
		panic("ginauth: MustSession on a request without a verified session (is VerifySession in the chain?)")
	}
	return s
}

// SessionFromContext returns the session of a request from a plain
// context.Context: the request's own context (c.Request.Context()), one
// derived from it, or the *gin.Context itself.
func SessionFromContext(ctx context.Context) (*Session, bool) {
	if c, ok := ctx.(*gin.Context); ok {
		return SessionFrom(c)
	}
	return sessionOf(ctx)
}

// attachSession attaches s, created for c's request (CreateSession), and
// binds it to c's response until the request's context ends.
func attachSession(c *gin.Context, s *Session) {
	sc := &sessionCtx{sess: s}
	sc.resp.c, sc.resp.ctx = c, c.Request.Context()
	s.resp = &sc.resp
	attachSessionCtx(c, sc)
}

// sessionCtx is the request context with the session attached: what
// context.WithValue(parent, sessionKey{}, sess) gives, but carrying in one
// allocation the Session itself (own), its response binding and the copy
// of the request that carries the context. A verified request pays one
// allocation for everything the guard attaches.
type sessionCtx struct {
	context.Context
	sess *Session
	own  Session
	resp respBinding
	req  http.Request
}

// newSessionCtx returns a sessionCtx whose session is its own, to be
// filled in before attachSessionCtx.
func newSessionCtx() *sessionCtx {
	sc := new(sessionCtx)
	sc.sess = &sc.own
	return sc
}

func (sc *sessionCtx) Value(key any) any {
	switch key.(type) {
	case sessionKey:
		return sc.sess
	case originKey:
		// The website origin of the request the session came with, for
		// WebsiteOrigin(c.Request.Context()) behind VerifySession. It is
		// resolved when asked (from the request copy sc holds), so a cache
		// hit pays nothing for it; an origin recorded further out (an auth
		// route's withOrigin, WithWebsiteOrigin) wins.
		if v := sc.Context.Value(key); v != nil {
			return v
		}
		if a := sc.sess.auth; a != nil && a.s.multiOrigin && sc.req.Header != nil {
			return resolvedOrigin{a, a.originOf(&sc.req).origin}
		}
		return nil
	}
	return sc.Context.Value(key)
}

// attachSessionCtx makes sc the context of c's request, for SessionFrom
// and SessionFromContext alike. The request copy that carries it lives in
// sc (Request.WithContext's copy, inlined, stays on the stack), so
// attaching allocates nothing; gin's Keys map is left alone (c.Set would
// allocate it on every request).
func attachSessionCtx(c *gin.Context, sc *sessionCtx) {
	sc.Context = c.Request.Context()
	sc.req = *c.Request.WithContext(sc)
	c.Request = &sc.req
}
