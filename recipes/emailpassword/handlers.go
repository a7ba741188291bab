package emailpassword

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
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

const (
	resetPasswordWebsitePath  = "/reset-password"
	backgroundMailSendTimeout = time.Minute
)

// readForm reads the body and its formFields.
func (r *Recipe) readForm(c *gin.Context, allowed map[string]bool) (map[string]json.RawMessage, map[string]field, error) {
	body, err := readBody(c, r.cfg.MaxBodyBytes)
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeObject(body)
	if err != nil {
		return nil, nil, err
	}
	fields, err := parseFormFields(obj, allowed)
	return obj, fields, err
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

// hookError answers an error a hook returned.
func (r *Recipe) hookError(c *gin.Context, err error, notAllowed string) {
	var na *NotAllowedError
	var ge *GeneralError
	switch {
	case errors.As(err, &na) && notAllowed != "":
		c.JSON(http.StatusOK, gin.H{"status": notAllowed, "reason": na.Reason})
	case errors.As(err, &ge):
		c.JSON(http.StatusOK, gin.H{"status": StatusGeneralError, "message": ge.Message})
	default:
		r.fail(c, err)
	}
}

func fieldError(c *gin.Context, errs ...fieldErr) {
	c.JSON(http.StatusOK, gin.H{"status": StatusFieldError, "formFields": errs})
}

// createSession starts the session of a signed-up or signed-in user and
// answers OK with the user.
func (r *Recipe) createSession(c *gin.Context, user *ginauth.User, tenantID string) {
	ctx := c.Request.Context()
	var payload map[string]any
	if h := r.cfg.Hooks.SessionPayload; h != nil {
		p, err := h(ctx, user)
		if err != nil {
			r.hookError(c, err, "")
			return
		}
		payload = p
	}
	_, err := r.auth.CreateSession(c, ginauth.NewSession{UserID: user.ID, RecipeUserID: user.ID, TenantID: tenantID,
		AccessTokenPayload: payload, Factor: RecipeID})
	if err != nil {
		r.hookError(c, err, "")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "user": user})
}

// handleSignUp serves POST /signup.
func (r *Recipe) handleSignUp(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	_, fields, err := r.readForm(c, r.signUpAllowed)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	var errs []fieldErr
	email, password := fields[FieldEmail], fields[FieldPassword]
	if email.empty() {
		errs = append(errs, fieldErr{FieldEmail, MsgFieldNotOptional})
	} else if err := r.checkEmail(ctx, email.str(), tenantID); err != nil {
		errs = append(errs, fieldErr{FieldEmail, err.(*FieldError).Message})
	}
	if password.empty() {
		errs = append(errs, fieldErr{FieldPassword, MsgFieldNotOptional})
	} else if err := r.checkPassword(ctx, password.str(), tenantID); err != nil {
		errs = append(errs, fieldErr{FieldPassword, err.(*FieldError).Message})
	}
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
	in := &SignUpInput{TenantID: tenantID, Email: email.str(), Fields: custom}
	if h := r.cfg.Hooks.BeforeSignUp; h != nil {
		if err := h(ctx, in); err != nil {
			r.hookError(c, err, StatusSignUpNotAllowed)
			return
		}
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
	if h := r.cfg.Hooks.AfterSignUp; h != nil {
		if err := h(ctx, user, in.Fields); err != nil {
			r.hookError(c, err, "")
			return
		}
	}
	r.createSession(c, user, tenantID)
}

// handleSignIn serves POST /signin.
func (r *Recipe) handleSignIn(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	_, fields, err := r.readForm(c, r.signInAllowed)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	var errs []fieldErr
	email, password := fields[FieldEmail], fields[FieldPassword]
	if email.empty() {
		errs = append(errs, fieldErr{FieldEmail, MsgFieldNotOptional})
	} else if err := r.checkEmail(ctx, email.str(), tenantID); err != nil {
		errs = append(errs, fieldErr{FieldEmail, err.(*FieldError).Message})
	}
	if password.empty() {
		errs = append(errs, fieldErr{FieldPassword, MsgFieldNotOptional})
	}
	if len(errs) > 0 {
		fieldError(c, errs...)
		return
	}
	user, err := r.signIn(ctx, tenantID, email.str(), password.str())
	if errors.Is(err, ErrWrongCredentials) {
		c.JSON(http.StatusOK, gin.H{"status": StatusWrongCredentials})
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	if h := r.cfg.Hooks.BeforeSignIn; h != nil {
		if err := h(ctx, &SignInInput{TenantID: tenantID, Email: email.str(), User: user}); err != nil {
			r.hookError(c, err, StatusSignInNotAllowed)
			return
		}
	}
	r.createSession(c, user, tenantID)
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
	exists, err := r.emailExists(c.Request.Context(), ginauth.TenantID(c), NormaliseEmail(raw))
	if err != nil {
		r.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "exists": exists})
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
	row, err := r.findByEmail(ctx, tenantID, email.str())
	if errors.Is(err, ErrUnknownUser) {
		c.JSON(http.StatusOK, gin.H{"status": StatusOK})
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	token, err := r.createToken(ctx, row)
	if err != nil {
		r.fail(c, err)
		return
	}
	mail, err := r.resetEmail(row.Email, r.ResetPasswordLink(tenantID, token))
	if err != nil {
		r.fail(c, err)
		return
	}
	r.mailWG.Add(1)
	go func() {
		defer r.mailWG.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundMailSendTimeout)
		defer cancel()
		if err := r.sender.Send(ctx, mail); err != nil {
			r.auth.Logger().ErrorContext(ctx, "emailpassword: sending the password reset e-mail failed", "user_id", row.UserID, "error", err)
		}
	}()
	c.JSON(http.StatusOK, gin.H{"status": StatusOK})
}

// ResetPasswordLink returns the link a reset e-mail carries:
// <websiteDomain><websiteBasePath>/reset-password?token=...&tenantId=...,
// which the frontend SDKs read.
func (r *Recipe) ResetPasswordLink(tenantID, token string) string {
	info := r.auth.AppInfo()
	q := url.Values{"token": {token}, "tenantId": {tenantOr(tenantID)}}
	return info.WebsiteDomain + info.WebsiteBasePath + resetPasswordWebsitePath + "?" + q.Encode()
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
	if _, err := r.resetPassword(ctx, tenantID, token, password.str()); err != nil {
		if errors.Is(err, ErrInvalidToken) {
			c.JSON(http.StatusOK, gin.H{"status": StatusInvalidResetToken})
			return
		}
		r.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK})
}
