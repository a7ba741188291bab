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
	// ErrTooLarge: the request body is over its limit. 413; it matches
	// ErrBadRequest too.
	ErrTooLarge = fmt.Errorf("%w: body too large", ErrBadRequest)
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

// Error implements error. It never panics: an Error without a Kind (the
// zero Error included) reads as ErrInternal.
func (e *Error) Error() string {
	if e == nil {
		return ErrInternal.Error()
	}
	kind := e.kind()
	msg := kind.Error()
	if e.Message != "" && e.Message != errorTable[kind].message {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// kind is e's Kind, ErrInternal when it has none.
func (e *Error) kind() error {
	if e == nil || e.Kind == nil {
		return ErrInternal
	}
	return e.Kind
}

// Is reports whether target is e's Kind (or an error its Kind wraps, as
// ErrUnknownTenant wraps ErrNotFound). An Error without a Kind is an
// ErrInternal.
func (e *Error) Is(target error) bool {
	return target == e.kind() || errors.Is(e.kind(), target)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// kindInfo is what goes on the wire for one kind of error.
type kindInfo struct {
	status  int
	message string
}

// errorTable is the one place each kind's HTTP status and default wire
// message are defined; every constructor reads it. A kind missing here is
// a 500 "internal server error".
var errorTable = map[error]kindInfo{
	ErrUnauthorised:     {http.StatusUnauthorized, "unauthorised"},
	ErrTryRefreshToken:  {http.StatusUnauthorized, "try refresh token"},
	ErrTokenTheft:       {http.StatusUnauthorized, "token theft detected"},
	ErrInvalidClaim:     {http.StatusForbidden, "invalid claim"},
	ErrBadRequest:       {http.StatusBadRequest, "bad request"},
	ErrTooLarge:         {http.StatusRequestEntityTooLarge, "the request body is too large"},
	ErrGeneral:          {http.StatusBadRequest, "the request could not be completed"},
	ErrNotFound:         {http.StatusNotFound, "not found"},
	ErrUnknownTenant:    {http.StatusNotFound, "tenant not found"},
	ErrSignInNotAllowed: {http.StatusForbidden, "sign-in not allowed"},
	ErrDatabase:         {http.StatusServiceUnavailable, "the authentication database is unavailable, try again later"},
	ErrUnavailable:      {http.StatusServiceUnavailable, "the server is busy, try again shortly"},
	ErrRateLimited:      {http.StatusTooManyRequests, "too many attempts, try again later"},
	ErrInternal:         {http.StatusInternalServerError, "internal server error"},
	ErrConfig:           {http.StatusInternalServerError, "internal server error"},
}

// tableKinds are the table's kinds in the order asError tries them:
// a kind that wraps another (ErrUnknownTenant, ErrTooLarge) before it.
var tableKinds = []error{ErrUnauthorised, ErrTryRefreshToken, ErrTokenTheft, ErrInvalidClaim, ErrTooLarge, ErrBadRequest,
	ErrUnknownTenant, ErrNotFound, ErrDatabase, ErrUnavailable, ErrRateLimited, ErrSignInNotAllowed, ErrGeneral}

func kindInfoOf(kind error) kindInfo {
	if k, ok := errorTable[kind]; ok {
		return k
	}
	return errorTable[ErrInternal]
}

// NewError builds an *Error of the given kind with the status and wire
// message that FDI expects for it (see the error table in errors.go).
// cause may be nil.
func NewError(kind error, cause error) *Error {
	return ErrorWithMessage(kind, "", cause)
}

// ErrorWithMessage is NewError with message on the wire instead of the
// kind's own (an empty message keeps the kind's). The status is still
// the kind's.
func ErrorWithMessage(kind error, message string, cause error) *Error {
	if kind == nil {
		kind = ErrInternal
	}
	k := kindInfoOf(kind)
	if message == "" {
		message = k.message
	}
	return &Error{Kind: kind, Status: k.status, Message: message, Err: cause}
}

// InvalidClaimError is the 403 "invalid claim" answer, with the failed
// validators' errors for the frontend; cause may be nil.
func InvalidClaimError(errs []claims.ValidationError, cause error) *Error {
	e := NewError(ErrInvalidClaim, cause)
	e.ClaimErrors = errs
	return e
}

// Unauthorised is a 401 "unauthorised" whose cause is logged; with
// clearTokens the client is told to drop its session tokens.
func Unauthorised(cause error, clearTokens bool) *Error {
	e := NewError(ErrUnauthorised, cause)
	e.ClearTokens = clearTokens
	return e
}

// tooLarge is the 413 answer to a body over limit bytes.
func tooLarge(limit int64) *Error {
	return ErrorWithMessage(ErrTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit), nil)
}

// BadRequest returns a 400 error whose message tells the client what was
// wrong with its request.
func BadRequest(format string, args ...any) *Error {
	return ErrorWithMessage(ErrBadRequest, fmt.Sprintf(format, args...), nil)
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
// An *Error built by hand without a Kind (the zero Error) is a 500 with
// the generic message, its own text kept as the logged cause; one with a
// Kind but no usable Status or Message gets the table's.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e == nil || e.Kind == nil:
			return NewError(ErrInternal, errorText{err})
		case e.Status < 100 || e.Status > 599 || e.Message == "":
			fixed := *e
			k := kindInfoOf(e.Kind)
			if fixed.Status < 100 || fixed.Status > 599 {
				fixed.Status = k.status
			}
			if fixed.Message == "" {
				fixed.Message = k.message
			}
			return &fixed
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NewError(ErrDatabase, err)
	}
	for _, k := range tableKinds {
		if errors.Is(err, k) {
			return NewError(k, err)
		}
	}
	return NewError(ErrInternal, err)
}

// errorText keeps a kindless *Error's text as a cause without making the
// answer match it again (errors.As would find the kindless Error).
type errorText struct{ err error }

func (t errorText) Error() string {
	if t.err == nil {
		return "nil error"
	}
	return t.err.Error()
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
