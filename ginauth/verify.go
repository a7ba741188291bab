package ginauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/models"
)

// VerifyOptions tune one VerifySession guard. The zero value requires a
// session, checks anti-CSRF on non-GET requests, runs the global claim
// validators and does no database round trip.
type VerifyOptions struct {
	// Optional lets requests without a session through (SessionFrom then
	// reports none). A token that is not shaped like an access token counts
	// as none; one that is but does not verify (expired, forged) is still
	// refused with "try refresh token".
	Optional bool
	// AntiCSRF overrides the anti-CSRF check: nil checks non-GET requests,
	// a pointer to false skips the check, to true checks every method.
	AntiCSRF *bool
	// CheckDatabase looks the session up (one indexed read) so that a
	// revoked session is refused at once rather than when its access token
	// expires.
	CheckDatabase bool
	// OverrideGlobalClaimValidators replaces the global validators for this
	// route. It receives them and returns the list to run.
	OverrideGlobalClaimValidators func(global []claims.Validator, c *gin.Context) []claims.Validator
	// SkipClaims runs no claim validator (as SuperTokens does for sign-out
	// and the e-mail verification routes).
	SkipClaims bool
}

// VerifySession returns a guard that verifies the request's session and
// attaches it for SessionFrom. Failures are answered as FDI says: 401
// "unauthorised" without a session, 401 "try refresh token" for an expired
// or invalid access token, 403 "invalid claim" when a claim validator
// fails.
//
// It takes at most one VerifyOptions (the parameter is variadic so that
// the common case reads VerifySession()); more is a programming error and
// panics when the route is set up.
func (a *Auth) VerifySession(opts ...VerifyOptions) gin.HandlerFunc {
	var o VerifyOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		panic("ginauth: VerifySession takes at most one VerifyOptions; merge them into one")
	}
	return func(c *gin.Context) {
		if a.refuseClosed(c) {
			return
		}
		sc, err := a.getSessionCtx(c, o)
		if err != nil {
			a.writeError(c, err)
			return
		}
		if sc == nil {
			a.attach(c) // FromContext finds a; with a session, through it
			c.Next()
			return
		}
		// The session may write to c's response only while the chain runs:
		// gin reuses c afterwards (see respBinding).
		defer sc.resp.end()
		attachSessionCtx(c, sc)
		c.Next()
	}
}

// attach marks a request that has no session as served by a, for
// FromContext (the session, when there is one, carries a already).
func (a *Auth) attach(c *gin.Context) {
	if FromContext(c) == a {
		return
	}
	c.Set(authKey{}, a)
	c.Request = c.Request.WithContext(a.withAuth(c.Request.Context()))
}

// GetSession verifies the request's session the way VerifySession does,
// for handlers that decide themselves. It returns (nil, nil) when
// opts.Optional is set and there is no session.
func (a *Auth) GetSession(c *gin.Context, opts VerifyOptions) (*Session, error) {
	if a.Closed() {
		e := NewError(ErrUnavailable, ErrClosed)
		e.Message = closedMessage
		return nil, e
	}
	sc, err := a.getSessionCtx(c, opts)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		a.attach(c)
		return nil, nil
	}
	// No guard runs after the handler here: the request's context ending
	// ends the session's hold on c's response.
	sc.resp.ctx = c.Request.Context()
	attachSessionCtx(c, sc)
	return sc.sess, nil
}

// getSession verifies the request's session without attaching it, for
// ginauth's own handlers. The caller must end the returned binding when
// its handler returns.
func (a *Auth) getSession(c *gin.Context, o VerifyOptions) (*Session, *respBinding, error) {
	sc, err := a.getSessionCtx(c, o)
	if err != nil || sc == nil {
		return nil, nil, err
	}
	return sc.sess, &sc.resp, nil
}

// getSessionCtx is getSession with the session inside the context value
// that attachSessionCtx attaches, so that both cost one allocation.
func (a *Auth) getSessionCtx(c *gin.Context, o VerifyOptions) (*sessionCtx, error) {
	ctx := c.Request.Context()
	if hasLegacyIDRefreshCookie(c) {
		// A pre-v3 SuperTokens session's cookie: the refresh it earns clears
		// it (supertokens-node's getSessionFromRequest does the same, before
		// looking at any token and on optional routes too).
		return nil, NewError(ErrTryRefreshToken, errors.New("legacy sIdRefreshToken cookie: refresh to migrate"))
	}
	tok, t, err := a.accessTokenFromRequest(c)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		if o.Optional {
			return nil, nil
		}
		return nil, NewError(ErrUnauthorised, errors.New("no access token"))
	}
	if t == TransferCookie && a.antiCSRFApplies(c, o) {
		switch a.antiCSRFFor(c.Request) {
		case AntiCSRFViaCustomHeader:
			if c.GetHeader(HeaderRID) == "" {
				return nil, NewError(ErrTryRefreshToken, errors.New("anti-CSRF: no rid header"))
			}
		case AntiCSRFViaToken:
			if tok.antiCSRF == "" || c.GetHeader(HeaderAntiCSRF) != tok.antiCSRF {
				return nil, NewError(ErrTryRefreshToken, errors.New("anti-CSRF: token mismatch"))
			}
		}
	}
	if parent := tok.parent; parent != "" {
		// First use of a refreshed token: promote it (h-refresh; sessions.go).
		if tok, err = a.promoteChild(c, tok, parent, t); err != nil {
			return nil, err
		}
	}
	// Sensitive routes check the database whatever the options say.
	if o.CheckDatabase || IsSensitive(c) {
		var n int64
		dctx, cancel := a.dbDeadline(ctx)
		err := a.db.WithContext(dctx).Model(&models.Session{}).
			Where("handle = ? AND expires_at > ?", tok.handle, a.now()).Limit(1).Count(&n).Error
		cancel()
		if err != nil {
			return nil, DBError(err)
		}
		if n == 0 {
			return nil, revokedError()
		}
	}
	sc := newSessionCtx()
	sc.resp.c = c // ended by the caller, or by the request's context (GetSession)
	sc.own = Session{auth: a, resp: &sc.resp, tok: tok, transfer: t}
	s := sc.sess
	if !o.SkipClaims {
		validators := a.validators
		if o.OverrideGlobalClaimValidators != nil {
			validators = o.OverrideGlobalClaimValidators(append([]claims.Validator(nil), a.validators...), c)
		}
		if len(validators) > 0 {
			if err := a.checkClaims(ctx, s, validators); err != nil {
				return nil, err
			}
		}
	}
	return sc, nil
}

// accessTokenFromRequest picks the request's access token and verifies
// it, as supertokens-node's getAccessTokenFromRequest picks one:
//
//   - a token that is not shaped like an access token (errNotOurs) is
//     ignored wherever it is, so an app's own Authorization header (an API
//     key, another service's JWT) leaves a cookie session working, and on
//     an optional route means no session;
//   - the Authorization Bearer token wins over the cookie when both are
//     shaped like ours;
//   - a cookie-mode request carrying sAccessToken twice (an old cookie
//     domain or path left behind) is answered "try refresh token", whose
//     refresh then deals with the duplicates (see refreshDuplicateCookies).
//
// It returns a nil token when there is none; err is "try refresh token"
// for a token of ours that does not verify.
func (a *Auth) accessTokenFromRequest(c *gin.Context) (*verifiedToken, TokenTransfer, error) {
	ctx := c.Request.Context()
	if raw := bearer(c); raw != "" {
		tok, err := a.verifyAccessToken(ctx, raw)
		if !errors.Is(err, errNotOurs) {
			if err != nil {
				a.log.DebugContext(ctx, "ginauth: access token refused", "error", err)
				return nil, TransferHeader, NewError(ErrTryRefreshToken, err)
			}
			return tok, TransferHeader, nil
		}
		a.log.DebugContext(ctx, "ginauth: ignoring an Authorization header that is not a session token", "error", err)
	}
	raw := cookieValue(c, CookieAccessToken)
	if raw == "" {
		return nil, TransferCookie, nil
	}
	tok, err := a.verifyAccessToken(ctx, raw)
	if errors.Is(err, errNotOurs) {
		a.log.DebugContext(ctx, "ginauth: ignoring an sAccessToken cookie that is not a session token", "error", err)
		return nil, TransferCookie, nil
	}
	if duplicateCookie(c, CookieAccessToken) {
		return nil, TransferCookie, NewError(ErrTryRefreshToken, errors.New("multiple sAccessToken cookies"))
	}
	if err != nil {
		a.log.DebugContext(ctx, "ginauth: access token refused", "error", err)
		return nil, TransferCookie, NewError(ErrTryRefreshToken, err)
	}
	return tok, TransferCookie, nil
}

// dbDeadline bounds database work done inside a guard by DBTimeout.
func (a *Auth) dbDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = dbContext(ctx)
	if a.s.dbTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, a.s.dbTimeout)
}

func (a *Auth) antiCSRFApplies(c *gin.Context, o VerifyOptions) bool {
	if o.AntiCSRF != nil {
		return *o.AntiCSRF
	}
	return c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead && c.Request.Method != http.MethodOptions
}

// checkClaims refetches what the validators ask for (storing the new
// values and sending a new access token when anything changed), then
// validates.
func (a *Auth) checkClaims(ctx context.Context, s *Session, validators []claims.Validator) error {
	now := a.now()
	validators = claims.Bind(a.withAuth(ctx), validators)
	if stale := claims.NeedRefetch(s.tok.payload, validators, now); len(stale) > 0 {
		ctx, cancel := a.dbDeadline(a.withAuth(ctx))
		defer cancel()
		update := claims.Payload{}
		build := withRecipeUser(ctx, s.RecipeUserID())
		for _, cl := range stale {
			u, err := cl.Build(build, s.UserID(), s.TenantID(), now)
			if err != nil {
				return err
			}
			claims.Merge(update, u)
		}
		if len(update) > 0 {
			if err := s.MergeIntoAccessTokenPayload(ctx, update); err != nil {
				return err
			}
		}
	}
	if errs := claims.Check(s.tok.payload, validators, now); len(errs) > 0 {
		return InvalidClaimError(errs, nil)
	}
	return nil
}

// RequireClaim returns a guard that checks claim validators against the
// session a preceding VerifySession attached: 403 "invalid claim" with the
// failures, or 401 "unauthorised" when there is no session or when the
// session was verified by another instance (whose claims live in another
// database).
func (a *Auth) RequireClaim(validators ...claims.Validator) gin.HandlerFunc {
	return func(c *gin.Context) { a.requireClaim(c, validators) }
}

func (a *Auth) requireClaim(c *gin.Context, validators []claims.Validator) {
	if a.refuseClosed(c) {
		return
	}
	s, ok := SessionFrom(c)
	if !ok {
		a.writeError(c, NewError(ErrUnauthorised, errors.New("RequireClaim without a session (put VerifySession first)")))
		return
	}
	if s.auth != a {
		a.writeError(c, NewError(ErrUnauthorised, errors.New("RequireClaim on a session verified by another ginauth instance")))
		return
	}
	if err := a.checkClaims(c.Request.Context(), s, validators); err != nil {
		a.writeError(c, err)
		return
	}
	c.Next()
}
