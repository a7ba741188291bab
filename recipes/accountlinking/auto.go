package accountlinking

import (
	"context"
	"errors"
	"slices"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

var _ kit.AccountLinker = (*Recipe)(nil)

// ownMethod returns the login method of recipeUserID in u (its group).
func ownMethod(u *ginauth.User, recipeUserID string) (ginauth.LoginMethod, bool) {
	for _, m := range u.LoginMethods {
		if m.RecipeUserID == recipeUserID {
			return m, true
		}
	}
	return ginauth.LoginMethod{}, false
}

func infoOf(m ginauth.LoginMethod) AccountInfo {
	return AccountInfo{RecipeID: m.RecipeID, Email: m.Email, PhoneNumber: m.PhoneNumber, ThirdParty: m.ThirdParty}
}

func inTenant(m ginauth.LoginMethod, tenantID string) bool {
	for _, t := range m.TenantIDs {
		if t == tenantID {
			return true
		}
	}
	return false
}

// hasVerified reports whether u has a verified login method with info's
// e-mail or phone number.
func hasVerified(u *ginauth.User, info AccountInfo) bool {
	email := ginauth.NormaliseEmail(info.Email)
	for _, m := range u.LoginMethods {
		if !m.Verified {
			continue
		}
		if (email != "" && ginauth.NormaliseEmail(m.Email) == email) || (info.PhoneNumber != "" && m.PhoneNumber == info.PhoneNumber) {
			return true
		}
	}
	return false
}

// sameInfo returns the users with info's e-mail or phone number in
// tenantID: the primary one (at most one per value: models.AccountInfo's
// key), and the login methods with that address or number of users that
// are not linked (the reference's listUsersByAccountInfo with the union of
// the account info).
func (r *Recipe) sameInfo(ctx context.Context, tenantID string, info AccountInfo) (*ginauth.User, []ginauth.LoginMethod, error) {
	email := ginauth.NormaliseEmail(info.Email)
	var users []ginauth.User
	if email != "" {
		list, _, err := r.k.ListUsers(ctx, ginauth.ListUsersOptions{Email: email, TenantID: tenantID, Limit: ginauth.MaxListUsersLimit})
		if err != nil {
			return nil, nil, err
		}
		users = list
	}
	if info.PhoneNumber != "" {
		more, err := r.byPhone(ctx, tenantID, info.PhoneNumber)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range more {
			if !slices.ContainsFunc(users, func(o ginauth.User) bool { return o.ID == u.ID }) {
				users = append(users, u)
			}
		}
	}
	var primary *ginauth.User
	var others []ginauth.LoginMethod
	for i := range users {
		u := &users[i]
		if u.IsPrimaryUser {
			if primary == nil {
				primary = u
			}
			continue
		}
		for _, m := range u.LoginMethods {
			same := (email != "" && ginauth.NormaliseEmail(m.Email) == email) || (info.PhoneNumber != "" && m.PhoneNumber == info.PhoneNumber)
			if same && inTenant(m, tenantID) {
				others = append(others, m)
			}
		}
	}
	return primary, others, nil
}

// byPhone returns the users (primary users for linked ones) with a
// passwordless login method for phone in tenantID, found through the
// login-tenant index every recipe row keeps.
func (r *Recipe) byPhone(ctx context.Context, tenantID, phone string) ([]ginauth.User, error) {
	var ids []string
	db := r.k.DB().WithContext(kit.DBContext(ctx))
	if err := models.LoginUserIDs(db, tenantID, models.LoginPasswordlessPhone, phone).Limit(ginauth.MaxListUsersLimit).Pluck("user_id", &ids).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	var out []ginauth.User
	for _, id := range ids {
		u, err := r.k.GetUser(ctx, id)
		if errors.Is(err, ginauth.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, nil
}

// allowed is the reference's isSignInUpAllowedHelper: self is the
// signing-in login method's user ("" on sign-up).
func (r *Recipe) allowed(ctx context.Context, tenantID string, info AccountInfo, verified bool, self string) (bool, error) {
	primary, others, err := r.sameInfo(ctx, tenantID, info)
	if err != nil {
		return false, err
	}
	sess := kit.SessionFrom(ctx)
	if primary == nil {
		rest := others[:0:0]
		for _, m := range others {
			if m.RecipeUserID != self {
				rest = append(rest, m)
			}
		}
		if len(rest) == 0 {
			return true, nil
		}
		d, err := r.decide(ctx, info, nil, tenantID)
		if err != nil || !d.Link || !d.RequireVerification {
			return err == nil, err
		}
		// Whoever becomes primary first must be the address's owner:
		// refuse while another user has it unverified. The session's own
		// user is the requester's: no takeover there.
		for _, m := range rest {
			if !m.Verified && (sess == nil || m.RecipeUserID != sess.UserID()) {
				return false, nil
			}
		}
		return true, nil
	}
	if self != "" {
		if _, ok := ownMethod(primary, self); ok {
			return true, nil
		}
	}
	d, err := r.decide(ctx, info, primary, tenantID)
	if err != nil || !d.Link || !d.RequireVerification {
		return err == nil, err
	}
	if !verified {
		// Never create a login method that a primary user would then be
		// linked through once its owner verifies it: that could be
		// someone else's address (pre-account takeover).
		return false, nil
	}
	if sess != nil && primary.ID == sess.UserID() {
		return true, nil
	}
	return hasVerified(primary, info), nil
}

// ShouldLink asks the app's ShouldDoAutomaticAccountLinking whether a
// login method with info would be linked to primary (nil: none yet) in
// tenantID, and whether that needs verified addresses. Recipes whose
// flows decide on it (a passkey recovery, as the reference's
// generateRecoverAccountTokenPOST) ask it through an interface of their own.
func (r *Recipe) ShouldLink(ctx context.Context, tenantID string, info AccountInfo, primary *ginauth.User) (link, requireVerification bool, err error) {
	if err := r.ready(); err != nil {
		return false, false, err
	}
	d, err := r.decide(ctx, info, primary, kit.TenantOr(tenantID))
	return d.Link, d.RequireVerification, err
}

// SignUpAllowed implements kit.AccountLinker (the reference's
// isSignUpAllowed).
func (r *Recipe) SignUpAllowed(ctx context.Context, tenantID string, info AccountInfo, verified bool) (bool, error) {
	if err := r.ready(); err != nil {
		return false, err
	}
	return r.allowed(ctx, kit.TenantOr(tenantID), info, verified, "")
}

// SignInAllowed implements kit.AccountLinker (the reference's
// isSignInAllowed): a primary user, a verified login method and a sign-in
// that verifies pass at once.
func (r *Recipe) SignInAllowed(ctx context.Context, tenantID, recipeUserID string, verifies bool) (bool, error) {
	if err := r.ready(); err != nil {
		return false, err
	}
	u, err := r.k.GetUser(ctx, recipeUserID)
	if err != nil {
		return false, err
	}
	m, ok := ownMethod(u, recipeUserID)
	if u.IsPrimaryUser || !ok || m.Verified || verifies {
		return true, nil
	}
	return r.allowed(ctx, kit.TenantOr(tenantID), infoOf(m), m.Verified, recipeUserID)
}

// EmailChangeAllowed implements kit.AccountLinker (the reference's
// isEmailChangeAllowed, for the tenants of the user).
func (r *Recipe) EmailChangeAllowed(ctx context.Context, recipeUserID, newEmail string, verified bool) (bool, bool, error) {
	if err := r.ready(); err != nil {
		return false, false, err
	}
	u, err := r.k.GetUser(ctx, recipeUserID)
	if err != nil {
		return false, false, err
	}
	m, _ := ownMethod(u, recipeUserID)
	for _, t := range u.TenantIDs {
		primary, others, err := r.sameInfo(ctx, t, AccountInfo{Email: newEmail})
		if err != nil {
			return false, false, err
		}
		if primary != nil && primary.ID == u.ID {
			primary = nil
		}
		if u.IsPrimaryUser {
			if primary != nil {
				return false, true, nil
			}
			if verified || hasVerified(u, AccountInfo{Email: newEmail}) || len(others) == 0 {
				continue
			}
			d, err := r.decide(ctx, infoOf(others[0]), u, t)
			if err != nil {
				return false, false, err
			}
			if d.Link && d.RequireVerification {
				return false, false, nil
			}
			continue
		}
		if verified || ginauth.NormaliseEmail(m.Email) == ginauth.NormaliseEmail(newEmail) || primary == nil {
			continue
		}
		d, err := r.decide(ctx, infoOf(m), primary, t)
		if err != nil {
			return false, false, err
		}
		if d.Link && d.RequireVerification {
			return false, false, nil
		}
	}
	return true, false, nil
}

// maxLinkTries bounds LinkOrCreatePrimary's retries after losing a race to
// a concurrent sign-up (the reference retries the same way).
const maxLinkTries = 10

// LinkOrCreatePrimary implements kit.AccountLinker: the reference's
// tryLinkingByAccountInfoOrCreatePrimaryUser.
func (r *Recipe) LinkOrCreatePrimary(ctx context.Context, tenantID, recipeUserID string) (string, error) {
	if err := r.ready(); err != nil {
		return "", err
	}
	tenantID = kit.TenantOr(tenantID)
	for range maxLinkTries {
		u, err := r.k.GetUser(ctx, recipeUserID)
		if err != nil {
			return "", err
		}
		if u.IsPrimaryUser {
			return u.ID, nil
		}
		m, ok := ownMethod(u, recipeUserID)
		if !ok {
			return recipeUserID, nil
		}
		info := infoOf(m)
		primaryID, err := r.primaryFor(ctx, tenantID, info)
		if err != nil {
			return "", err
		}
		if primaryID == "" {
			d, err := r.decide(ctx, info, nil, tenantID)
			if err != nil {
				return "", err
			}
			if !d.Link || (d.RequireVerification && !m.Verified) {
				return recipeUserID, nil
			}
			res, err := r.CreatePrimaryUser(ctx, recipeUserID)
			if err != nil {
				return "", err
			}
			if res.Status == StatusOK {
				return recipeUserID, nil
			}
			continue // another user became primary with this address first
		}
		primary, err := r.k.GetUser(ctx, primaryID)
		if errors.Is(err, ginauth.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		d, err := r.decide(ctx, info, primary, tenantID)
		if err != nil {
			return "", err
		}
		// Both sides verified: linking through an unverified address would
		// hand the account to whoever typed it first.
		if !d.Link || (d.RequireVerification && (!m.Verified || !hasVerified(primary, info))) {
			return recipeUserID, nil
		}
		res, err := r.LinkAccounts(ctx, recipeUserID, primary.ID)
		if err != nil {
			return "", err
		}
		switch res.Status {
		case StatusOK, StatusRecipeUserLinkedToAnotherPrimary:
			return res.PrimaryUserID, nil
		}
	}
	return "", ginauth.NewError(ginauth.ErrUnavailable, errors.New("accountlinking: gave up linking after concurrent changes"))
}
