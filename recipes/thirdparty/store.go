package thirdparty

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// SignInUp signs a provider account in, creating its user on first use. The
// account is identified by (tenantID, thirdPartyID, thirdPartyUserID); the
// e-mail is stored (and updated when the provider reports a new one) but
// never used to find or merge accounts. When emailVerified is true,
// Config.OnVerifiedEmail is told. The BeforeSignInUp and AfterSignInUp hooks
// run as they do for the HTTP API; a veto is an error matching
// ginauth.ErrSignInNotAllowed (see ginauth.NotAllowed).
func (r *Recipe) SignInUp(ctx context.Context, tenantID, thirdPartyID, thirdPartyUserID, email string, emailVerified bool) (*ginauth.User, bool, error) {
	u, created, _, err := r.signInUp(ctx, SignInUpInfo{TenantID: tenantID, ThirdPartyID: thirdPartyID,
		UserInfo: UserInfo{ThirdPartyUserID: thirdPartyUserID, Email: email, EmailVerified: emailVerified}}, nil, nil)
	return u, created, err
}

// signInUp signs the account in or up. s is the request's session that
// the account may be linked to (see kit.LoadAuthSession; nil in the Go
// API) and tryLink the body's shouldTryLinkingWithSessionUser; the flow
// returned says whether the session is kept (kit.AuthFlow.KeepsSession).
// A tenant that does not offer the provider as a first factor is checked
// here when s is set (the caller checks it otherwise).
func (r *Recipe) signInUp(ctx context.Context, in SignInUpInfo, s *ginauth.Session, tryLink *bool) (*ginauth.User, bool, *kit.AuthFlow, error) {
	if r.auth == nil {
		return nil, false, nil, ErrNotSetUp
	}
	if in.TenantID == "" {
		in.TenantID = ginauth.DefaultTenant
	}
	tpuid := in.UserInfo.ThirdPartyUserID
	if in.ThirdPartyID == "" || tpuid == "" || len(tpuid) > 256 || len(in.ThirdPartyID) > 64 {
		return nil, false, nil, ginauth.BadRequest("a third-party account needs a provider id (at most 64 bytes) and a user id (at most 256 bytes)")
	}
	email := ginauth.NormaliseEmail(in.UserInfo.Email)
	if len(email) > 256 {
		return nil, false, nil, ginauth.BadRequest("the e-mail address is longer than 256 bytes")
	}
	in.UserInfo.Email = email

	row, err := r.account(ctx, r.auth.DB(), in.TenantID, in.ThirdPartyID, tpuid)
	if err != nil {
		return nil, false, nil, err
	}
	if row != nil {
		if in.Existing, err = r.auth.GetUser(ctx, row.UserID); err != nil {
			return nil, false, nil, err
		}
	}
	if h := r.cfg.Hooks.BeforeSignInUp; h != nil {
		if err := h(ctx, in); err != nil {
			return nil, false, nil, err
		}
	}

	inputUserID := ""
	if row != nil {
		inputUserID = row.UserID
	}
	flow, err := r.auth.BeginAuth(ctx, s, tryLink, Factor, accountInfo(in), inputUserID)
	if err != nil {
		return nil, false, nil, err
	}
	if s != nil && flow.FirstFactor() {
		if _, err := r.auth.CheckSignIn(ctx, in.TenantID, Factor); err != nil {
			return nil, false, nil, err
		}
	}
	if err := r.linkingAllows(ctx, flow, in, row); err != nil {
		return nil, false, nil, err
	}

	created := false
	var userID string
	if row != nil {
		userID = row.UserID
		if email != "" && email != row.Email {
			if err := r.updateEmail(ctx, userID, email); err != nil {
				return nil, false, nil, err
			}
		}
	} else {
		userID, created, err = r.createAccount(ctx, in.TenantID, in.ThirdPartyID, tpuid, email)
		if err != nil {
			return nil, false, nil, err
		}
	}

	if in.UserInfo.EmailVerified && email != "" && r.cfg.OnVerifiedEmail != nil {
		if err := r.cfg.OnVerifiedEmail(ctx, userID, email); err != nil {
			return nil, false, nil, err
		}
	}
	user, err := r.auth.GetUser(ctx, userID)
	if err != nil {
		return nil, false, nil, err
	}
	if user, err = r.auth.FinishAuth(ctx, flow, in.TenantID, userID, user); err != nil {
		return nil, false, nil, err
	}
	if h := r.cfg.Hooks.AfterSignInUp; h != nil {
		if err := h(ctx, SignInUpResult{SignInUpInfo: in, User: user, CreatedNewRecipeUser: created}); err != nil {
			return nil, false, nil, err
		}
	}
	return user, created, flow, nil
}

// accountInfo is what account linking knows the account of in by.
func accountInfo(in SignInUpInfo) kit.AccountInfo {
	return kit.AccountInfo{RecipeID: RecipeID, Email: in.UserInfo.Email,
		ThirdParty: &ginauth.ThirdPartyInfo{ID: in.ThirdPartyID, UserID: in.UserInfo.ThirdPartyUserID}}
}

// Reasons of SIGN_IN_UP_NOT_ALLOWED when account linking refuses
// (recipes/accountlinking); the reference's texts.
const (
	ReasonSignInNotAllowed  = "Cannot sign in / up due to security reasons. Please try a different login method or contact support. (ERR_CODE_004)"
	ReasonEmailTaken        = "Cannot sign in / up because new email cannot be applied to existing account. Please contact support. (ERR_CODE_005)"
	ReasonSignUpNotAllowed  = "Cannot sign in / up due to security reasons. Please try a different login method or contact support. (ERR_CODE_006)"
	ReasonEmailChangeRisked = "Cannot sign in / up because new email cannot be applied to existing account. Please contact support. (ERR_CODE_024)"
)

// linkingAllows asks account linking, when configured, whether this
// sign-up, sign-in or change of the provider's e-mail may go on: the
// reference's isSignUpAllowed, isEmailChangeAllowed and isSignInAllowed,
// with the provider's word on verification (or, inside a session that the
// account is to join, the session user's: flow).
func (r *Recipe) linkingAllows(ctx context.Context, flow *kit.AuthFlow, in SignInUpInfo, row *models.ThirdPartyUser) error {
	l := r.auth.Linker()
	if l == nil {
		return nil
	}
	ctx = flow.Ctx(ctx)
	email, verified := in.UserInfo.Email, in.UserInfo.EmailVerified
	if row == nil {
		info := accountInfo(in)
		verified = verified || flow.VerifiedInSessionUser(info)
		ok, err := l.SignUpAllowed(ctx, in.TenantID, info, verified)
		if err != nil {
			return err
		}
		if !ok {
			return ginauth.NotAllowed(ReasonSignUpNotAllowed)
		}
		return flow.CheckNewLink(info, verified)
	}
	if email != "" && email != row.Email {
		ok, conflict, err := l.EmailChangeAllowed(ctx, row.UserID, email, verified)
		switch {
		case err != nil:
			return err
		case !ok && conflict:
			return ginauth.NotAllowed(ReasonEmailTaken)
		case !ok:
			return ginauth.NotAllowed(ReasonEmailChangeRisked)
		}
	}
	ok, err := l.SignInAllowed(ctx, in.TenantID, row.UserID, verified)
	if err != nil || ok {
		return err
	}
	return ginauth.NotAllowed(ReasonSignInNotAllowed)
}

// updateEmail stores the address the provider now reports for an existing
// account. With account linking the linked group's account-info claims are
// made again in the same transaction, so the group holds the new address
// and lets go of the old one; when another primary user holds the new
// address in one of the group's tenants the change is rolled back and the
// sign-in refused (the reference core's EMAIL_CHANGE_NOT_ALLOWED_ERROR,
// answered as SIGN_IN_UP_NOT_ALLOWED with ERR_CODE_005).
func (r *Recipe) updateEmail(ctx context.Context, userID, email string) error {
	err := kit.RetryTransaction(r.auth.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		if err := tx.Model(&models.ThirdPartyUser{}).Where("user_id = ?", userID).Update("email", email).Error; err != nil {
			return err
		}
		ref, ok := r.auth.Linker().(kit.AccountInfoRefresher)
		if !ok {
			return nil
		}
		kind, err := ref.RefreshAccountInfoTx(ctx, tx, userID)
		if err == nil && kind != "" {
			err = ginauth.NotAllowed(ReasonEmailTaken)
		}
		return err
	})
	return ginauth.DBError(err)
}

// createAccount stores a new user and its account in one transaction. When a
// concurrent sign-in created the same account first, the key of
// ginauth_login_tenants refuses ours and that account is used instead.
func (r *Recipe) createAccount(ctx context.Context, tenantID, tpid, tpuid, email string) (string, bool, error) {
	var userID string
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		id, joined, err := r.auth.CreateUser(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		userID = id
		return tx.Create(&models.ThirdPartyUser{UserID: id, TenantID: tenantID, ThirdPartyID: tpid,
			ThirdPartyUserID: tpuid, Email: email, TimeJoined: joined}).Error
	})
	if err == nil {
		return userID, true, nil
	}
	if kit.IsUniqueViolation(err) {
		row, err2 := r.account(ctx, r.auth.DB(), tenantID, tpid, tpuid)
		if err2 == nil && row != nil {
			return row.UserID, false, nil
		}
	}
	return "", false, ginauth.DBError(err)
}

func (r *Recipe) account(ctx context.Context, db *gorm.DB, tenantID, tpid, tpuid string) (*models.ThirdPartyUser, error) {
	var row models.ThirdPartyUser
	// Through ginauth_login_tenants, so that an account whose user was
	// associated with the tenant signs in there too.
	db = db.WithContext(kit.DBContext(ctx))
	err := db.Where("third_party_id = ? AND third_party_user_id = ?", tpid, tpuid).
		Where("user_id IN (?)", models.LoginUserIDs(db, tenantID, models.LoginThirdParty+tpid, tpuid)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return &row, nil
}

// GetUserByThirdPartyInfo returns the user of a provider account in a
// tenant, or an error matching ginauth.ErrNotFound.
func (r *Recipe) GetUserByThirdPartyInfo(ctx context.Context, tenantID, thirdPartyID, thirdPartyUserID string) (*ginauth.User, error) {
	if r.auth == nil {
		return nil, ErrNotSetUp
	}
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	row, err := r.account(ctx, r.auth.DB(), tenantID, thirdPartyID, thirdPartyUserID)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, ginauth.NewError(ginauth.ErrNotFound, errors.New("no such third-party account"))
	}
	return r.auth.GetUser(ctx, row.UserID)
}

// GetUsersByEmail returns the users in a tenant whose provider accounts
// report the e-mail (case-insensitively), oldest first. Several providers may
// report one address; each account is its own user.
func (r *Recipe) GetUsersByEmail(ctx context.Context, tenantID, email string) ([]*ginauth.User, error) {
	if r.auth == nil {
		return nil, ErrNotSetUp
	}
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	var ids []string
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	// Accounts that sign in to the tenant: made there or associated with it.
	inTenant := db.Session(&gorm.Session{NewDB: true}).Model(&models.LoginTenant{}).Select("user_id").
		Where("tenant_id = ? AND method LIKE ?", tenantID, models.LoginThirdParty+"%")
	err := db.Model(&models.ThirdPartyUser{}).
		Where("email = ? AND user_id IN (?)", ginauth.NormaliseEmail(email), inTenant).
		Order("time_joined, user_id").Pluck("user_id", &ids).Error
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	users := make([]*ginauth.User, 0, len(ids))
	for _, id := range ids {
		u, err := r.auth.GetUser(ctx, id)
		if errors.Is(err, ginauth.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// loginMethods is the recipe's part of the FDI user object.
func (r *Recipe) loginMethods(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
	var rows []models.ThirdPartyUser
	if err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	out := make([]ginauth.LoginMethod, 0, len(rows))
	for _, row := range rows {
		out = append(out, ginauth.LoginMethod{
			RecipeID: RecipeID, RecipeUserID: row.UserID, TenantIDs: []string{row.TenantID},
			TimeJoined: row.TimeJoined.UnixMilli(), Email: row.Email,
			ThirdParty: &ginauth.ThirdPartyInfo{ID: row.ThirdPartyID, UserID: row.ThirdPartyUserID},
		})
	}
	return out, nil
}

func (r *Recipe) deleteUser(ctx context.Context, tx *gorm.DB, userID string) error {
	return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.ThirdPartyUser{}).Error)
}
