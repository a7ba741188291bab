package emailpassword

import (
	"errors"
	"strings"

	"gorm.io/gorm"
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
	// ErrNotSetUp: the recipe has not been passed to ginauth.New yet.
	ErrNotSetUp = errors.New("emailpassword: recipe is not set up (pass it to ginauth.New in Config.Recipes)")
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

// NotAllowedError vetoes a sign-up or sign-in from a hook. The HTTP API
// answers SIGN_UP_NOT_ALLOWED or SIGN_IN_NOT_ALLOWED with Reason, which the
// frontend shows to the user.
type NotAllowedError struct {
	Reason string
}

// Error implements error.
func (e *NotAllowedError) Error() string { return "emailpassword: not allowed: " + e.Reason }

// GeneralError, returned by a hook, makes the HTTP API answer
// {"status":"GENERAL_ERROR","message":Message}; the frontend shows Message.
type GeneralError struct {
	Message string
}

// Error implements error.
func (e *GeneralError) Error() string { return "emailpassword: " + e.Message }

// isUniqueViolation recognises a unique-constraint failure on the
// databases GORM supports, without importing their drivers.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) { // with gorm.Config.TranslateError
		return true
	}
	var state interface{ SQLState() string } // pgx, lib/pq
	if errors.As(err, &state) && state.SQLState() == "23505" {
		return true
	}
	var coded interface{ Code() int } // modernc / glebarez SQLite
	if errors.As(err, &coded) {
		switch coded.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite drivers
		strings.Contains(msg, "SQLSTATE 23505") || // pgx text form
		strings.Contains(msg, "Duplicate entry") || // MySQL 1062
		strings.Contains(msg, "duplicate key") // Postgres, SQL Server
}
