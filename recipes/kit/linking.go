package kit

import (
	"context"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
)

// LinkingRecipeID is the id of the account-linking recipe
// (recipes/accountlinking).
const LinkingRecipeID = "accountlinking"

// AccountInfo is what a login method is known by, for account linking: the
// recipe it belongs to and its e-mail address, phone number or provider
// account (any that apply).
type AccountInfo struct {
	RecipeID    string
	Email       string
	PhoneNumber string
	ThirdParty  *ginauth.ThirdPartyInfo
}

// AccountLinker is what the sign-in recipes ask of the account-linking
// recipe at their sign-up and sign-in decision points. Kit.Linker returns
// it when that recipe is configured; recipes then import nothing of it.
type AccountLinker interface {
	// SignUpAllowed reports whether a new login method with info (whose
	// e-mail is verified or not) may be created in tenantID, as the
	// reference's isSignUpAllowed: not when linking would require
	// verification and the address belongs to a user it cannot be proven
	// to be.
	SignUpAllowed(ctx context.Context, tenantID string, info AccountInfo, verified bool) (bool, error)
	// SignInAllowed is the reference's isSignInAllowed for the login
	// method of recipeUserID; verifies says that signing in proves the
	// e-mail (passwordless, a provider's verified address).
	SignInAllowed(ctx context.Context, tenantID, recipeUserID string, verifies bool) (bool, error)
	// EmailChangeAllowed reports whether recipeUserID's login method may
	// take newEmail (a provider changing its address), as the reference's
	// isEmailChangeAllowed. conflict is true when another primary user
	// holds the address (the reference's PRIMARY_USER_CONFLICT).
	EmailChangeAllowed(ctx context.Context, recipeUserID, newEmail string, verified bool) (allowed, conflict bool, err error)
	// LinkOrCreatePrimary runs automatic linking for recipeUserID after a
	// sign-up, sign-in or e-mail verification: it links it to the primary
	// user with the same account info, or makes it a primary user, as the
	// app's decision allows. It returns the primary user's id, or
	// recipeUserID when nothing was linked.
	LinkOrCreatePrimary(ctx context.Context, tenantID, recipeUserID string) (string, error)
	// SessionAuthType decides whether a sign-up or sign-in made with
	// session s links its login method (info; of inputUserID on a sign-in,
	// "" on a sign-up) to the session's user, as the reference's
	// checkAuthTypeAndLinkingStatus: the session user is made a primary
	// user when the app's decision allows (a *LinkFailure with
	// LinkFailSessionUserInfo when another primary user holds its account
	// info), and the app's ShouldDoAutomaticAccountLinking is asked with
	// the session. tryLink is the body's flag: true turns the app's
	// refusal into a 400 instead of a first factor.
	SessionAuthType(ctx context.Context, s *ginauth.Session, tryLink *bool, info AccountInfo, inputUserID string) (*SessionLink, error)
	// LinkToSession links recipeUserID's login method to link.SessionUser,
	// as the reference's tryLinkingBySession: a *LinkFailure when a
	// verified address is required and missing, or the login method is
	// another primary user's, or its account info is; ErrLinkRetry when
	// the session user is no primary user any more. It returns the
	// session user with the new login method.
	LinkToSession(ctx context.Context, link *SessionLink, recipeUserID string) (*ginauth.User, error)
	// ClaimTenantTx runs inside the transaction tx that has just made
	// userID a member of tenantID (multitenancy's AssociateUserToTenant).
	// When userID belongs to a linked group (a primary user or one linked
	// to it), it claims the group's account info in tenantID, so that no
	// two primary users share an e-mail, phone number or provider account
	// there. conflict describes the clash with another primary user
	// ("" when there is none); the caller then rolls tx back.
	ClaimTenantTx(ctx context.Context, tx *gorm.DB, tenantID, userID string) (conflict string, err error)
	// ReleaseTenantTx runs inside the transaction tx that has just removed
	// userID from tenantID: it drops the account info of userID's group in
	// tenantID that no member still in tenantID needs.
	ReleaseTenantTx(ctx context.Context, tx *gorm.DB, tenantID, userID string) error
}

// AccountInfoRefresher is implemented by the account-linking recipe, for
// recipes that change a login method's e-mail or phone number (type-assert
// Linker() to it; it is apart from AccountLinker so that other
// implementations of that need not change).
type AccountInfoRefresher interface {
	// RefreshAccountInfoTx runs inside the transaction tx that has just
	// changed recipeUserID's login method. When the method belongs to a
	// linked group, the group's account-info claims are made again from
	// its login methods as they now are, in every tenant of the group.
	// kind is the kind ("email", "phone" or "thirdparty") of a piece that
	// another primary user holds, "" when none; the caller then rolls tx
	// back (the reference core's EMAIL_CHANGE_NOT_ALLOWED_ERROR and
	// PHONE_NUMBER_CHANGE_NOT_ALLOWED_ERROR).
	RefreshAccountInfoTx(ctx context.Context, tx *gorm.DB, recipeUserID string) (kind string, err error)
}

// Linker returns the configured account-linking recipe, or nil when there
// is none (and sign-up and sign-in go on as without linking).
func (k *Kit) Linker() AccountLinker {
	rc, ok := k.Recipe(LinkingRecipeID)
	if !ok {
		return nil
	}
	l, _ := rc.(AccountLinker)
	return l
}

// RecipeUserID returns the id of the recipe user behind u's login method
// of recipeID that match accepts, or u.ID when there is none. With account
// linking u may be a primary user with several login methods; sessions and
// linking need the one the request signed in with.
func RecipeUserID(u *ginauth.User, recipeID string, match func(ginauth.LoginMethod) bool) string {
	for _, m := range u.LoginMethods {
		if m.RecipeID == recipeID && match(m) {
			return m.RecipeUserID
		}
	}
	return u.ID
}

// LinkAfterSignIn runs automatic account linking for recipeUserID after a
// sign-up or sign-in when the account-linking recipe is configured, and
// returns the user to answer with: the primary user it now belongs to. It
// returns u unchanged without that recipe.
func (k *Kit) LinkAfterSignIn(ctx context.Context, tenantID, recipeUserID string, u *ginauth.User) (*ginauth.User, error) {
	l := k.Linker()
	if l == nil {
		return u, nil
	}
	if _, err := l.LinkOrCreatePrimary(ctx, tenantID, recipeUserID); err != nil {
		return nil, err
	}
	return k.GetUser(ctx, recipeUserID)
}

// EmailVerified reports whether the emailverification recipe, when one
// is configured, records email as verified for userID; false without it.
// Recipes pass it to AccountLinker.EmailChangeAllowed.
func (k *Kit) EmailVerified(ctx context.Context, userID, email string) (bool, error) {
	rc, ok := k.Recipe("emailverification")
	if !ok {
		return false, nil
	}
	ev, ok := rc.(interface {
		IsVerified(ctx context.Context, userID, email string) (bool, error)
	})
	if !ok {
		return false, nil
	}
	return ev.IsVerified(ctx, userID, email)
}
