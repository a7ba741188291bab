package emailpassword

import (
	"errors"

	"github.com/ginauth/ginauth/recipes/kit"
)

// Sentinel errors returned by the recipe's Go API; check them with
// errors.Is. Database failures come back as ginauth errors (ginauth.ErrDatabase).
var (
	// ErrEmailExists: the tenant already has an account with this e-mail.
	ErrEmailExists = errors.New("emailpassword: this email already exists")
	// ErrWrongCredentials: no account has this e-mail and password. It
	// does not say which of the two was wrong.
	ErrWrongCredentials = errors.New("emailpassword: wrong credentials")
	// ErrInvalidToken: the password-reset token is unknown, used or
	// expired, or the account's e-mail changed since it was issued.
	ErrInvalidToken = errors.New("emailpassword: invalid password reset token")
	// ErrUnknownUser: there is no e-mail and password account for the user
	// id or e-mail given.
	ErrUnknownUser = errors.New("emailpassword: unknown user")
	// ErrInvalidField: an e-mail or password failed validation; the error
	// is a *FieldError saying which and why.
	ErrInvalidField = errors.New("emailpassword: invalid field")
	// ErrPasswordTooLong: the password is longer than the hasher accepts
	// (1024 bytes), whatever the validators say.
	ErrPasswordTooLong = errors.New("emailpassword: password too long")
	// ErrSignUpNotAllowed: account linking refuses the sign-up: a primary
	// user has the address and the new, unverified account could later be
	// linked to it (the reference's SIGN_UP_NOT_ALLOWED, ERR_CODE_007).
	// Nothing was written.
	ErrSignUpNotAllowed = errors.New("emailpassword: sign-up not allowed (account linking)")
	// ErrSignInNotAllowed: account linking refuses the sign-in of an
	// unverified account whose address a primary user has (the reference's
	// SIGN_IN_NOT_ALLOWED, ERR_CODE_008). Verifying the address lifts it.
	ErrSignInNotAllowed = errors.New("emailpassword: sign-in not allowed (account linking)")
	// ErrEmailChangeNotAllowed: account linking refuses an e-mail change
	// (UpdateEmailOrPassword): another primary user holds the new address
	// in a tenant of the user's linked group, or taking it unverified
	// could hand an account over (the reference's
	// EMAIL_CHANGE_NOT_ALLOWED_ERROR). Nothing was written.
	ErrEmailChangeNotAllowed = errors.New("emailpassword: e-mail change not allowed (account linking)")
	// ErrNotSetUp: the recipe has not been passed to ginauth.New yet.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
)

// FieldError is a form field that failed validation. It matches
// ErrInvalidField with errors.Is. Message is the text shown to the user,
// as in the FIELD_ERROR answer.
type FieldError struct {
	// ID is the form field's id ("email", "password").
	ID string
	// Message says what is wrong, for the user.
	Message string
}

// Error implements error.
func (e *FieldError) Error() string {
	return "emailpassword: invalid field " + e.ID + ": " + e.Message
}

// Is reports whether target is ErrInvalidField.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidField }
