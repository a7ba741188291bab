package kit

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
)

// This file is what the first-factor recipes (e-mail and password,
// third-party) share to sign up or sign in inside an existing session:
// the body's shouldTryLinkingWithSessionUser, the session it loads, the
// account-linking decision whether the new or signed-in login method joins
// the session's user ("connect Google to this account", or adding a
// factor in MFA terms), and the session kept instead of a new one. It
// follows supertokens-node's AuthUtils (loadSessionInAuthAPIIfNeeded,
// preAuthChecks, linkToSessionIfRequiredElseCreatePrimaryUserIdOrLinkByAccountInfo,
// postAuthChecks).

// FieldShouldTryLinking is the optional boolean member of a sign-up or
// sign-in body that asks to link the login method to the session's user.
const FieldShouldTryLinking = "shouldTryLinkingWithSessionUser"

// Reasons a login method could not be linked to the session user (the
// reference's LINKING_TO_SESSION_USER_FAILED reasons). Each recipe answers
// them with its own status and ERR_CODE (see LinkFailureText).
const (
	LinkFailVerification     = "EMAIL_VERIFICATION_REQUIRED"
	LinkFailLinkedElsewhere  = "RECIPE_USER_ID_ALREADY_LINKED_WITH_ANOTHER_PRIMARY_USER_ID_ERROR"
	LinkFailAccountInfoTaken = "ACCOUNT_INFO_ALREADY_ASSOCIATED_WITH_ANOTHER_PRIMARY_USER_ID_ERROR"
	LinkFailSessionUserInfo  = "SESSION_USER_ACCOUNT_INFO_ALREADY_ASSOCIATED_WITH_ANOTHER_PRIMARY_USER_ID_ERROR"
)

// LinkFailure is the error of a sign-up or sign-in whose login method
// cannot be linked to the session user; Reason is one of the LinkFail*
// constants.
type LinkFailure struct{ Reason string }

func (e *LinkFailure) Error() string { return "linking to the session user failed: " + e.Reason }

// LinkFailureText is the FDI reason text of a refused link, with the
// recipe's error code (e.g. "ERR_CODE_013").
func LinkFailureText(code string) string {
	return "Cannot sign in / up due to security reasons. Please contact support. (" + code + ")"
}

// ErrLinkRetry is AccountLinker.LinkToSession's answer when the session
// user stopped being a primary user meanwhile: the caller decides again.
var ErrLinkRetry = errors.New("accountlinking: the session user changed; decide again")

// SessionLink is account linking's decision for a sign-up or sign-in made
// with a session (the reference's checkAuthTypeAndLinkingStatus).
type SessionLink struct {
	// FirstFactor: the login method is not linked to the session user; the
	// request signs in on its own, with a new session.
	FirstFactor bool
	// SessionUser is the session's user, a primary user, when FirstFactor
	// is false.
	SessionUser *ginauth.User
	// AlreadyLinked: the login method already belongs to the session user
	// (a factor completed, nothing to link).
	AlreadyLinked bool
	// RequireVerification: the app asks for a verified address to link to
	// the session user (the login method's own, or the same address
	// verified on the session user).
	RequireVerification bool
}

// VerifiedIn reports whether the session user has info's e-mail or phone
// number on a verified login method: then a new login method with it
// needs no further proof to join them (the reference's
// verifiedInSessionUser).
func (l *SessionLink) VerifiedIn(info AccountInfo) bool {
	if l == nil || l.FirstFactor || l.SessionUser == nil {
		return false
	}
	email := ginauth.NormaliseEmail(info.Email)
	for _, m := range l.SessionUser.LoginMethods {
		if !m.Verified {
			continue
		}
		if (email != "" && ginauth.NormaliseEmail(m.Email) == email) || (info.PhoneNumber != "" && m.PhoneNumber == info.PhoneNumber) {
			return true
		}
	}
	return false
}

type sessionKey struct{}

// WithSession returns ctx carrying the request's session s (nil for none),
// so that the account-linking recipe hands it to the app's
// ShouldDoAutomaticAccountLinking.
func WithSession(ctx context.Context, s *ginauth.Session) context.Context {
	if s == nil {
		return ctx
	}
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session WithSession put in ctx, or nil.
func SessionFrom(ctx context.Context) *ginauth.Session {
	s, _ := ctx.Value(sessionKey{}).(*ginauth.Session)
	return s
}

// ReadTryLink reads the optional boolean shouldTryLinkingWithSessionUser
// of a JSON body: nil when it is absent or null.
func ReadTryLink(obj map[string]json.RawMessage) (*bool, error) {
	raw, ok := obj[FieldShouldTryLinking]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return nil, ginauth.BadRequest("%s must be a boolean", FieldShouldTryLinking)
	}
	return &b, nil
}

// LoadAuthSession returns the session a sign-up or sign-in may be linked
// to, as the reference's loadSessionInAuthAPIIfNeeded: none when the body
// says shouldTryLinkingWithSessionUser false; a required one (a 401
// without) when it says true; an optional one when it says nothing and
// the account-linking recipe is configured. The session's claim
// validators are skipped: the request may be there to satisfy them. An
// expired or invalid access token is the session layer's 401.
func (k *Kit) LoadAuthSession(c *gin.Context, tryLink *bool) (*ginauth.Session, error) {
	if tryLink != nil && !*tryLink {
		return nil, nil
	}
	if tryLink == nil && k.Linker() == nil {
		// Nothing could be linked: a stale cookie must not stop a sign-in.
		return nil, nil
	}
	return k.GetSession(c, ginauth.VerifyOptions{Optional: tryLink == nil, OverrideGlobalClaimValidators: noValidators})
}

// mfaFactors is what the flow needs of the multifactorauth recipe.
type mfaFactors interface {
	AssertAllowedToSetUp(ctx context.Context, s *ginauth.Session, factorID string) error
	MarkFactorCompleted(ctx context.Context, s *ginauth.Session, factorID string) error
}

// mfaRecipeID is the multifactorauth recipe's id.
const mfaRecipeID = "multifactorauth"

// AuthFlow is one sign-up or sign-in request as account linking and MFA
// see it. A nil *AuthFlow is a first-factor request without a session
// (the recipes' Go APIs).
type AuthFlow struct {
	// Session is the request's session (nil without one).
	Session *ginauth.Session
	// TryLink is the body's shouldTryLinkingWithSessionUser (nil: absent).
	TryLink *bool
	// Factor is the MFA factor id of the recipe ("emailpassword", ...).
	Factor string
	// Link is the decision to link to the session user; nil for a
	// first-factor request.
	Link *SessionLink
}

// Ctx returns ctx carrying the flow's session (see WithSession).
func (f *AuthFlow) Ctx(ctx context.Context) context.Context {
	if f == nil {
		return ctx
	}
	return WithSession(ctx, f.Session)
}

// FirstFactor reports whether the request signs in on its own: then the
// tenant must offer the factor as a first factor, and a new session is
// made.
func (f *AuthFlow) FirstFactor() bool { return f == nil || f.Link == nil }

// VerifiedInSessionUser is SessionLink.VerifiedIn of the flow's decision.
func (f *AuthFlow) VerifiedInSessionUser(info AccountInfo) bool {
	return f != nil && f.Link.VerifiedIn(info)
}

// CheckNewLink refuses, before anything is written, a new login method
// that could not be linked to the session user for want of a verified
// address (a *LinkFailure with LinkFailVerification): the reference
// creates the login method and then refuses; ginauth writes nothing.
func (f *AuthFlow) CheckNewLink(info AccountInfo, verified bool) error {
	if f.FirstFactor() || f.Link.AlreadyLinked || !f.Link.RequireVerification || verified || f.Link.VerifiedIn(info) {
		return nil
	}
	return &LinkFailure{Reason: LinkFailVerification}
}

// BeginAuth decides, before a sign-up or sign-in uses its credentials,
// whether it is a first factor or is to be linked to the session user
// (the account-linking and MFA part of the reference's preAuthChecks).
// info is the authenticating login method's; inputUserID is its user on a
// sign-in ("" on a sign-up). Without a session, or without account
// linking and the body's flag, it is a first factor. Errors: a
// *LinkFailure (the session user could not become a primary user), a 401
// (the session user is gone), a 400 (the app's callback refused to link
// while the body asks for it), a 403 invalid claim (MFA does not allow
// setting the factor up now, or the session user's address must be
// verified first).
func (k *Kit) BeginAuth(ctx context.Context, s *ginauth.Session, tryLink *bool, factor string, info AccountInfo, inputUserID string) (*AuthFlow, error) {
	f := &AuthFlow{Session: s, TryLink: tryLink, Factor: factor}
	if s == nil {
		return f, nil
	}
	l := k.Linker()
	if l == nil {
		if tryLink != nil && *tryLink {
			return nil, ginauth.NewError(ginauth.ErrInternal, errors.New("shouldTryLinkingWithSessionUser needs the accountlinking recipe with ShouldDoAutomaticAccountLinking"))
		}
		f.Session = nil
		return f, nil
	}
	link, err := l.SessionAuthType(ctx, s, tryLink, info, inputUserID)
	if err != nil {
		return nil, err
	}
	if link.FirstFactor {
		return f, nil
	}
	f.Link = link
	if m, ok := Find[mfaFactors](k.Auth, mfaRecipeID); ok && !link.AlreadyLinked {
		// Linking is setting the factor up, in MFA's terms.
		if err := m.AssertAllowedToSetUp(ctx, s, factor); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// maxSessionLinkTries bounds FinishAuth's new decisions after the session
// user changed under it.
const maxSessionLinkTries = 5

// FinishAuth runs account linking after a sign-up or sign-in succeeded
// (the reference's linkToSessionIfRequiredElseCreatePrimaryUserIdOrLinkByAccountInfo):
// a first factor links by account info as LinkAfterSignIn; otherwise the
// login method of recipeUserID is linked to the session user, deciding
// again with the login method as it now is. It returns the user to answer
// with, or a *LinkFailure.
func (k *Kit) FinishAuth(ctx context.Context, f *AuthFlow, tenantID, recipeUserID string, u *ginauth.User) (*ginauth.User, error) {
	if f.FirstFactor() {
		return k.LinkAfterSignIn(f.Ctx(ctx), tenantID, recipeUserID, u)
	}
	l := k.Linker()
	for range maxSessionLinkTries {
		var info AccountInfo
		for _, m := range u.LoginMethods {
			if m.RecipeUserID == recipeUserID {
				info = AccountInfo{RecipeID: m.RecipeID, Email: m.Email, PhoneNumber: m.PhoneNumber, ThirdParty: m.ThirdParty}
			}
		}
		link, err := l.SessionAuthType(ctx, f.Session, f.TryLink, info, u.ID)
		if err != nil {
			return nil, err
		}
		if link.FirstFactor {
			f.Link = nil
			return k.LinkAfterSignIn(f.Ctx(ctx), tenantID, recipeUserID, u)
		}
		f.Link = link
		if link.AlreadyLinked {
			// Possibly by a concurrent request since u was read: answer
			// with the user as it is now.
			return link.SessionUser, nil
		}
		linked, err := l.LinkToSession(ctx, link, recipeUserID)
		if errors.Is(err, ErrLinkRetry) {
			if u, err = k.GetUser(ctx, recipeUserID); err != nil {
				return nil, err
			}
			continue
		}
		return linked, err
	}
	return nil, ginauth.NewError(ginauth.ErrUnavailable, errors.New("accountlinking: gave up linking to the session user after concurrent changes"))
}

// KeepsSession reports, after FinishAuth, whether the request's session
// stays (the login method is the session user's now) instead of a new
// one being made.
func (f *AuthFlow) KeepsSession() bool { return !f.FirstFactor() }

// CompleteInSession marks the flow's factor completed in the kept session
// when the multifactorauth recipe is configured (st-mfa updated, new
// tokens on the response); without it the session is left as it is, as
// the reference's postAuthChecks does.
func (k *Kit) CompleteInSession(ctx context.Context, f *AuthFlow) error {
	if m, ok := Find[mfaFactors](k.Auth, mfaRecipeID); ok {
		return m.MarkFactorCompleted(ctx, f.Session, f.Factor)
	}
	return nil
}

// LinkFailureReason returns the reason text of a *LinkFailure in err, by
// the recipe's error codes for each LinkFail* reason.
func LinkFailureReason(err error, codes map[string]string) (string, bool) {
	var lf *LinkFailure
	if !errors.As(err, &lf) {
		return "", false
	}
	return LinkFailureText(codes[lf.Reason]), true
}
