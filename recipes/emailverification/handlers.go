package emailverification

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// maxBodyBytes caps request bodies; FDI bodies here are a few dozen bytes.
const maxBodyBytes = 16 << 10

// FDI statuses of this recipe.
const (
	statusOK              = "OK"
	statusAlreadyVerified = "EMAIL_ALREADY_VERIFIED_ERROR"
	statusInvalidToken    = "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"
	statusGeneralError    = "GENERAL_ERROR"
)

// unknownUser answers a session whose user no longer exists, as
// SuperTokens does: 401 unauthorised, tokens cleared.
func unknownUser(err error) *ginauth.Error {
	return ginauth.Unauthorised(err, true)
}

// handleSendToken serves POST /user/email/verify/token.
func (r *Recipe) handleSendToken(c *gin.Context) {
	if _, err := kit.ReadJSONObject(c, maxBodyBytes, true); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{SkipClaims: true})
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// Each e-mail is reserved against the user before it is sent, which
	// caps exactly the mail one account can have sent to an address; a
	// request that sends nothing is refunded. User ids are global: they are
	// counted under the default tenant (this route has no tenant prefix).
	// With account linking the address is the session's login method's
	// (its recipe user), as in the reference, not the primary user's.
	userID := s.RecipeUserID()
	at, err := r.auth.Reserve(c, ginauth.ActionEmailVerification, userID)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	defer at.Refund()
	ctx := c.Request.Context()
	alreadyVerified := func() {
		if v, ok := r.claim.Get(s.Payload()); !ok || !v {
			if err := s.SetClaimValue(ctx, r.claim.Update(true, r.auth.Now())); err != nil {
				r.auth.WriteError(c, err)
				return
			}
		}
		c.JSON(http.StatusOK, gin.H{"status": statusAlreadyVerified})
	}
	email, ok, err := r.getEmail(ctx, userID)
	switch {
	case errors.Is(err, ginauth.ErrNotFound):
		r.auth.WriteError(c, unknownUser(err))
		return
	case err != nil:
		r.auth.WriteError(c, err)
		return
	case !ok:
		alreadyVerified()
		return
	}
	err = r.SendVerificationEmail(ctx, s.TenantID(), userID, email)
	if err == nil || errors.Is(err, ErrSendFailed) {
		at.Failed() // a message went (or may have gone) out: it stays counted
	}
	switch {
	case errors.Is(err, ErrEmailAlreadyVerified):
		alreadyVerified()
	case errors.Is(err, ErrSendFailed):
		r.auth.Logger().ErrorContext(ctx, "emailverification: sending the verification e-mail failed",
			"userId", userID, "error", err)
		_ = c.Error(err)
		c.JSON(http.StatusOK, gin.H{"status": statusGeneralError,
			"message": "The verification e-mail could not be sent. Please try again later."})
	case err != nil:
		r.auth.WriteError(c, err)
	default:
		c.JSON(http.StatusOK, gin.H{"status": statusOK})
	}
}

// handleVerify serves POST [/<tenantId>]/user/email/verify.
func (r *Recipe) handleVerify(c *gin.Context) {
	body, err := kit.ReadJSONObject(c, maxBodyBytes, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if raw, ok := body["method"]; ok {
		var method string
		if json.Unmarshal(raw, &method) != nil || method != "token" {
			r.auth.WriteError(c, ginauth.BadRequest(`method must be "token"`))
			return
		}
	}
	raw, ok := body["token"]
	if !ok || string(raw) == "null" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email verification token"))
		return
	}
	var token string
	if err := json.Unmarshal(raw, &token); err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("The email verification token must be a string"))
		return
	}
	// The session is optional, but a broken one is answered before the
	// token is used up, so that the retry after a refresh still works.
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{Optional: true, SkipClaims: true})
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// Tokens are guessed per client address: the token names no account.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionEmailVerification, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	userID, _, err := r.VerifyUsingToken(ctx, ginauth.TenantID(c), token)
	if errors.Is(err, ErrInvalidToken) {
		c.JSON(http.StatusOK, gin.H{"status": statusInvalidToken})
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	r.resetSent(ctx, userID)
	if s != nil && s.RecipeUserID() == userID {
		if err := s.SetClaimValue(ctx, r.claim.Update(true, r.auth.Now())); err != nil {
			// The address is verified; the session learns it at its next
			// refetch.
			r.auth.Logger().WarnContext(ctx, "emailverification: updating the session's st-ev claim failed",
				"userId", userID, "error", err)
		}
	}
	// Only the status, as supertokens-node's emailVerify API answers: its
	// verifyEmailPOST returns the user, and the API drops it.
	c.JSON(http.StatusOK, gin.H{"status": statusOK})
}

// resetSent forgets the e-mails counted against a user once an address is
// verified, so that a later change of address can be verified at once.
func (r *Recipe) resetSent(ctx context.Context, userID string) {
	if err := r.auth.ResetFailures(ctx, ginauth.DefaultTenant, ginauth.ActionEmailVerification, userID); err != nil {
		r.auth.Logger().WarnContext(ctx, "emailverification: clearing the count of sent e-mails failed", "userId", userID, "error", err)
	}
}

// handleIsVerified serves GET /user/email/verify. It also brings the
// session's st-ev claim up to date, sending a new access token and
// front-token when it changed (or is still false, so that its fetch time
// moves on).
func (r *Recipe) handleIsVerified(c *gin.Context) {
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{SkipClaims: true})
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	email, ok, err := r.getEmail(ctx, s.RecipeUserID())
	if errors.Is(err, ginauth.ErrNotFound) {
		r.auth.WriteError(c, unknownUser(err))
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	verified := true
	if ok {
		if verified, err = r.IsVerified(ctx, s.RecipeUserID(), email); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	if cur, has := r.claim.Get(s.Payload()); !has || cur != verified || !verified {
		if err := s.SetClaimValue(ctx, r.claim.Update(verified, r.auth.Now())); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": statusOK, "isVerified": verified})
}
