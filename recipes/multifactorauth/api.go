package multifactorauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
)

// maxBody caps request bodies of the MFA routes.
const maxBody = 4 << 10

// readObject reads an optional JSON object body (none, or "{}", is an
// empty object).
func readObject(c *gin.Context) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ginauth.BadRequest("the request body is larger than %d bytes", maxBody)
		}
		return nil, ginauth.BadRequest("the request body could not be read")
	}
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, ginauth.BadRequest("the request body must be a JSON object")
	}
	return m, nil
}

// stringField reads a required string field of at most max bytes.
func stringField(m map[string]json.RawMessage, name string, max int) (string, error) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return "", ginauth.BadRequest("missing input param: %s", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", ginauth.BadRequest("%s must be a string", name)
	}
	if len(s) > max {
		return "", ginauth.BadRequest("%s is longer than %d bytes", name, max)
	}
	return s, nil
}

func noValidators([]claims.Validator, *gin.Context) []claims.Validator { return nil }

// session verifies the request's session for the MFA routes, where the
// MFA validator itself (by default every global validator) is skipped.
func (r *Recipe) session(c *gin.Context) (*ginauth.Session, error) {
	o := r.cfg.OverrideGlobalClaimValidators
	if o == nil {
		o = noValidators
	}
	return r.auth.GetSession(c, ginauth.VerifyOptions{OverrideGlobalClaimValidators: o})
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
	if _, err := readObject(c); err != nil {
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
	m, err := readObject(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	code, err := stringField(m, "code", 64)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	err = r.UseRecoveryCode(ctx, s, code)
	if body, ok := AttemptStatus(err, "INVALID_RECOVERY_CODE_ERROR"); ok {
		c.JSON(http.StatusOK, body)
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
	if _, err := readObject(c); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	codes, err := r.GenerateRecoveryCodes(ctx, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "OK", "codes": codes})
}
