package passwordless

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// UpdateStatus is the outcome of UpdateUser, with the reference's status
// names (supertokens-node's passwordless updateUser).
type UpdateStatus string

// Outcomes of UpdateUser.
const (
	// UpdateOK: the change is stored.
	UpdateOK UpdateStatus = "OK"
	// UpdateUnknownUser: no passwordless login method has this recipe
	// user id.
	UpdateUnknownUser UpdateStatus = "UNKNOWN_USER_ID_ERROR"
	// UpdateEmailExists: another passwordless user has the e-mail address
	// in a tenant this user signs in to.
	UpdateEmailExists UpdateStatus = "EMAIL_ALREADY_EXISTS_ERROR"
	// UpdatePhoneExists: the same for the phone number.
	UpdatePhoneExists UpdateStatus = "PHONE_NUMBER_ALREADY_EXISTS_ERROR"
	// UpdateEmailChangeNotAllowed: account linking refuses the new
	// address (another primary user holds it, or taking it would risk an
	// account takeover); Reason says which.
	UpdateEmailChangeNotAllowed UpdateStatus = "EMAIL_CHANGE_NOT_ALLOWED_ERROR"
	// UpdatePhoneChangeNotAllowed: another primary user holds the new
	// number in a tenant of the user's linked group.
	UpdatePhoneChangeNotAllowed UpdateStatus = "PHONE_NUMBER_CHANGE_NOT_ALLOWED_ERROR"
)

// Reasons given with the *_CHANGE_NOT_ALLOWED statuses.
const (
	ReasonChangeConflict     = "the new value belongs to another primary user's account in a tenant of this user"
	ReasonChangeTakeoverRisk = "the new e-mail address is not verified and is another user's, so linking through it could hand over an account"
)

// UpdateResult is what UpdateUser answers.
type UpdateResult struct {
	Status UpdateStatus
	// Reason explains a *_CHANGE_NOT_ALLOWED status.
	Reason string
}

// Longest values the columns hold (models.PasswordlessUser).
const (
	maxEmailLen = 256
	maxPhoneLen = 32
)

// errBothRemoved refuses an update that would leave no contact.
var errBothRemoved = &InvalidContactError{Message: "a passwordless user keeps an e-mail address or a phone number: both cannot be removed"}

// UpdateUser changes the e-mail address and/or phone number of the
// passwordless login method recipeUserID, as supertokens-node's
// passwordless updateUser: nil leaves a value as it is, a pointer to ""
// removes it (not both). New values are normalised and validated with the
// configured validators (an *InvalidContactError, matching
// ErrInvalidContact, when refused; also for a NUL byte, invalid UTF-8 or
// a value longer than its column); nothing is changed then.
//
// The login method keeps signing in to the same tenants under its new
// values: its ginauth_login_tenants rows are replaced in the same
// transaction, whose key refuses a value another user holds in one of
// those tenants (UpdateEmailExists, UpdatePhoneExists; of two concurrent
// changes to one value, one wins). With account linking, a method of a
// linked group has its group's account info claimed again in that
// transaction, and a clash with another primary user refuses the change
// (UpdateEmailChangeNotAllowed, UpdatePhoneChangeNotAllowed). A new
// e-mail is not marked verified.
func (r *Recipe) UpdateUser(ctx context.Context, recipeUserID string, email, phoneNumber *string) (*UpdateResult, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if err := kit.CheckString("recipeUserId", recipeUserID, 64); err != nil {
		return nil, err
	}
	// Bytes no column may hold are refused before any query.
	if email != nil && kit.CheckString("email", *email, maxEmailLen) != nil {
		return nil, &InvalidContactError{Message: "the e-mail address holds a NUL byte, is not UTF-8 or is too long"}
	}
	if phoneNumber != nil && kit.CheckString("phoneNumber", *phoneNumber, maxPhoneLen*2) != nil {
		return nil, &InvalidContactError{Message: "the phone number holds a NUL byte, is not UTF-8 or is too long"}
	}
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	row, err := r.ownRow(ctx, db, recipeUserID)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return &UpdateResult{Status: UpdateUnknownUser}, nil
	}
	// The validators are the ones of the tenant the method was made in.
	if email, err = checkNew(ctx, email, row.TenantID, "e-mail address", maxEmailLen, NormaliseEmail, r.cfg.ValidateEmail); err != nil {
		return nil, err
	}
	if phoneNumber, err = checkNew(ctx, phoneNumber, row.TenantID, "phone number", maxPhoneLen, NormalisePhoneNumber, r.cfg.ValidatePhoneNumber); err != nil {
		return nil, err
	}
	if email != nil && phoneNumber != nil && *email == "" && *phoneNumber == "" {
		return nil, errBothRemoved
	}
	if email != nil && *email != "" && *email != deref(row.Email) {
		// The reference asks account linking first, outside the write:
		// a new address another user holds unverified may be refused.
		if res, err := r.emailChangeAllowed(ctx, recipeUserID, *email); res != nil || err != nil {
			return res, err
		}
	}
	var res *UpdateResult
	err = kit.RetryTransaction(db, func(tx *gorm.DB) error {
		res = nil
		out, err := r.updateTx(ctx, tx, recipeUserID, email, phoneNumber)
		if err == nil && out.Status != UpdateOK {
			res = out
			return errUpdateRefused
		}
		res = out
		return err
	})
	if errors.Is(err, errUpdateRefused) {
		return res, nil
	}
	if err != nil {
		var ice *InvalidContactError
		if errors.As(err, &ice) {
			return nil, err
		}
		return nil, ginauth.DBError(err)
	}
	return res, nil
}

// errUpdateRefused rolls back an update refused with a status.
var errUpdateRefused = errors.New("passwordless: update refused")

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkNew normalises and validates a new value (nil: unchanged; ""
// removes). A custom validator may accept what the column cannot hold,
// hence the length check after it.
func checkNew(ctx context.Context, v *string, tenantID, what string, maxLen int,
	normalise func(string) string, validate func(context.Context, string, string) string) (*string, error) {
	if v == nil {
		return nil, nil
	}
	n := normalise(*v)
	if n == "" {
		return &n, nil
	}
	if msg := validate(ctx, n, tenantID); msg != "" {
		return nil, &InvalidContactError{Message: msg}
	}
	if len(n) > maxLen {
		return nil, &InvalidContactError{Message: fmt.Sprintf("the %s is longer than %d characters", what, maxLen)}
	}
	return &n, nil
}

// emailChangeAllowed asks account linking, when configured, whether the
// login method may take email (the reference's isEmailChangeAllowed, with
// the address verified when the emailverification recipe says so). It
// returns a refusal, or nil.
func (r *Recipe) emailChangeAllowed(ctx context.Context, userID, email string) (*UpdateResult, error) {
	l := r.auth.Linker()
	if l == nil {
		return nil, nil
	}
	verified, err := r.auth.EmailVerified(ctx, userID, email)
	if err != nil {
		return nil, err
	}
	ok, conflict, err := l.EmailChangeAllowed(ctx, userID, email, verified)
	switch {
	case err != nil:
		return nil, err
	case !ok && conflict:
		return &UpdateResult{Status: UpdateEmailChangeNotAllowed, Reason: ReasonChangeConflict}, nil
	case !ok:
		return &UpdateResult{Status: UpdateEmailChangeNotAllowed, Reason: ReasonChangeTakeoverRisk}, nil
	}
	return nil, nil
}

// updateTx writes the change inside tx: the row, its login-tenant rows,
// and the linked group's account info. A refusal comes back as a status.
func (r *Recipe) updateTx(ctx context.Context, tx *gorm.DB, userID string, email, phone *string) (*UpdateResult, error) {
	// A write that changes nothing comes first: it locks the row, so that
	// two changes of one user apply one after the other, and takes
	// SQLite's write lock before any read (a read first would make
	// concurrent transactions fail to upgrade with SQLITE_BUSY).
	if err := tx.Model(&models.PasswordlessUser{}).Where("user_id = ?", userID).
		UpdateColumn("tenant_id", gorm.Expr("tenant_id")).Error; err != nil {
		return nil, err
	}
	var rows []models.PasswordlessUser
	if err := tx.Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return &UpdateResult{Status: UpdateUnknownUser}, nil
	}
	row := rows[0]
	newEmail, newPhone := deref(row.Email), deref(row.PhoneNumber)
	if email != nil {
		newEmail = *email
	}
	if phone != nil {
		newPhone = *phone
	}
	if newEmail == "" && newPhone == "" {
		return nil, errBothRemoved
	}
	emailChanged, phoneChanged := newEmail != deref(row.Email), newPhone != deref(row.PhoneNumber)
	if !emailChanged && !phoneChanged {
		return &UpdateResult{Status: UpdateOK}, nil
	}
	// The tenants the method signs in to, read before its rows change.
	tenants, err := models.LoginTenantIDs(tx, userID, models.LoginPasswordlessEmail, models.LoginPasswordlessPhone)
	if err != nil {
		return nil, err
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if err := tx.Model(&models.PasswordlessUser{}).Where("user_id = ?", userID).
		UpdateColumns(map[string]any{"email": nullable(newEmail), "phone_number": nullable(newPhone)}).Error; err != nil {
		return nil, err
	}
	if emailChanged {
		if err := models.SetLogin(tx, userID, models.LoginPasswordlessEmail, newEmail, tenants); err != nil {
			if kit.IsUniqueViolation(err) {
				return &UpdateResult{Status: UpdateEmailExists}, nil
			}
			return nil, err
		}
	}
	if phoneChanged {
		if err := models.SetLogin(tx, userID, models.LoginPasswordlessPhone, newPhone, tenants); err != nil {
			if kit.IsUniqueViolation(err) {
				return &UpdateResult{Status: UpdatePhoneExists}, nil
			}
			return nil, err
		}
	}
	if ref, ok := r.auth.Linker().(kit.AccountInfoRefresher); ok {
		kind, err := ref.RefreshAccountInfoTx(ctx, tx, userID)
		switch {
		case err != nil:
			return nil, err
		case kind == "phone":
			return &UpdateResult{Status: UpdatePhoneChangeNotAllowed, Reason: ReasonChangeConflict}, nil
		case kind != "":
			return &UpdateResult{Status: UpdateEmailChangeNotAllowed, Reason: ReasonChangeConflict}, nil
		}
	}
	return &UpdateResult{Status: UpdateOK}, nil
}

// addLoginRows records a contact just added to userID's passwordless row
// in every tenant the row's other contact signs in to.
func addLoginRows(tx *gorm.DB, userID string, ct Contact) error {
	method, other := models.LoginPasswordlessPhone, models.LoginPasswordlessEmail
	if ct.IsEmail() {
		method, other = other, method
	}
	tenants, err := models.LoginTenantIDs(tx, userID, other)
	if err != nil {
		return err
	}
	return models.SetLogin(tx, userID, method, ct.String(), tenants)
}
