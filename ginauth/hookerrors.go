package ginauth

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ErrGeneral is the kind of the error GeneralError returns: the app refused
// a request with a message for the user. Recipes answer it with FDI's
// 200 {"status":"GENERAL_ERROR","message":...}; anywhere else it is a 400
// with the message.
var ErrGeneral = errors.New("ginauth: general error")

// NotAllowed returns the error a hook returns to refuse a sign-up or
// sign-in. It is an *Error of kind ErrSignInNotAllowed (403) whose Message
// is reason. Sign-in recipes answer it as their FDI *_NOT_ALLOWED status
// (SIGN_UP_NOT_ALLOWED, SIGN_IN_NOT_ALLOWED, SIGN_IN_UP_NOT_ALLOWED) with
// reason, which the frontend shows to the user; where a flow has no such
// status it is a 403 {"message": reason}.
func NotAllowed(reason string) error {
	return ErrorWithMessage(ErrSignInNotAllowed, reason, nil)
}

// GeneralError returns the error a hook returns to fail a request with a
// message for the user. It is an *Error of kind ErrGeneral; recipes answer
// it as 200 {"status":"GENERAL_ERROR","message":message}, which the
// frontend shows.
func GeneralError(message string) error {
	return ErrorWithMessage(ErrGeneral, message, nil)
}

// writeHookError (kit.WriteHookError) answers an error a hook (or CheckSignIn) returned, the way
// every recipe does: an ErrSignInNotAllowed error as
// 200 {"status": notAllowedStatus, "reason": ...} when notAllowedStatus is
// not empty, an ErrGeneral error as 200 {"status":"GENERAL_ERROR",
// "message": ...}, and anything else through WriteError.
func (a *Auth) writeHookError(c *gin.Context, err error, notAllowedStatus string) {
	var e *Error
	if errors.As(err, &e) {
		switch {
		case notAllowedStatus != "" && errors.Is(e.Kind, ErrSignInNotAllowed):
			c.JSON(http.StatusOK, gin.H{"status": notAllowedStatus, "reason": e.Message})
			return
		case errors.Is(e.Kind, ErrGeneral):
			c.JSON(http.StatusOK, gin.H{"status": "GENERAL_ERROR", "message": e.Message})
			return
		}
	}
	a.writeError(c, err)
}
