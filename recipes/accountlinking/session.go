package accountlinking

import (
	"context"
	"errors"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// This file links a sign-up or sign-in made inside a session to the
// session's user: "connect Google to this account", or a first-factor
// recipe used as a second factor. The rules are supertokens-node's
// AuthUtils.checkAuthTypeAndLinkingStatus, tryAndMakeSessionUserIntoAPrimaryUser
// and tryLinkingBySession.

// emailVerificationClaimKey is the e-mail verification claim's key
// (recipes/emailverification), named here so that the recipe does not
// import it.
const emailVerificationClaimKey = "st-ev"

// verifier is what linking needs of the emailverification recipe.
type verifier interface {
	MarkVerified(ctx context.Context, userID, email string) error
}

func firstFactor() *kit.SessionLink { return &kit.SessionLink{FirstFactor: true} }

func wantsLink(tryLink *bool) bool { return tryLink != nil && *tryLink }

// errNoLinkWanted is the 400 of a request that asks to link to the session
// user when the app's decision says not to (the reference's BAD_INPUT_ERROR).
func errNoLinkWanted() error {
	return ginauth.BadRequest("shouldDoAutomaticAccountLinking returned false while shouldTryLinkingWithSessionUser is true")
}

// SessionAuthType implements kit.AccountLinker (the reference's
// checkAuthTypeAndLinkingStatus).
func (r *Recipe) SessionAuthType(ctx context.Context, s *ginauth.Session, tryLink *bool, info AccountInfo, inputUserID string) (*kit.SessionLink, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	if s == nil || (tryLink != nil && !*tryLink) {
		return firstFactor(), nil
	}
	ctx = kit.WithSession(ctx, s)
	if r.cfg.ShouldDoAutomaticAccountLinking == nil {
		if wantsLink(tryLink) {
			return nil, ginauth.NewError(ginauth.ErrInternal, errors.New("accountlinking: shouldTryLinkingWithSessionUser needs Config.ShouldDoAutomaticAccountLinking"))
		}
		return firstFactor(), nil
	}
	if inputUserID != "" {
		u, err := r.k.GetUser(ctx, inputUserID)
		if err != nil && !errors.Is(err, ginauth.ErrNotFound) {
			return nil, err
		}
		if err == nil && u.ID == s.UserID() {
			// The login method is the session user's already: a factor
			// completed, nothing to link.
			return &kit.SessionLink{SessionUser: u, AlreadyLinked: true}, nil
		}
	}
	su, err := r.sessionPrimary(ctx, s, tryLink)
	if err != nil || su == nil {
		if err == nil {
			return firstFactor(), nil
		}
		return nil, err
	}
	d, err := r.decide(ctx, info, su, s.TenantID())
	if err != nil {
		return nil, err
	}
	if !d.Link {
		if wantsLink(tryLink) {
			return nil, errNoLinkWanted()
		}
		return firstFactor(), nil
	}
	return &kit.SessionLink{SessionUser: su, RequireVerification: d.RequireVerification}, nil
}

// sessionPrimary returns the session's user as a primary user, making it
// one when the app's decision allows (the reference's
// tryAndMakeSessionUserIntoAPrimaryUser). nil, nil: the app does not want
// it primary, so the request is a first factor.
func (r *Recipe) sessionPrimary(ctx context.Context, s *ginauth.Session, tryLink *bool) (*ginauth.User, error) {
	su, err := r.k.GetUser(ctx, s.UserID())
	if errors.Is(err, ginauth.ErrNotFound) {
		return nil, ginauth.NewError(ginauth.ErrUnauthorised, errors.New("accountlinking: the session's user no longer exists"))
	}
	if err != nil || su.IsPrimaryUser {
		return su, err
	}
	m, ok := ownMethod(su, s.RecipeUserID())
	if !ok {
		if len(su.LoginMethods) == 0 {
			return nil, ginauth.NewError(ginauth.ErrUnauthorised, errors.New("accountlinking: the session's user has no login method"))
		}
		m = su.LoginMethods[0]
	}
	d, err := r.decide(ctx, infoOf(m), nil, s.TenantID())
	if err != nil {
		return nil, err
	}
	if !d.Link {
		if wantsLink(tryLink) {
			return nil, errNoLinkWanted()
		}
		return nil, nil
	}
	if d.RequireVerification && !m.Verified {
		// The session user must prove their own address before anything
		// is linked to them: the e-mail verification claim's 403, so the
		// frontend sends them to verify it.
		return nil, ginauth.InvalidClaimError([]claims.ValidationError{{ID: emailVerificationClaimKey,
			Reason: map[string]any{"message": "wrong value", "expectedValue": true, "actualValue": false}}}, nil)
	}
	res, err := r.CreatePrimaryUser(ctx, m.RecipeUserID)
	if err != nil {
		return nil, err
	}
	switch res.Status {
	case StatusOK:
		return res.User, nil
	case StatusRecipeUserLinkedToPrimary:
		// Linked elsewhere since the session was made: its user id is stale.
		return nil, ginauth.NewError(ginauth.ErrUnauthorised, errors.New("accountlinking: the session's user was linked to another user"))
	}
	return nil, &kit.LinkFailure{Reason: kit.LinkFailSessionUserInfo}
}

// LinkToSession implements kit.AccountLinker (the reference's
// tryLinkingBySession). A login method whose address the session user has
// verified needs no proof of its own, and is marked verified once linked.
func (r *Recipe) LinkToSession(ctx context.Context, link *kit.SessionLink, recipeUserID string) (*ginauth.User, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	u, err := r.k.GetUser(ctx, recipeUserID)
	if err != nil {
		return nil, err
	}
	m, _ := ownMethod(u, recipeUserID)
	info := infoOf(m)
	verifiedIn := link.VerifiedIn(info)
	if link.RequireVerification && !m.Verified && !verifiedIn {
		return nil, &kit.LinkFailure{Reason: kit.LinkFailVerification}
	}
	res, err := r.LinkAccounts(ctx, recipeUserID, link.SessionUser.ID)
	if err != nil {
		return nil, err
	}
	switch res.Status {
	case StatusOK:
	case StatusNotAPrimaryUser:
		return nil, kit.ErrLinkRetry
	case StatusRecipeUserLinkedToAnotherPrimary:
		return nil, &kit.LinkFailure{Reason: kit.LinkFailLinkedElsewhere}
	default:
		return nil, &kit.LinkFailure{Reason: kit.LinkFailAccountInfoTaken}
	}
	if verifiedIn && !m.Verified && m.Email != "" {
		if v, ok := kit.Find[verifier](r.k.Auth, "emailverification"); ok {
			if err := v.MarkVerified(ctx, recipeUserID, m.Email); err != nil {
				return nil, err
			}
			return r.k.GetUser(ctx, recipeUserID)
		}
	}
	return res.User, nil
}
