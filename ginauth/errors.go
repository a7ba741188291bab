package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
)

// Sentinel errors. Every error ginauth returns matches one of them with
// errors.Is, and carries its HTTP meaning in an *Error.
var (
	// ErrUnauthorised: there is no usable session (no token, a revoked or
	// expired session, a refresh that failed). FDI: 401 "unauthorised".
	ErrUnauthorised = errors.New("ginauth: unauthorised")
	// ErrTryRefreshToken: the access token is expired or invalid; the
	// frontend should refresh and retry. FDI: 401 "try refresh token".
	ErrTryRefreshToken = errors.New("ginauth: try refresh token")
	// ErrTokenTheft: a superseded refresh token was presented; the session
	// has been revoked. FDI: 401 "token theft detected".
	ErrTokenTheft = errors.New("ginauth: token theft detected")
	// ErrInvalidClaim: the session exists but fails a claim validator.
	// FDI: 403 "invalid claim".
	ErrInvalidClaim = errors.New("ginauth: invalid claim")
	// ErrBadRequest: the request is malformed. 400 with a message saying
	// what was wrong.
	ErrBadRequest = errors.New("ginauth: bad request")
	// ErrNotFound: the user, session or other object asked for does not
	// exist.
	ErrNotFound = errors.New("ginauth: not found")
	// ErrDatabase: the database failed or is unreachable. 503.
	ErrDatabase = errors.New("ginauth: database unavailable")
	// ErrUnavailable: ginauth is too busy to answer now (for example every
	// password hasher is in use and the request gave up waiting). 503.
	ErrUnavailable = errors.New("ginauth: temporarily unavailable")
	// ErrRateLimited: too many attempts from one address or at one
	// account; 429 with Retry-After.
	ErrRateLimited = errors.New("ginauth: too many attempts")
	// ErrInternal: anything else that went wrong inside ginauth. 500.
	ErrInternal = errors.New("ginauth: internal error")
	// ErrConfig: Init or New was given an unusable Config.
	ErrConfig = errors.New("ginauth: invalid config")
)

// Error is the one error type ginauth hands to its error handler. Kind is
// one of the sentinel errors above; Status and Message are what goes on the
// wire; Err is the cause, logged but never sent.
type Error struct {
	Kind    error
	Status  int
	Message string
	// ClaimErrors is set for ErrInvalidClaim.
	ClaimErrors []claims.ValidationError
	// ClearTokens asks the transport to clear the session tokens from the
	// client (done before the error handler runs).
	ClearTokens bool
	// RetryAfter is sent as the Retry-After header (rate limiting).
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.Message != "" && e.Kind != nil && e.Message != kindMessage(e.Kind) {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is e's Kind (or an error its Kind wraps, as
// ErrUnknownTenant wraps ErrNotFound).
func (e *Error) Is(target error) bool {
	return target == e.Kind || (e.Kind != nil && errors.Is(e.Kind, target))
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func kindMessage(kind error) string {
	switch kind {
	case ErrUnauthorised:
		return "unauthorised"
	case ErrTryRefreshToken:
		return "try refresh token"
	case ErrTokenTheft:
		return "token theft detected"
	case ErrInvalidClaim:
		return "invalid claim"
	case ErrDatabase:
		return "the authentication database is unavailable, try again later"
	case ErrNotFound:
		return "not found"
	case ErrUnavailable:
		return "the server is busy, try again shortly"
	case ErrRateLimited:
		return "too many attempts, try again later"
	case ErrUnknownTenant:
		return "tenant not found"
	case ErrSignInNotAllowed:
		return "sign-in not allowed"
	case ErrGeneral:
		return "the request could not be completed"
	}
	return "internal server error"
}

func kindStatus(kind error) int {
	switch kind {
	case ErrUnauthorised, ErrTryRefreshToken, ErrTokenTheft:
		return http.StatusUnauthorized
	case ErrInvalidClaim:
		return http.StatusForbidden
	case ErrBadRequest, ErrGeneral:
		return http.StatusBadRequest
	case ErrNotFound, ErrUnknownTenant:
		return http.StatusNotFound
	case ErrSignInNotAllowed:
		return http.StatusForbidden
	case ErrDatabase, ErrUnavailable:
		return http.StatusServiceUnavailable
	case ErrRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// NewError builds an *Error of the given kind with the wire message that
// FDI expects for it. cause may be nil.
func NewError(kind error, cause error) *Error {
	return &Error{Kind: kind, Status: kindStatus(kind), Message: kindMessage(kind), Err: cause}
}

// BadRequest returns a 400 error whose message tells the client what was
// wrong with its request.
func BadRequest(format string, args ...any) *Error {
	return &Error{Kind: ErrBadRequest, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// DBError wraps a database failure as a 503 *Error. Context cancellation is
// kept recognisable through errors.Is. A nil err gives nil.
func DBError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return NewError(ErrDatabase, err)
}

// asError turns any error into an *Error; unknown errors become 500s.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NewError(ErrDatabase, err)
	}
	for _, k := range []error{ErrUnauthorised, ErrTryRefreshToken, ErrTokenTheft, ErrInvalidClaim, ErrBadRequest, ErrNotFound, ErrDatabase, ErrUnavailable, ErrRateLimited, ErrUnknownTenant, ErrSignInNotAllowed, ErrGeneral} {
		if errors.Is(err, k) {
			return NewError(k, err)
		}
	}
	return NewError(ErrInternal, err)
}

// ErrorHandler writes an error to the client. It is called for every error
// an auth route or guard produces, after the transport has cleared tokens
// where the error asks for it. Replace it through Config.ErrorHandler to
// change bodies; keep the status codes, which the frontend SDKs rely on.
type ErrorHandler func(c *gin.Context, err *Error)

// DefaultErrorHandler writes FDI's shapes: {"message": ...} for every
// status, plus "claimValidationErrors" for 403 invalid claim.
func DefaultErrorHandler(c *gin.Context, err *Error) {
	if err.Kind == ErrInvalidClaim {
		ce := err.ClaimErrors
		if ce == nil {
			ce = []claims.ValidationError{}
		}
		c.AbortWithStatusJSON(err.Status, gin.H{"message": err.Message, "claimValidationErrors": ce})
		return
	}
	c.AbortWithStatusJSON(err.Status, gin.H{"message": err.Message})
}

// writeError (kit.WriteError) sends err through the configured error handler, clears the
// session tokens when the error asks for it, records the error in c.Errors
// for the app's logging, and aborts the chain. Recipes call it for every
// failure.
func (a *Auth) writeError(c *gin.Context, err error) {
	e := asError(err)
	_ = c.Error(e)
	if e.Status >= 500 {
		a.log.ErrorContext(c.Request.Context(), "ginauth: request failed", "path", c.Request.URL.Path, "error", e.Error())
	}
	if e.ClearTokens {
		a.clearTokens(c, allTransfers)
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", retryAfterHeader(e.RetryAfter))
	}
	a.errorHandler(c, e)
	c.Abort()
}
