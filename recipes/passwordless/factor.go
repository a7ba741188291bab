package passwordless

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

// This file is passwordless as a second factor: a code created, resent and
// consumed with shouldTryLinkingWithSessionUser true completes otp-email,
// otp-phone, link-email or link-phone in the caller's session instead of
// signing anyone in (SuperTokens' createCodePOST / consumeCodePOST with a
// session, through AuthUtils.preAuthChecks and postAuthChecks). No login
// method is linked here, so a contact must be the session user's own: one
// already on their passwordless login method, or one linked to them with
// the account-linking recipe (the factor is completed), or one nobody
// holds, which is then stored on the session user (the factor is set up,
// when the multifactorauth recipe allows it).

// Reasons of the SIGN_IN_UP_NOT_ALLOWED answers of the second-factor flow.
const (
	// ReasonContactOfAnotherUser refuses a code whose contact is another
	// user's login method: the code cannot complete a factor of this
	// session (SuperTokens' ERR_CODE_017, its refusal to link a login
	// method that belongs to another user).
	ReasonContactOfAnotherUser = "Cannot sign in / up due to security reasons. Please contact support. (ERR_CODE_017)"
	// ReasonContactTaken refuses setting up a contact when the session user
	// already has a different one of that kind (or, for a user of another
	// tenant, any): a user has one e-mail address and one phone number for
	// codes, and a second factor does not replace them.
	ReasonContactTaken = "This account already has a different contact for sign-in codes. Please contact support."
)

// contactOwner says whose a code's contact is, seen from a session.
type contactOwner int

const (
	ownedBySession contactOwner = iota // the session user's login method: a completion
	ownedByNobody                      // nobody's: a set-up, the contact goes on the session user
	ownedByOther                       // another user's: refused once the code is checked
)

// linkSession returns the session whose user a request's code is for: the
// request's session when its body says shouldTryLinkingWithSessionUser:
// true (then one is required, as SuperTokens' loadSessionInAuthAPIIfNeeded
// requires it), nil for a sign-in (the flag false or absent). The session's
// claim validators are skipped, as on every factor route: the MFA claim is
// what the code is there to satisfy. It answers and returns false on error.
func (r *Recipe) linkSession(c *gin.Context, obj map[string]json.RawMessage) (*ginauth.Session, bool) {
	var link bool
	if has(obj, fieldShouldTryLinking) {
		_ = json.Unmarshal(obj[fieldShouldTryLinking], &link) // readBody checked it is a boolean
	}
	if !link {
		return nil, true
	}
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{CheckDatabase: true, OverrideGlobalClaimValidators: noValidators})
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, false
	}
	return s, true
}

func noValidators([]claims.Validator, *gin.Context) []claims.Validator { return nil }

// mfa returns the multifactorauth recipe, when one is configured.
func (r *Recipe) mfa() *multifactorauth.Recipe {
	m, _ := multifactorauth.FromAuth(r.auth.Auth)
	return m
}

// secondFactor decides whether the session may use a code to ct for
// factor: it may complete a factor on its own contact, and set one up on a
// contact that is not its own only when the multifactorauth recipe allows
// setting factor up (a 403 invalid-claim error otherwise, as
// AssertAllowedToSetUp; SuperTokens' filterOutInvalidSecondFactors). A
// contact of another user passes this check, as in SuperTokens, so that the
// answer does not tell whose it is before the code proves the caller holds
// it; the consume refuses it.
func (r *Recipe) secondFactor(ctx context.Context, s *ginauth.Session, ct Contact, factor string) (contactOwner, error) {
	row, err := r.findUser(ctx, s.TenantID(), ct)
	switch {
	case err != nil && !errors.Is(err, ErrUnknownUser):
		return 0, err
	case err == nil:
		own, err := r.sessionsOwn(ctx, s, row.UserID)
		if err != nil {
			return 0, err
		}
		if own {
			return ownedBySession, nil
		}
	}
	if m := r.mfa(); m != nil {
		if err := m.AssertAllowedToSetUp(ctx, s, factor); err != nil {
			return 0, err
		}
	}
	if err == nil {
		return ownedByOther, nil
	}
	own, err := r.ownRow(ctx, r.auth.DB(), s.UserID())
	if err != nil {
		return 0, err
	}
	if !roomFor(own, s.TenantID(), ct) {
		return 0, ginauth.NotAllowed(ReasonContactTaken)
	}
	return ownedByNobody, nil
}

// sessionsOwn reports whether recipeUserID (a contact's passwordless
// user) is the session's user: the same user, or, with account linking, a
// login method linked to the session's primary user (whose GetUser is that
// primary), as supertokens-node's consumeCodePOST accepts a recipe user
// already linked to the session user.
func (r *Recipe) sessionsOwn(ctx context.Context, s *ginauth.Session, recipeUserID string) (bool, error) {
	if recipeUserID == s.UserID() {
		return true, nil
	}
	if r.auth.Linker() == nil {
		return false, nil
	}
	u, err := r.auth.GetUser(ctx, recipeUserID)
	if err != nil {
		return false, err
	}
	return u.ID == s.UserID(), nil
}

// ownRow returns the user's passwordless row, or nil.
func (r *Recipe) ownRow(ctx context.Context, db *gorm.DB, userID string) (*models.PasswordlessUser, error) {
	var rows []models.PasswordlessUser
	if err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// roomFor reports whether ct can be added to a user's passwordless row
// (nil: the user has none): the row is in the tenant and has no contact
// of ct's kind yet.
func roomFor(row *models.PasswordlessUser, tenantID string, ct Contact) bool {
	if row == nil {
		return true
	}
	if row.TenantID != tenantID {
		return false
	}
	if ct.IsEmail() {
		return row.Email == nil
	}
	return row.PhoneNumber == nil
}

// addContact stores ct on the session user's passwordless login method,
// creating it when they have none, inside tx: the set-up of a factor, so
// that later codes for the factor go to this contact and the user's login
// methods show it. A contact taken meanwhile (by another user, or a
// concurrent set-up) refuses the set-up, and tx rolls back.
func (r *Recipe) addContact(ctx context.Context, tx *gorm.DB, s *ginauth.Session, ct Contact) error {
	row, err := r.ownRow(ctx, tx, s.UserID())
	if err != nil {
		return err
	}
	if !roomFor(row, s.TenantID(), ct) {
		return ginauth.NotAllowed(ReasonContactTaken)
	}
	db := tx.WithContext(kit.DBContext(ctx))
	if row == nil {
		row = &models.PasswordlessUser{UserID: s.UserID(), TenantID: s.TenantID(), TimeJoined: r.auth.Now()}
		if ct.IsEmail() {
			row.Email = &ct.Email
		} else {
			row.PhoneNumber = &ct.PhoneNumber
		}
		err = db.Create(row).Error
	} else {
		col, val := "phone_number", ct.PhoneNumber
		if ct.IsEmail() {
			col, val = "email", ct.Email
		}
		res := db.Model(&models.PasswordlessUser{}).Where("user_id = ? AND "+col+" IS NULL", s.UserID()).UpdateColumn(col, val)
		if err = res.Error; err == nil && res.RowsAffected == 0 {
			return ginauth.NotAllowed(ReasonContactTaken)
		}
		if err == nil {
			// No hook runs on an update: the new contact signs in where the
			// method does, and the login rows' key refuses one another user
			// holds there.
			err = addLoginRows(db, s.UserID(), ct)
		}
	}
	if kit.IsUniqueViolation(err) {
		return ginauth.NotAllowed(ReasonContactOfAnotherUser)
	}
	if err != nil {
		return ginauth.DBError(err)
	}
	// A primary user's new contact is claimed for its group in the tenant,
	// as all its account info is, so that no other primary user can take
	// it there (a no-op for a user that is neither primary nor linked).
	if l := r.auth.Linker(); l != nil {
		what, err := l.ClaimTenantTx(ctx, db, s.TenantID(), s.UserID())
		if err != nil {
			return err
		}
		if what != "" {
			return ginauth.NotAllowed(ReasonContactOfAnotherUser)
		}
	}
	return nil
}

// consumeForSession serves a consume with a session: the code completes
// (or sets up and completes) its factor in that session, with the same
// user and the same session handle; nothing signs in. A right code, the
// contact stored on the user for a set-up and the st-mfa update are
// written in one transaction, which also confirms the session is live
// (401 and nothing written when it was revoked meanwhile).
func (r *Recipe) consumeForSession(c *gin.Context, s *ginauth.Session, in ConsumeInput, link bool) {
	ctx := c.Request.Context()
	var (
		owner contactOwner
		send  func() error
	)
	ct, ok := r.useCode(c, s.TenantID(), in, link, func(ct Contact) (func(*gorm.DB) error, bool) {
		factor := factorFor(ct, link)
		var err error
		if owner, err = r.secondFactor(ctx, s, ct, factor); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
			return nil, false
		}
		if owner == ownedByOther {
			return nil, true
		}
		var update claims.Payload
		if m := r.mfa(); m != nil {
			if update, err = m.CompletionUpdate(ctx, s, factor); err != nil {
				r.auth.WriteError(c, err)
				return nil, false
			}
		}
		return func(tx *gorm.DB) error {
			if owner == ownedByNobody {
				if err := r.addContact(ctx, tx, s, ct); err != nil {
					return err
				}
			}
			if update == nil {
				return s.LockTx(ctx, tx)
			}
			var err error
			send, err = s.MergeIntoAccessTokenPayloadTx(ctx, tx, update)
			return err
		}, true
	})
	if !ok {
		return
	}
	if owner == ownedByOther {
		r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventFactorFailed, UserID: s.UserID(), IP: c.ClientIP(),
			Detail: "passwordless: the code's contact belongs to another user"})
		c.JSON(http.StatusOK, gin.H{"status": StatusSignInUpNotAllowed, "reason": ReasonContactOfAnotherUser})
		return
	}
	if send != nil {
		if err := send(); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	// A code to an e-mail address proves it: verified for the session user
	// too, as SuperTokens' consumeCodePOST verifies it with a session.
	if err := r.markVerified(ctx, s.UserID(), ct); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	u, err := r.auth.GetUser(ctx, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "createdNewRecipeUser": owner == ownedByNobody, "user": u})
}

// RequiredSecondaryFactors returns the code factors a user has set up as a
// second factor: those of the contacts on their passwordless login method
// ("otp-email" and "link-email" for an e-mail address, the phone ones for
// a number, as far as the configuration offers them), when the user also
// signs in some other way (a password, a social account, a passkey). It
// has the signature of multifactorauth.Config.RequiredSecondaryFactors, for
// opt-in SMS or e-mail 2FA: once a user adds a phone, every sign-in asks
// for a code to it. A user who signs in only with codes gets nil.
func (r *Recipe) RequiredSecondaryFactors(ctx context.Context, userID, _ string) ([]string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	row, err := r.ownRow(ctx, r.auth.DB(), userID)
	if err != nil || row == nil {
		return nil, err
	}
	u, err := r.auth.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	other := false
	for _, m := range u.LoginMethods {
		other = other || m.RecipeID != RecipeID
	}
	if !other {
		return nil, nil
	}
	var out []string
	for _, f := range r.FactorIDs() {
		email := f == FactorOTPEmail || f == FactorLinkEmail
		if (email && row.Email != nil) || (!email && row.PhoneNumber != nil) {
			out = append(out, f)
		}
	}
	return out, nil
}
