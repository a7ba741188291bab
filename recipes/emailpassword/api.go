package emailpassword

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// This file is the recipe's Go API. It validates e-mails and new passwords
// with the configured validators but runs no Hooks: those belong to the
// HTTP flows.

// checkEmail validates a normalised address.
func (r *Recipe) checkEmail(ctx context.Context, email, tenantID string) error {
	if msg := r.cfg.ValidateEmail(ctx, email, tenantID); msg != "" {
		return &FieldError{ID: FieldEmail, Message: msg}
	}
	return nil
}

// checkPassword applies the password policy and the blocklist to a new
// password.
func (r *Recipe) checkPassword(ctx context.Context, password, tenantID string) error {
	if msg := r.cfg.ValidatePassword(ctx, password, tenantID); msg != "" {
		return &FieldError{ID: FieldPassword, Message: msg}
	}
	if r.cfg.BlockCommonPasswords && IsCommonPassword(password) {
		return &FieldError{ID: FieldPassword, Message: MsgPasswordTooCommon}
	}
	if len(password) > maxPasswordLen {
		return &FieldError{ID: FieldPassword, Message: MsgPasswordTooLong}
	}
	return nil
}

// SignUp creates an account with an e-mail and password in a tenant (""
// means the default tenant). The e-mail is normalised (NormaliseEmail) and
// both values are validated (a *FieldError on failure); an address the
// tenant already has gives ErrEmailExists. No session is created. With
// account linking configured it decides as the HTTP sign-up does:
// ErrSignUpNotAllowed when it refuses, and the user returned is the
// primary user the new account was linked to (its login method of this
// recipe has the new account's RecipeUserID).
func (r *Recipe) SignUp(ctx context.Context, tenantID, email, password string) (*ginauth.User, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	tenantID, email = kit.TenantOr(tenantID), NormaliseEmail(email)
	if err := r.checkEmail(ctx, email, tenantID); err != nil {
		return nil, err
	}
	if err := r.checkPassword(ctx, password, tenantID); err != nil {
		return nil, err
	}
	if err := r.linkingAllowsSignUp(ctx, nil, tenantID, email); err != nil {
		return nil, err
	}
	u, err := r.signUp(ctx, tenantID, email, password)
	if err != nil {
		return nil, err
	}
	r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventSignUp, UserID: u.ID, Account: email, Detail: RecipeID})
	return r.auth.LinkAfterSignIn(ctx, tenantID, u.ID, u)
}

// linkingAllowsSignUp asks account linking, when configured, whether a new
// unverified account may take email (the reference's isSignUpAllowed):
// ErrSignUpNotAllowed when a primary user could be linked through it. In
// a session (flow) the session user's own verified address counts as
// proof, and a login method that could not join the session user for want
// of one is a *kit.LinkFailure, before anything is written. The HTTP and
// Go sign-ups share it; the Go API's flow is nil.
func (r *Recipe) linkingAllowsSignUp(ctx context.Context, flow *kit.AuthFlow, tenantID, email string) error {
	l := r.auth.Linker()
	if l == nil {
		return nil
	}
	info := kit.AccountInfo{RecipeID: RecipeID, Email: email}
	ok, err := l.SignUpAllowed(flow.Ctx(ctx), tenantID, info, flow.VerifiedInSessionUser(info))
	if err != nil {
		return err
	}
	if !ok {
		return ErrSignUpNotAllowed
	}
	return flow.CheckNewLink(info, false)
}

// recipeUserID returns the id of u's e-mail and password login method for
// email in tenantID (u may be a primary user with several).
func (r *Recipe) recipeUserID(u *ginauth.User, tenantID, email string) string {
	return kit.RecipeUserID(u, RecipeID, func(m ginauth.LoginMethod) bool {
		return m.Email == email && slices.Contains(m.TenantIDs, tenantID)
	})
}

// linkSignIn is account linking's part of a sign-in that checked the
// password, shared by the HTTP and Go sign-ins: it refuses an unverified
// account whose address a primary user has (ErrSignInNotAllowed, the
// reference's isSignInAllowed) and otherwise links it as the app decides:
// to the session user when flow says so (a *kit.LinkFailure when it
// cannot), else by account info. It returns the user to answer with (the
// primary, when linked).
func (r *Recipe) linkSignIn(ctx context.Context, flow *kit.AuthFlow, tenantID, recipeUserID string, u *ginauth.User) (*ginauth.User, error) {
	l := r.auth.Linker()
	if l == nil {
		return u, nil
	}
	ok, err := l.SignInAllowed(flow.Ctx(ctx), tenantID, recipeUserID, false)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrSignInNotAllowed
	}
	return r.auth.FinishAuth(ctx, flow, tenantID, recipeUserID, u)
}

// signUp creates the user and its row in one transaction. The key of
// ginauth_login_tenants settles concurrent sign-ups for one address.
func (r *Recipe) signUp(ctx context.Context, tenantID, email, password string) (*ginauth.User, error) {
	// Checked first so that an existing address does not cost a hash; the
	// login rows' key still decides races.
	exists, err := r.emailExists(ctx, tenantID, email)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, ErrEmailExists
	}
	hash, err := r.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	userID, err := r.insertAccount(ctx, tenantID, email, hash)
	if err != nil {
		return nil, err
	}
	return r.auth.GetUser(ctx, userID)
}

// insertAccount stores a new user and its e-mail and password row in one
// transaction, mapping a unique violation on (tenant, email) to
// ErrEmailExists.
func (r *Recipe) insertAccount(ctx context.Context, tenantID, email, hash string) (string, error) {
	var userID string
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		id, joined, err := r.auth.CreateUser(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		row := models.EmailPasswordUser{UserID: id, TenantID: tenantID, Email: email, PasswordHash: hash, TimeJoined: joined}
		if err := tx.Create(&row).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return ErrEmailExists
			}
			return ginauth.DBError(err)
		}
		userID = id
		return nil
	})
	if errors.Is(err, ErrEmailExists) {
		return "", ErrEmailExists
	}
	if err != nil {
		return "", ginauth.DBError(err)
	}
	return userID, nil
}

// SignIn checks an e-mail and password in a tenant and returns the user.
// A wrong password and an unknown e-mail both give ErrWrongCredentials,
// after the same amount of hashing work. A hash made with other parameters
// than the configured ones (or a bcrypt hash) is replaced on success. No
// session is created, and no rate limit applies (the HTTP API has one): an
// app that takes passwords through its own routes should call
// ginauth.Auth.Reserve itself. With account linking configured it decides
// as the HTTP sign-in does: ErrSignInNotAllowed when it refuses, and the
// user returned is the primary user when the account is (or now gets)
// linked.
func (r *Recipe) SignIn(ctx context.Context, tenantID, email, password string) (*ginauth.User, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	tenantID, email = kit.TenantOr(tenantID), NormaliseEmail(email)
	u, err := r.signIn(ctx, tenantID, email, password)
	if err == nil {
		u, err = r.linkSignIn(ctx, nil, tenantID, r.recipeUserID(u, tenantID, email), u)
	}
	switch {
	case err == nil:
		r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventSignIn, UserID: u.ID, Account: email, Detail: RecipeID})
	case errors.Is(err, ErrWrongCredentials):
		r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventSignInFailed, Account: email, Detail: RecipeID})
	}
	return u, err
}

func (r *Recipe) signIn(ctx context.Context, tenantID, email, password string) (*ginauth.User, error) {
	row, err := r.findByEmail(ctx, tenantID, email)
	if errors.Is(err, ErrUnknownUser) {
		if err := r.hasher.Dummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, ErrWrongCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, rehash, err := r.hasher.Verify(ctx, row.PasswordHash, password)
	if errors.Is(err, errBadHash) {
		r.auth.Logger().ErrorContext(ctx, "emailpassword: stored password hash is not argon2id (PHC) or bcrypt; the user must reset the password",
			"user_id", row.UserID)
		return nil, ErrWrongCredentials
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrWrongCredentials
	}
	if rehash {
		r.rehash(ctx, row, password)
	}
	return r.auth.GetUser(ctx, row.UserID)
}

// rehash replaces an outdated hash after a successful sign-in. Failure is
// logged, not returned: the sign-in itself succeeded.
func (r *Recipe) rehash(ctx context.Context, row *models.EmailPasswordUser, password string) {
	hash, err := r.hasher.Hash(ctx, password)
	if err == nil {
		// Only if the hash is still the one verified: a concurrent
		// password change wins.
		err = r.auth.DB().WithContext(kit.DBContext(ctx)).Model(&models.EmailPasswordUser{}).
			Where("user_id = ? AND password_hash = ?", row.UserID, row.PasswordHash).
			Update("password_hash", hash).Error
	}
	if err != nil {
		r.auth.Logger().WarnContext(ctx, "emailpassword: upgrading a password hash failed", "user_id", row.UserID, "error", err)
	}
}

// GetUserByEmail returns the user with this e-mail and password account in
// the tenant, or ErrUnknownUser.
func (r *Recipe) GetUserByEmail(ctx context.Context, tenantID, email string) (*ginauth.User, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	row, err := r.findByEmail(ctx, kit.TenantOr(tenantID), NormaliseEmail(email))
	if err != nil {
		return nil, err
	}
	return r.auth.GetUser(ctx, row.UserID)
}

func (r *Recipe) findByEmail(ctx context.Context, tenantID, email string) (*models.EmailPasswordUser, error) {
	var row models.EmailPasswordUser
	// Through ginauth_login_tenants: the account signs in to the tenant it
	// was made in and to those its user was associated with.
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	err := db.Where("user_id IN (?)", models.LoginUserIDs(db, tenantID, models.LoginEmailPassword, email)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUnknownUser
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return &row, nil
}

func (r *Recipe) findByID(ctx context.Context, userID string) (*models.EmailPasswordUser, error) {
	var row models.EmailPasswordUser
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUnknownUser
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return &row, nil
}

func (r *Recipe) emailExists(ctx context.Context, tenantID, email string) (bool, error) {
	var n int64
	err := models.LoginUserIDs(r.auth.DB().WithContext(kit.DBContext(ctx)), tenantID, models.LoginEmailPassword, email).
		Limit(1).Count(&n).Error
	return n > 0, ginauth.DBError(err)
}

// CreateResetPasswordToken issues a password-reset token for the user's
// e-mail and password account in the tenant, valid for
// Config.ResetTokenValidity, and returns it. Only its SHA-256 is stored.
// It sends no e-mail: build the link with ResetPasswordLink if you need one.
func (r *Recipe) CreateResetPasswordToken(ctx context.Context, tenantID, userID string) (string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return "", err
	}
	tenantID = kit.TenantOr(tenantID)
	row, err := r.findByID(ctx, userID)
	if err != nil {
		return "", err
	}
	if row2, err := r.findByEmail(ctx, tenantID, row.Email); err != nil || row2.UserID != userID {
		return "", ErrUnknownUser // the account does not sign in to the tenant
	}
	return r.createToken(ctx, tenantID, row)
}

// createToken issues a reset token for the account, usable in tenantID
// (the tenant the request came to, which may not be the account's own).
func (r *Recipe) createToken(ctx context.Context, tenantID string, row *models.EmailPasswordUser) (string, error) {
	now := r.auth.Now()
	token := kit.Token(32)
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	// Expired tokens are useless; sweeping them here keeps the table small
	// without a background job.
	if err := db.Where("expires_at <= ?", now).Delete(&models.PasswordResetToken{}).Error; err != nil {
		return "", ginauth.DBError(err)
	}
	err := db.Create(&models.PasswordResetToken{MailedToken: models.MailedToken{TokenHash: kit.HashToken(token), UserID: row.UserID,
		TenantID: tenantID, Email: row.Email, CreatedAt: now, ExpiresAt: now.Add(r.cfg.ResetTokenValidity)}}).Error
	if err != nil {
		return "", ginauth.DBError(err)
	}
	return token, nil
}

// ResetPasswordUsingToken consumes a reset token (once: a used, expired,
// unknown or other-tenant token gives ErrInvalidToken, as does one whose
// account changed its e-mail since), sets the new password (validated: a
// *FieldError on failure) and revokes all the user's sessions. Every other
// outstanding reset token of the user dies with it.
func (r *Recipe) ResetPasswordUsingToken(ctx context.Context, tenantID, token, newPassword string) (*ginauth.User, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	tenantID = kit.TenantOr(tenantID)
	if err := r.checkPassword(ctx, newPassword, tenantID); err != nil {
		return nil, err
	}
	tok, err := r.resetPassword(ctx, tenantID, token, newPassword)
	if err != nil {
		return nil, err
	}
	r.afterReset(ctx, tok)
	r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventPasswordReset, UserID: tok.UserID, Account: tok.Email, Detail: RecipeID})
	return r.auth.GetUser(ctx, tok.UserID)
}

// afterReset clears the address's failed sign-ins and reset requests: whoever
// reset the password reads its mail, and a lockout someone else caused
// must not outlive it.
func (r *Recipe) afterReset(ctx context.Context, tok *models.PasswordResetToken) {
	r.resetFailures(ctx, tok.TenantID, ginauth.ActionSignIn, tok.Email)
	r.resetFailures(ctx, tok.TenantID, ginauth.ActionPasswordReset, tok.Email)
}

// resetPassword consumes the token and sets the password, returning the
// token's row (its user and e-mail).
func (r *Recipe) resetPassword(ctx context.Context, tenantID, token, newPassword string) (*models.PasswordResetToken, error) {
	if token == "" || len(token) > 256 {
		return nil, ErrInvalidToken
	}
	h := kit.HashToken(token)
	now := r.auth.Now()
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	live := func(q *gorm.DB) *gorm.DB {
		return q.Where("token_hash = ? AND tenant_id = ? AND expires_at > ?", h, tenantID, now)
	}
	// A cheap look first, so that made-up tokens cost no hash.
	var tok models.PasswordResetToken
	err := live(db).Take(&tok).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	hash, err := r.hasher.Hash(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		// The delete is the single-use guarantee: of two concurrent
		// resets with one token, only one deletes the row.
		res := live(tx).Delete(&models.PasswordResetToken{})
		if res.Error != nil {
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrInvalidToken
		}
		if err := tx.Where("user_id = ?", tok.UserID).Delete(&models.PasswordResetToken{}).Error; err != nil {
			return ginauth.DBError(err)
		}
		// The account must still sign in to the token's tenant.
		res = tx.Model(&models.EmailPasswordUser{}).Where("user_id = ? AND email = ?", tok.UserID, tok.Email).
			Where("user_id IN (?)", models.LoginUserIDs(tx, tok.TenantID, models.LoginEmailPassword, tok.Email)).
			Update("password_hash", hash)
		if res.Error != nil {
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 0 { // the e-mail changed, the account or its tenant went
			return ErrInvalidToken
		}
		_, err := r.auth.RevokeSessionsTx(ctx, tx, tok.UserID, "")
		return err
	})
	if errors.Is(err, ErrInvalidToken) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return &tok, nil
}

// UpdateEmailOrPassword changes a user's e-mail, password or both (nil
// leaves one as it is). A new e-mail is normalised and validated, and gives
// ErrEmailExists if a tenant the account signs in to has it already (its
// own or one its user was associated with); a new password is validated
// against the policy. Either change cancels outstanding reset tokens. A
// password change revokes every session of the user except keepSession (a
// session handle; "" revokes them all).
func (r *Recipe) UpdateEmailOrPassword(ctx context.Context, userID string, email, password *string, keepSession string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	row, err := r.findByID(ctx, userID)
	if err != nil {
		return err
	}
	updates := map[string]any{}
	if email != nil {
		e := NormaliseEmail(*email)
		if err := r.checkEmail(ctx, e, row.TenantID); err != nil {
			return err
		}
		if e != row.Email {
			if err := r.emailChangeAllowed(ctx, userID, e); err != nil {
				return err
			}
			updates["email"] = e
		}
	}
	if password != nil {
		if err := r.checkPassword(ctx, *password, row.TenantID); err != nil {
			return err
		}
		hash, err := r.hasher.Hash(ctx, *password)
		if err != nil {
			return err
		}
		updates["password_hash"] = hash
	}
	if len(updates) == 0 {
		return nil
	}
	// Retried: with account linking it also locks the group's users, which
	// MariaDB may answer with a deadlock.
	err = kit.RetryTransaction(r.auth.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		res := tx.Model(&models.EmailPasswordUser{}).Where("user_id = ?", userID).Updates(updates)
		if res.Error != nil {
			if kit.IsUniqueViolation(res.Error) {
				return ErrEmailExists
			}
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrUnknownUser
		}
		if e, ok := updates["email"].(string); ok {
			// In every tenant the account signs in to; one where another
			// user has the address refuses the change.
			if err := models.RekeyLogin(tx, userID, models.LoginEmailPassword, e); err != nil {
				if kit.IsUniqueViolation(err) {
					return ErrEmailExists
				}
				return ginauth.DBError(err)
			}
			// A linked group's account info follows the new address; one
			// another primary user holds refuses the change.
			if ref, ok := r.auth.Linker().(kit.AccountInfoRefresher); ok {
				kind, err := ref.RefreshAccountInfoTx(ctx, tx, userID)
				if err != nil {
					return err
				}
				if kind != "" {
					return ErrEmailChangeNotAllowed
				}
			}
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.PasswordResetToken{}).Error; err != nil {
			return ginauth.DBError(err)
		}
		if password != nil {
			// The password change and the revocation it implies commit
			// together.
			if _, err := r.auth.RevokeSessionsTx(ctx, tx, userID, keepSession); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrEmailExists) || errors.Is(err, ErrUnknownUser) || errors.Is(err, ErrEmailChangeNotAllowed) {
		return err
	}
	if err != nil {
		return ginauth.DBError(err)
	}
	if password != nil {
		r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventPasswordChanged, UserID: userID, Detail: RecipeID})
	}
	return nil
}

// emailChangeAllowed asks account linking, when configured, whether
// userID may take the address email: the reference's isEmailChangeAllowed,
// as supertokens-node's emailpassword updateEmailOrPassword asks it before
// writing. It returns ErrEmailChangeNotAllowed or nil.
func (r *Recipe) emailChangeAllowed(ctx context.Context, userID, email string) error {
	l := r.auth.Linker()
	if l == nil {
		return nil
	}
	verified, err := r.auth.EmailVerified(ctx, userID, email)
	if err != nil {
		return err
	}
	ok, _, err := l.EmailChangeAllowed(ctx, userID, email, verified)
	if err != nil {
		return err
	}
	if !ok {
		return ErrEmailChangeNotAllowed
	}
	return nil
}
