package multifactorauth

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// maxBody caps request bodies of the MFA routes.
const maxBody = 4 << 10

// session verifies the request's session for the MFA routes, where the
// MFA validator itself (by default every global validator) is skipped.
func (r *Recipe) session(c *gin.Context) (*ginauth.Session, error) {
	return r.auth.FactorSession(c, r.cfg.OverrideGlobalClaimValidators)
}

// Info is the body of PUT /mfa/info.
type Info struct {
	Status  string `json:"status"`
	Factors struct {
		AlreadySetup   []string `json:"alreadySetup"`
		AllowedToSetup []string `json:"allowedToSetup"`
		Next           []string `json:"next"`
	} `json:"factors"`
	Emails       map[string][]string `json:"emails"`
	PhoneNumbers map[string][]string `json:"phoneNumbers"`
}

// handleInfo serves PUT /mfa/info: what the user has set up, may set up
// and should complete next, and the st-mfa claim brought up to date (a new
// access token and front-token when it changed).
func (r *Recipe) handleInfo(c *gin.Context) {
	s, err := r.session(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if _, err := kit.ReadJSONObject(c, maxBody, true); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	info, err := r.MFAInfo(c.Request.Context(), s)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, info)
}

// MFAInfo computes PUT /mfa/info's answer for a session and refreshes its
// st-mfa claim (see RefreshClaim).
func (r *Recipe) MFAInfo(ctx context.Context, s *ginauth.Session) (*Info, error) {
	v, err := r.RefreshClaim(ctx, s)
	if err != nil {
		return nil, err
	}
	u, err := r.userInfo(ctx, s.UserID())
	if err != nil {
		return nil, err
	}
	setUp, err := r.setUp(ctx, s.UserID(), u)
	if err != nil {
		return nil, err
	}
	reqs, err := r.Requirements(ctx, s.UserID(), s.TenantID(), v.Completed)
	if err != nil {
		return nil, err
	}
	available := r.AvailableFactors()
	allowed, err := r.allowedToSetUp(ctx, s.UserID(), v, reqs, setUp, available)
	if err != nil {
		return nil, err
	}
	next := []string{}
	for _, id := range r.subs.next(v.Completed, reqs) {
		if slices.Contains(allowed, id) || slices.Contains(setUp, id) {
			next = append(next, id)
		}
	}
	if !v.Satisfied && len(next) == 0 {
		r.auth.Logger().WarnContext(ctx, "multifactorauth: the user's requirements name no factor they can set up or complete",
			"userId", s.UserID(), "requirements", reqs, "available", available)
	}
	info := &Info{Status: "OK", Emails: map[string][]string{}, PhoneNumbers: map[string][]string{}}
	info.Factors.AlreadySetup = nonNil(setUp)
	info.Factors.AllowedToSetup = allowed
	info.Factors.Next = next
	r.contacts(u, s.RecipeUserID(), available, info)
	return info, nil
}

// contacts fills the e-mails and phone numbers the frontend offers for the
// e-mail and phone factors, the session's own login method first.
func (r *Recipe) contacts(u *ginauth.User, recipeUserID string, available []string, info *Info) {
	var emails, epEmails, phones []string
	if u != nil {
		methods := slices.Clone(u.LoginMethods)
		slices.SortStableFunc(methods, func(a, b ginauth.LoginMethod) int {
			switch {
			case a.RecipeUserID == recipeUserID && b.RecipeUserID != recipeUserID:
				return -1
			case b.RecipeUserID == recipeUserID && a.RecipeUserID != recipeUserID:
				return 1
			}
			return 0
		})
		for _, m := range methods {
			if m.Email != "" && !slices.Contains(emails, m.Email) {
				emails = append(emails, m.Email)
			}
			if m.Email != "" && m.RecipeID == FactorEmailPassword && !slices.Contains(epEmails, m.Email) {
				epEmails = append(epEmails, m.Email)
			}
			if m.PhoneNumber != "" && !slices.Contains(phones, m.PhoneNumber) {
				phones = append(phones, m.PhoneNumber)
			}
		}
	}
	for _, id := range available {
		switch id {
		case FactorEmailPassword:
			info.Emails[id] = nonNil(epEmails)
		case FactorOTPEmail, FactorLinkEmail:
			info.Emails[id] = nonNil(emails)
		case FactorOTPPhone, FactorLinkPhone:
			info.PhoneNumbers[id] = nonNil(phones)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleUseRecoveryCode serves POST /mfa/recovery-code {code}.
func (r *Recipe) handleUseRecoveryCode(c *gin.Context) {
	s, err := r.session(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	m, err := kit.ReadJSONObject(c, maxBody, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	code, err := kit.StringField(m, "code", 64, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// Per client address, on top of the per-user limit of the code check.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	err = r.UseRecoveryCode(ctx, s, code)
	if AnswerAttempt(r.auth, c, s.UserID(), "recovery code", err, "INVALID_RECOVERY_CODE_ERROR") {
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	n, err := r.RemainingRecoveryCodes(ctx, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK", "remainingCodes": n})
}

// AnswerAttempt answers a failed code check (err from Limiter.Attempt: an
// *InvalidCodeError or a *LimitReachedError) with its FDI body (see
// AttemptStatus) and records it as a security event for the user:
// EventFactorFailed for a wrong code, EventLockout once the user is over
// the limit; what names the kind of code in the event's Detail. It
// reports whether err was such a failure; for any other error (and nil) it
// does nothing.
func AnswerAttempt(a *kit.Kit, c *gin.Context, userID, what string, err error, invalidStatus string) bool {
	body, ok := AttemptStatus(err, invalidStatus)
	if !ok {
		return false
	}
	e := ginauth.Event{Type: ginauth.EventFactorFailed, UserID: userID, IP: c.ClientIP(), Detail: what + ": invalid code"}
	var lim *LimitReachedError
	if errors.As(err, &lim) {
		e.Type, e.Action, e.Detail = ginauth.EventLockout, ginauth.ActionCodeEntry, what+": too many failed attempts"
	}
	a.Emit(c.Request.Context(), e)
	c.JSON(http.StatusOK, body)
	return true
}

// AttemptStatus turns a limiter outcome into its FDI body: invalidStatus
// with currentNumberOfFailedAttempts and maxNumberOfFailedAttempts for an
// *InvalidCodeError, LIMIT_REACHED_ERROR with retryAfterMs for a
// *LimitReachedError. ok is false for any other error (and for nil).
func AttemptStatus(err error, invalidStatus string) (gin.H, bool) {
	var inv *InvalidCodeError
	if errors.As(err, &inv) {
		return gin.H{"status": invalidStatus, "currentNumberOfFailedAttempts": inv.FailedAttempts,
			"maxNumberOfFailedAttempts": inv.MaxAttempts}, true
	}
	var lim *LimitReachedError
	if errors.As(err, &lim) {
		return gin.H{"status": "LIMIT_REACHED_ERROR", "retryAfterMs": lim.RetryAfterMs()}, true
	}
	return nil, false
}

// handleRegenerate serves POST /mfa/recovery-codes: a new set of codes for
// a session that meets its MFA requirements (and every global validator).
func (r *Recipe) handleRegenerate(c *gin.Context) {
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{})
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := s.AssertClaims(ctx, r.claim.IsSatisfied()); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if _, err := kit.ReadJSONObject(c, maxBody, true); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	codes, err := r.generateRecoveryCodes(ctx, s, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "OK", "codes": codes})
}
