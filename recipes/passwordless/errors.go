package passwordless

import (
	"errors"
	"fmt"

	"github.com/ginauth/ginauth/recipes/kit"
)

// Sentinel errors returned by the recipe's Go API; check them with
// errors.Is. Database failures come back as ginauth errors
// (ginauth.ErrDatabase).
var (
	// ErrRestartFlow: the device is unknown (never existed, already used,
	// revoked, expired, in another tenant, or locked after too many wrong
	// codes), or the link code is unknown or expired. The user has to ask
	// for a new code. FDI: RESTART_FLOW_ERROR.
	ErrRestartFlow = errors.New("passwordless: restart the sign-in flow")
	// ErrIncorrectCode: the user input code is wrong; the error is a
	// *CodeError with the attempt counts. FDI:
	// INCORRECT_USER_INPUT_CODE_ERROR.
	ErrIncorrectCode = errors.New("passwordless: incorrect user input code")
	// ErrExpiredCode: the user input code was right but has expired; the
	// error is a *CodeError. FDI: EXPIRED_USER_INPUT_CODE_ERROR.
	ErrExpiredCode = errors.New("passwordless: expired user input code")
	// ErrInvalidContact: an e-mail address or phone number failed
	// validation, or a contact was not exactly one of the two, or not one
	// the configured ContactMethod accepts; the error is an
	// *InvalidContactError.
	ErrInvalidContact = errors.New("passwordless: invalid contact")
	// ErrUnknownUser: no passwordless user has this e-mail or phone number
	// in the tenant.
	ErrUnknownUser = errors.New("passwordless: unknown user")
	// ErrNotSetUp: the recipe has not been passed to ginauth.New yet.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
)

// CodeError is a wrong or expired user input code. It matches
// ErrIncorrectCode or ErrExpiredCode with errors.Is.
type CodeError struct {
	// Expired is true when the code was right but too old.
	Expired bool
	// FailedAttempts is how many wrong (or expired) codes the device has
	// had, this one included.
	FailedAttempts int
	// MaxAttempts is Config.MaxCodeInputAttempts: at that many the device
	// is deleted and ErrRestartFlow is returned instead.
	MaxAttempts int
}

// Error implements error.
func (e *CodeError) Error() string {
	what := "incorrect"
	if e.Expired {
		what = "expired"
	}
	return fmt.Sprintf("passwordless: %s user input code (%d of %d attempts)", what, e.FailedAttempts, e.MaxAttempts)
}

// Is reports whether target is ErrIncorrectCode or ErrExpiredCode, as
// Expired says.
func (e *CodeError) Is(target error) bool {
	if e.Expired {
		return target == ErrExpiredCode
	}
	return target == ErrIncorrectCode
}

// InvalidContactError is an e-mail address or phone number that was
// refused. It matches ErrInvalidContact; Message is the text the frontend
// shows (the HTTP API answers GENERAL_ERROR with it).
type InvalidContactError struct {
	Message string
}

// Error implements error.
func (e *InvalidContactError) Error() string { return "passwordless: " + e.Message }

// Is reports whether target is ErrInvalidContact.
func (e *InvalidContactError) Is(target error) bool { return target == ErrInvalidContact }
