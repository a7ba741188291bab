package emailpassword

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// FDI statuses this recipe answers with (HTTP 200).
const (
	StatusOK                = "OK"
	StatusFieldError        = "FIELD_ERROR"
	StatusWrongCredentials  = "WRONG_CREDENTIALS_ERROR"
	StatusSignUpNotAllowed  = "SIGN_UP_NOT_ALLOWED"
	StatusSignInNotAllowed  = "SIGN_IN_NOT_ALLOWED"
	StatusInvalidResetToken = "RESET_PASSWORD_INVALID_TOKEN_ERROR"
	StatusGeneralError      = "GENERAL_ERROR"
)

// Reasons of SIGN_UP_NOT_ALLOWED and SIGN_IN_NOT_ALLOWED when account
// linking refuses (recipes/accountlinking); the reference's texts.
const (
	ReasonSignUpNotAllowed = "Cannot sign up due to security reasons. Please try logging in, use a different login method or contact support. (ERR_CODE_007)"
	ReasonSignInNotAllowed = "Cannot sign in due to security reasons. Please try resetting your password, use a different login method or contact support. (ERR_CODE_008)"
)

// The error codes of a sign-in or sign-up inside a session whose login
// method cannot be linked to the session user (kit.LinkFailure), as the
// reference's signInPOST and signUpPOST number them.
var (
	signInLinkCodes = map[string]string{kit.LinkFailVerification: "ERR_CODE_009", kit.LinkFailLinkedElsewhere: "ERR_CODE_010",
		kit.LinkFailAccountInfoTaken: "ERR_CODE_011", kit.LinkFailSessionUserInfo: "ERR_CODE_012"}
	signUpLinkCodes = map[string]string{kit.LinkFailVerification: "ERR_CODE_013", kit.LinkFailLinkedElsewhere: "ERR_CODE_014",
		kit.LinkFailAccountInfoTaken: "ERR_CODE_015", kit.LinkFailSessionUserInfo: "ERR_CODE_016"}
)

// linkRefused answers a *kit.LinkFailure in err with status and the
// reason of codes; it reports whether err was one.
func linkRefused(c *gin.Context, err error, status string, codes map[string]string) bool {
	reason, ok := kit.LinkFailureReason(err, codes)
	if ok {
		c.JSON(http.StatusOK, gin.H{"status": status, "reason": reason})
	}
	return ok
}

// beginAuth loads the session a sign-up or sign-in may be linked to and
// decides whether it is (kit.BeginAuth); for a first factor the tenant
// must offer e-mail and password. It answers and returns nil on error.
func (r *Recipe) beginAuth(c *gin.Context, tryLink *bool, email, inputUserID, status string, codes map[string]string) *kit.AuthFlow {
	s, err := r.auth.LoadAuthSession(c, tryLink)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil
	}
	return r.beginAuthWith(c, s, tryLink, email, inputUserID, status, codes)
}

// beginAuthWith is beginAuth with the session loaded.
func (r *Recipe) beginAuthWith(c *gin.Context, s *ginauth.Session, tryLink *bool, email, inputUserID, status string, codes map[string]string) *kit.AuthFlow {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	flow, err := r.auth.BeginAuth(ctx, s, tryLink, RecipeID, kit.AccountInfo{RecipeID: RecipeID, Email: email}, inputUserID)
	if err != nil {
		if !linkRefused(c, err, status, codes) {
			r.auth.WriteError(c, err)
		}
		return nil
	}
	if flow.FirstFactor() {
		_, err = r.auth.CheckSignIn(ctx, tenantID, RecipeID)
	} else {
		_, err = r.auth.ResolveTenant(ctx, tenantID)
	}
	if err != nil {
		r.auth.WriteHookError(c, err, status)
		return nil
	}
	return flow
}

// keepSession answers a sign-up or sign-in linked to the request's
// session: the session stays, with the factor completed in it when MFA is
// configured (the reference's postAuthChecks).
func (r *Recipe) keepSession(c *gin.Context, flow *kit.AuthFlow, user *ginauth.User) {
	if err := r.auth.CompleteInSession(c.Request.Context(), flow); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "user": user})
}

const (
	resetPasswordWebsitePath  = "/reset-password"
	backgroundMailSendTimeout = time.Minute
)

// readForm reads the body and its formFields.
func (r *Recipe) readForm(c *gin.Context, allowed map[string]bool) (map[string]json.RawMessage, map[string]field, error) {
	obj, err := kit.ReadJSONObject(c, r.cfg.MaxBodyBytes, false)
	if err != nil {
		return nil, nil, err
	}
	fields, err := parseFormFields(obj, allowed)
	return obj, fields, err
}

// event records a security event of an HTTP flow, with the client's
// address.
func (r *Recipe) event(c *gin.Context, e ginauth.Event) {
	e.IP = c.ClientIP()
	if e.Detail == "" {
		e.Detail = RecipeID
	}
	r.auth.Emit(c.Request.Context(), e)
}

// resetFailures forgets an account's failed attempts at action in a
// tenant after a success. A failure is logged, not answered: the request
// itself worked.
func (r *Recipe) resetFailures(ctx context.Context, tenantID string, action ginauth.Action, account string) {
	if err := r.auth.ResetFailures(ctx, tenantID, action, account); err != nil {
		r.auth.Logger().WarnContext(ctx, "emailpassword: clearing failed attempts failed", "action", action, "error", err)
	}
}

// fail answers an error that is not an FDI business outcome.
func (r *Recipe) fail(c *gin.Context, err error) {
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		fieldError(c, fieldErr{ID: fe.ID, Error: fe.Message})
	case errors.Is(err, errBusy):
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrUnavailable, err))
	default:
		r.auth.WriteError(c, err)
	}
}

func fieldError(c *gin.Context, errs ...fieldErr) {
	c.JSON(http.StatusOK, gin.H{"status": StatusFieldError, "formFields": errs})
}

// createSession starts the session of a signed-up or signed-in user and
// answers OK with the user. It reports whether it did. A hook's
// ginauth.NotAllowed is answered with notAllowed (SIGN_UP_NOT_ALLOWED or
// SIGN_IN_NOT_ALLOWED), as it is from every other hook. recipeUserID is
// the e-mail and password login method's user (user.ID but with account
// linking).
func (r *Recipe) createSession(c *gin.Context, user *ginauth.User, recipeUserID, tenantID, notAllowed string) bool {
	ctx := c.Request.Context()
	var payload map[string]any
	if h := r.cfg.Hooks.SessionPayload; h != nil {
		p, err := h(ctx, user)
		if err != nil {
			r.auth.WriteHookError(c, err, notAllowed)
			return false
		}
		payload = p
	}
	_, err := r.auth.CreateSession(c, ginauth.NewSession{UserID: recipeUserID, RecipeUserID: recipeUserID, TenantID: tenantID,
		AccessTokenPayload: payload, Factor: RecipeID})
	if err != nil {
		r.auth.WriteHookError(c, err, notAllowed)
		return false
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "user": user})
	return true
}

// readCredentials reads a sign-up or sign-in form and checks its email
// and password fields: a new password against the policy, one to verify
// only for presence. It returns the fields, their errors and the body's
// shouldTryLinkingWithSessionUser, or answers a malformed request itself
// and returns ok false.
func (r *Recipe) readCredentials(c *gin.Context, allowed map[string]bool, newPassword bool) (fields map[string]field, errs []fieldErr, tryLink *bool, ok bool) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, fields, err := r.readForm(c, allowed)
	if err == nil {
		tryLink, err = kit.ReadTryLink(obj)
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, nil, nil, false
	}
	email, password := fields[FieldEmail], fields[FieldPassword]
	if email.empty() {
		errs = append(errs, fieldErr{FieldEmail, MsgFieldNotOptional})
	} else if err := r.checkEmail(ctx, email.str(), tenantID); err != nil {
		errs = append(errs, fieldErr{FieldEmail, err.(*FieldError).Message})
	}
	if password.empty() {
		errs = append(errs, fieldErr{FieldPassword, MsgFieldNotOptional})
	} else if newPassword {
		if err := r.checkPassword(ctx, password.str(), tenantID); err != nil {
			errs = append(errs, fieldErr{FieldPassword, err.(*FieldError).Message})
		}
	}
	return fields, errs, tryLink, true
}

// handleSignUp serves POST /signup.
func (r *Recipe) handleSignUp(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	fields, errs, tryLink, ok := r.readCredentials(c, r.signUpAllowed, true)
	if !ok {
		return
	}
	email, password := fields[FieldEmail], fields[FieldPassword]
	custom := map[string]any{}
	for _, ff := range r.cfg.SignUpFields {
		f := fields[ff.ID]
		if f.empty() {
			if !ff.Optional {
				errs = append(errs, fieldErr{ff.ID, MsgFieldNotOptional})
			} else if f.present {
				custom[ff.ID] = f.value
			}
			continue
		}
		if ff.Validate != nil {
			if msg := ff.Validate(ctx, f.value, tenantID); msg != "" {
				errs = append(errs, fieldErr{ff.ID, msg})
				continue
			}
		}
		custom[ff.ID] = f.value
	}
	if len(errs) > 0 {
		fieldError(c, errs...)
		return
	}
	// The tenant must offer e-mail and password (as a first factor, unless
	// the account joins the session's user) before anything is written.
	addr := NormaliseEmail(email.str())
	flow := r.beginAuth(c, tryLink, addr, "", StatusSignUpNotAllowed, signUpLinkCodes)
	if flow == nil {
		return
	}
	// Every sign-up that gets this far may cost a hash, and tells whether
	// the address has an account: it counts against the client's address.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionSignUp, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	in := &SignUpInput{TenantID: tenantID, Email: email.str(), Fields: custom}
	if h := r.cfg.Hooks.BeforeSignUp; h != nil {
		if err := h(ctx, in); err != nil {
			r.auth.WriteHookError(c, err, StatusSignUpNotAllowed)
			return
		}
	}
	// An unverified new login method must not take an address a primary
	// user could be linked through (ERR_CODE_007), nor join the session
	// user without the verified address linking asks for (ERR_CODE_013).
	if err := r.linkingAllowsSignUp(ctx, flow, tenantID, addr); errors.Is(err, ErrSignUpNotAllowed) {
		c.JSON(http.StatusOK, gin.H{"status": StatusSignUpNotAllowed, "reason": ReasonSignUpNotAllowed})
		return
	} else if linkRefused(c, err, StatusSignUpNotAllowed, signUpLinkCodes) {
		return
	} else if err != nil {
		r.fail(c, err)
		return
	}
	user, err := r.signUp(ctx, tenantID, email.str(), password.str())
	if errors.Is(err, ErrEmailExists) {
		fieldError(c, fieldErr{FieldEmail, MsgEmailExists})
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	r.event(c, ginauth.Event{Type: ginauth.EventSignUp, UserID: user.ID, Account: email.str()})
	if h := r.cfg.Hooks.AfterSignUp; h != nil {
		if err := h(ctx, user, in.Fields); err != nil {
			r.auth.WriteHookError(c, err, StatusSignUpNotAllowed)
			return
		}
	}
	recipeUserID := user.ID
	if user, err = r.auth.FinishAuth(ctx, flow, tenantID, recipeUserID, user); err != nil {
		if !linkRefused(c, err, StatusSignUpNotAllowed, signUpLinkCodes) {
			r.fail(c, err)
		}
		return
	}
	if flow.KeepsSession() {
		r.keepSession(c, flow, user)
		return
	}
	r.createSession(c, user, recipeUserID, tenantID, StatusSignUpNotAllowed)
}

// handleSignIn serves POST /signin.
func (r *Recipe) handleSignIn(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	fields, errs, tryLink, ok := r.readCredentials(c, r.signInAllowed, false)
	if !ok {
		return
	}
	email, password := fields[FieldEmail], fields[FieldPassword]
	if len(errs) > 0 {
		fieldError(c, errs...)
		return
	}
	// The session is loaded before the credentials are checked, so that a
	// stale session (401) costs no attempt; whether the sign-in joins the
	// session's user is decided once the password has matched.
	s, err := r.auth.LoadAuthSession(c, tryLink)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if s == nil {
		if _, err := r.auth.CheckSignIn(ctx, tenantID, RecipeID); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInNotAllowed)
			return
		}
	}
	// The attempt is reserved (counted) before any hashing, and alike for
	// addresses with and without an account; anything but a success stays
	// counted.
	addr := email.str()
	at, err := r.auth.Reserve(c, ginauth.ActionSignIn, addr)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	defer at.Failed()
	user, err := r.signIn(ctx, tenantID, addr, password.str())
	if errors.Is(err, ErrWrongCredentials) {
		r.event(c, ginauth.Event{Type: ginauth.EventSignInFailed, Account: addr})
		c.JSON(http.StatusOK, gin.H{"status": StatusWrongCredentials})
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	at.Succeeded()
	norm := NormaliseEmail(addr)
	recipeUserID := r.recipeUserID(user, tenantID, norm)
	var flow *kit.AuthFlow
	if s != nil {
		if flow = r.beginAuthWith(c, s, tryLink, norm, user.ID, StatusSignInNotAllowed, signInLinkCodes); flow == nil {
			return
		}
	}
	user, err = r.linkSignIn(ctx, flow, tenantID, recipeUserID, user)
	if errors.Is(err, ErrSignInNotAllowed) { // ERR_CODE_008
		c.JSON(http.StatusOK, gin.H{"status": StatusSignInNotAllowed, "reason": ReasonSignInNotAllowed})
		return
	}
	if linkRefused(c, err, StatusSignInNotAllowed, signInLinkCodes) {
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	if h := r.cfg.Hooks.BeforeSignIn; h != nil {
		if err := h(ctx, &SignInInput{TenantID: tenantID, Email: addr, User: user}); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInNotAllowed)
			return
		}
	}
	if flow.KeepsSession() {
		r.event(c, ginauth.Event{Type: ginauth.EventSignIn, UserID: user.ID, Account: addr, Detail: RecipeID + ": linked to the session user"})
		r.keepSession(c, flow, user)
		return
	}
	if r.createSession(c, user, recipeUserID, tenantID, StatusSignInNotAllowed) {
		r.event(c, ginauth.Event{Type: ginauth.EventSignIn, UserID: user.ID, Account: addr})
	}
}

// handleEmailExists serves GET /emailpassword/email/exists and its
// deprecated alias GET /signup/email/exists.
func (r *Recipe) handleEmailExists(c *gin.Context) {
	raw, ok := c.GetQuery("email")
	if !ok || strings.TrimSpace(raw) == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email as a GET param"))
		return
	}
	if !utf8.ValidString(raw) || len(raw) > 1024 {
		r.auth.WriteError(c, ginauth.BadRequest("the email GET param is not a valid e-mail address"))
		return
	}
	// Each lookup counts against the client's address, so that the
	// endpoint cannot walk a list of addresses.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionExistsCheck, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	exists, err := r.emailExists(c.Request.Context(), ginauth.TenantID(c), NormaliseEmail(raw))
	if err != nil {
		r.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "exists": exists})
}

// resetJitter is how long a reset request's background work waits first:
// 20 to 200 ms.
func resetJitter() time.Duration {
	return 20*time.Millisecond + time.Duration(rand.Int64N(int64(180*time.Millisecond)))
}

// sendResetMail makes a reset token for the account with addr, if there is
// one, and mails its link. An unknown address is not an error.
func (r *Recipe) sendResetMail(ctx context.Context, tenantID, addr string) error {
	row, err := r.findByEmail(ctx, tenantID, addr)
	if errors.Is(err, ErrUnknownUser) {
		return nil
	}
	if err != nil {
		return err
	}
	token, err := r.createToken(ctx, tenantID, row)
	if err != nil {
		return err
	}
	mail, err := r.resetEmail(row.Email, r.ResetPasswordLink(ctx, tenantID, token))
	if err != nil {
		return err
	}
	if err := r.sender.Send(ctx, mail); err != nil {
		return fmt.Errorf("user %s: %w", row.UserID, err)
	}
	return nil
}

// handleResetToken serves POST /user/password/reset/token. It answers OK
// whether or not the address has an account, and sends the e-mail in the
// background so that its delivery time reveals nothing either.
func (r *Recipe) handleResetToken(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	_, fields, err := r.readForm(c, r.emailAllowed)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	email := fields[FieldEmail]
	if email.empty() {
		fieldError(c, fieldErr{FieldEmail, MsgFieldNotOptional})
		return
	}
	if err := r.checkEmail(ctx, email.str(), tenantID); err != nil {
		r.fail(c, err)
		return
	}
	// Counted, in one atomic step, before the address is looked up, so
	// that a refusal says nothing about it; every request counts against
	// the address, which caps the mail it can be sent exactly.
	addr := email.str()
	if err := r.auth.CheckRateLimit(c, ginauth.ActionPasswordReset, addr); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// From here on nothing depends on whether the address has an account,
	// so the answer goes out at once and the lookup, the token and the mail
	// happen in the background: neither the body nor the time it takes
	// tells who is registered.
	// Through Auth.Go, so that Close waits for the mail (and none starts
	// after it).
	r.mailWG.Add(1)
	err = r.auth.Go(ctx, func(ctx context.Context) {
		defer r.mailWG.Done()
		// Start a random moment later, so that the extra work a known
		// address costs (a token written, a mail composed) does not compete
		// with this request's own answer for the CPU and the database.
		select {
		case <-time.After(resetJitter()):
		case <-ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(ctx, backgroundMailSendTimeout)
		defer cancel()
		if err := r.sendResetMail(ctx, tenantID, addr); err != nil {
			r.auth.Logger().ErrorContext(ctx, "emailpassword: the password reset e-mail was not sent", "error", err)
		}
	})
	if err != nil { // closed meanwhile
		r.mailWG.Done()
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrUnavailable, err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK})
}

// ResetPasswordLink returns the link a reset e-mail carries:
// <websiteOrigin><websiteBasePath>/reset-password?token=...&tenantId=...,
// which the frontend SDKs read. The origin is the one of the request ctx
// belongs to (ginauth.Auth.WebsiteOrigin), WebsiteDomain outside a request.
func (r *Recipe) ResetPasswordLink(ctx context.Context, tenantID, token string) string {
	q := url.Values{"token": {token}, "tenantId": {kit.TenantOr(tenantID)}}
	return r.auth.WebsiteOrigin(ctx) + r.auth.AppInfo().WebsiteBasePath + resetPasswordWebsitePath + "?" + q.Encode()
}

func (r *Recipe) resetEmail(to, link string) (emaildelivery.Email, error) {
	return emaildelivery.Compose(r.cfg.EmailTemplates, emaildelivery.KindPasswordReset, to, emaildelivery.TemplateData{
		AppName: r.auth.AppInfo().AppName, Link: link, Email: to, ExpiresIn: r.cfg.ResetTokenValidity})
}

// handleReset serves POST /user/password/reset.
func (r *Recipe) handleReset(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, fields, err := r.readForm(c, r.resetAllowed)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if raw, ok := obj["method"]; ok && string(raw) != "null" {
		var m string
		if json.Unmarshal(raw, &m) != nil || m != "token" {
			r.auth.WriteError(c, ginauth.BadRequest(`method must be "token"`))
			return
		}
	}
	raw, ok := obj["token"]
	if !ok || string(raw) == "null" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the password reset token"))
		return
	}
	var token string
	if err := json.Unmarshal(raw, &token); err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("The password reset token must be a string"))
		return
	}
	password := fields[FieldPassword]
	if password.empty() {
		fieldError(c, fieldErr{FieldPassword, MsgFieldNotOptional})
		return
	}
	if err := r.checkPassword(ctx, password.str(), tenantID); err != nil {
		r.fail(c, err)
		return
	}
	// Tokens are guessed per client address: there is no account yet.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionPasswordReset, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	tok, err := r.resetPassword(ctx, tenantID, token, password.str())
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			c.JSON(http.StatusOK, gin.H{"status": StatusInvalidResetToken})
			return
		}
		r.fail(c, err)
		return
	}
	r.afterReset(ctx, tok)
	r.event(c, ginauth.Event{Type: ginauth.EventPasswordReset, UserID: tok.UserID, Account: tok.Email})
	c.JSON(http.StatusOK, gin.H{"status": StatusOK})
}
