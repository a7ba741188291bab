package passwordless

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// FDI statuses this recipe answers with (HTTP 200).
const (
	StatusOK                 = "OK"
	StatusRestartFlow        = "RESTART_FLOW_ERROR"
	StatusIncorrectCode      = "INCORRECT_USER_INPUT_CODE_ERROR"
	StatusExpiredCode        = "EXPIRED_USER_INPUT_CODE_ERROR"
	StatusSignInUpNotAllowed = "SIGN_IN_UP_NOT_ALLOWED"
	StatusGeneralError       = "GENERAL_ERROR"
)

// MsgSendFailed is the GENERAL_ERROR message when a code message could not
// be delivered (the code is then deleted).
const MsgSendFailed = "The sign-in code could not be sent. Please try again later."

// sendAction is the rate-limited action a sent code counts against, per IP
// address and per contact (see the package documentation, "Rate limits").
const sendAction = ginauth.ActionSendCode

const (
	sendTimeout           = time.Minute
	maxContactBytes       = 1024
	maxIDBytes            = 256
	maxUserInputCodeBytes = 64

	fieldShouldTryLinking = "shouldTryLinkingWithSessionUser"
	fieldPreAuthSessionID = "preAuthSessionId"
	fieldDeviceID         = "deviceId"
	fieldUserInputCode    = "userInputCode"
	fieldLinkCode         = "linkCode"
	fieldEmail            = "email"
	fieldPhone            = "phoneNumber"
)

// has reports whether obj has a non-null member name.
func has(obj map[string]json.RawMessage, name string) bool {
	raw, ok := obj[name]
	return ok && string(raw) != "null"
}

// readBody reads the JSON object and checks the optional
// shouldTryLinkingWithSessionUser flag (see linkSession).
func (r *Recipe) readBody(c *gin.Context) (map[string]json.RawMessage, error) {
	obj, err := kit.ReadJSONObject(c, r.cfg.MaxBodyBytes, false)
	if err != nil {
		return nil, err
	}
	if has(obj, fieldShouldTryLinking) {
		var b bool
		if json.Unmarshal(obj[fieldShouldTryLinking], &b) != nil {
			return nil, ginauth.BadRequest("%s must be a boolean", fieldShouldTryLinking)
		}
	}
	return obj, nil
}

// fail answers an error of the recipe's own.
func (r *Recipe) fail(c *gin.Context, err error) {
	var ic *InvalidContactError
	switch {
	case errors.Is(err, ErrRestartFlow):
		c.JSON(http.StatusOK, gin.H{"status": StatusRestartFlow})
	case errors.As(err, &ic):
		c.JSON(http.StatusOK, gin.H{"status": StatusGeneralError, "message": ic.Message})
	default:
		// Refusals (ginauth.NotAllowed) are FDI statuses, anything else an
		// HTTP error.
		r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
	}
}

// existingUser returns the user of a contact, or nil.
func (r *Recipe) existingUser(ctx context.Context, tenantID string, ct Contact) (*ginauth.User, error) {
	row, err := r.findUser(ctx, tenantID, ct)
	if errors.Is(err, ErrUnknownUser) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.auth.GetUser(ctx, row.UserID)
}

// beforeSignInUp runs the hook, reporting whether the flow may go on (it
// has answered when not).
func (r *Recipe) beforeSignInUp(c *gin.Context, tenantID string, ct Contact, verified bool) bool {
	h := r.cfg.Hooks.BeforeSignInUp
	if h == nil {
		return true
	}
	ctx := c.Request.Context()
	u, err := r.existingUser(ctx, tenantID, ct)
	if err != nil {
		r.fail(c, err)
		return false
	}
	if err := h(ctx, &SignInUpInput{TenantID: tenantID, Contact: ct, User: u, CodeVerified: verified}); err != nil {
		r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
		return false
	}
	return true
}

// deliver sends a code on the send attempt at, which it settles: a message
// sent stays counted against the contact, one that could not be sent is
// refunded. It reports whether it answered (with an error).
func (r *Recipe) deliver(c *gin.Context, tenantID string, ct Contact, code *Code, flow FlowType, at *kit.Attempt) bool {
	ctx, cancel := context.WithTimeout(c.Request.Context(), sendTimeout)
	defer cancel()
	if err := r.send(ctx, tenantID, ct, code, flow); err != nil {
		// An undeliverable code must not stay usable.
		if derr := r.deleteCode(context.WithoutCancel(ctx), code); derr != nil {
			r.auth.Logger().WarnContext(ctx, "passwordless: deleting an undelivered code failed", "error", derr)
		}
		r.auth.WriteGeneralError(c, MsgSendFailed, err)
		return true
	}
	at.Failed()
	return false
}

// handleCreateCode serves POST /signinup/code.
func (r *Recipe) handleCreateCode(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, err := r.readBody(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	hasEmail, hasPhone := has(obj, fieldEmail), has(obj, fieldPhone)
	switch {
	case hasEmail == hasPhone:
		r.auth.WriteError(c, ginauth.BadRequest("Please provide exactly one of email or phoneNumber"))
		return
	case hasEmail && !r.cfg.ContactMethod.allowsEmail():
		r.auth.WriteError(c, ginauth.BadRequest(`Please provide a phoneNumber, not an email: the contactMethod is "PHONE"`))
		return
	case hasPhone && !r.cfg.ContactMethod.allowsPhone():
		r.auth.WriteError(c, ginauth.BadRequest(`Please provide an email, not a phoneNumber: the contactMethod is "EMAIL"`))
		return
	}
	s, ok := r.linkSession(c, obj)
	if !ok {
		return
	}
	if s != nil {
		tenantID = s.TenantID()
	}
	var ct Contact
	if hasEmail {
		ct.Email, err = kit.StringField(obj, fieldEmail, maxContactBytes, true)
	} else {
		ct.PhoneNumber, err = kit.StringField(obj, fieldPhone, maxContactBytes, true)
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if strings.TrimSpace(ct.String()) == "" {
		msg := MsgEmailInvalid
		if hasPhone {
			msg = MsgPhoneInvalid
		}
		r.fail(c, &InvalidContactError{Message: msg})
		return
	}
	ct, err = r.checkContact(ctx, tenantID, ct)
	if err != nil {
		r.fail(c, err)
		return
	}
	flow := r.cfg.FlowType
	if s != nil {
		// A second factor: a code only, as SuperTokens sends with a
		// session, and only for a factor the session may complete or set up.
		flow = FlowUserInputCode
		if _, err := r.secondFactor(ctx, s, ct, factorFor(ct, false)); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
			return
		}
	} else if err := r.checkFlowAllowed(ctx, tenantID, ct); err != nil {
		// Nothing is sent for a tenant that offers none of this flow's factors.
		r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
		return
	}
	// The message is reserved against the contact before anything is
	// written or sent, so that a burst sends exactly the limit; an attempt
	// that sends nothing is refunded.
	at, err := r.auth.Reserve(c, sendAction, ct.rateKey(tenantID))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	defer at.Refund()
	if !r.beforeSignInUp(c, tenantID, ct, false) {
		return
	}
	code, err := r.createDevice(ctx, tenantID, ct)
	if err != nil {
		r.fail(c, err)
		return
	}
	if r.deliver(c, tenantID, ct, code, flow, at) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "deviceId": code.DeviceID,
		"preAuthSessionId": code.PreAuthSessionID, "flowType": flow})
}

// checkFlowAllowed asks the core whether the tenant offers the code or the
// link factor (whichever the flow sends) for the contact's kind, and
// returns the not-allowed error of the last one refused.
func (r *Recipe) checkFlowAllowed(ctx context.Context, tenantID string, ct Contact) error {
	var factors []string
	if r.cfg.FlowType.sendsCode() {
		factors = append(factors, factorFor(ct, false))
	}
	if r.cfg.FlowType.sendsLink() {
		factors = append(factors, factorFor(ct, true))
	}
	var err error
	for _, f := range factors {
		if _, err = r.auth.CheckSignIn(ctx, tenantID, f); err == nil {
			return nil
		}
	}
	return err
}

// handleResendCode serves POST /signinup/code/resend.
func (r *Recipe) handleResendCode(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, err := r.readBody(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	deviceID, err := kit.StringField(obj, fieldDeviceID, maxIDBytes, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	pre, err := kit.StringField(obj, fieldPreAuthSessionID, maxIDBytes, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if !deviceMatches(deviceID, pre) {
		r.fail(c, ErrRestartFlow)
		return
	}
	s, ok := r.linkSession(c, obj)
	if !ok {
		return
	}
	flow := r.cfg.FlowType
	if s != nil {
		tenantID, flow = s.TenantID(), FlowUserInputCode
	}
	dev, err := r.findDevice(ctx, tenantID, pre)
	if err != nil {
		r.fail(c, err)
		return
	}
	ct := deviceContact(dev)
	at, err := r.auth.Reserve(c, sendAction, ct.rateKey(tenantID))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	defer at.Refund()
	code, err := r.addCode(ctx, deviceID, dev)
	if err != nil {
		r.fail(c, err)
		return
	}
	if r.deliver(c, tenantID, ct, code, flow, at) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK})
}

// readConsume reads a consume request's body.
func (r *Recipe) readConsume(c *gin.Context) (in ConsumeInput, obj map[string]json.RawMessage, err error) {
	obj, err = r.readBody(c)
	if err != nil {
		return in, nil, err
	}
	if !has(obj, fieldPreAuthSessionID) {
		return in, nil, ginauth.BadRequest("Please provide preAuthSessionId")
	}
	for _, f := range []struct {
		name string
		dst  *string
		max  int
	}{
		{fieldPreAuthSessionID, &in.PreAuthSessionID, maxIDBytes},
		{fieldDeviceID, &in.DeviceID, maxIDBytes},
		{fieldUserInputCode, &in.UserInputCode, maxUserInputCodeBytes},
		{fieldLinkCode, &in.LinkCode, maxIDBytes},
	} {
		if *f.dst, err = kit.StringField(obj, f.name, f.max, false); err != nil {
			return in, nil, err
		}
	}
	// Shapes are judged on which members were sent, as SuperTokens does:
	// an empty string is a (wrong) value, not a missing one.
	link, dev, code := has(obj, fieldLinkCode), has(obj, fieldDeviceID), has(obj, fieldUserInputCode)
	switch {
	case link && (dev || code):
		return in, nil, ginauth.BadRequest("Please provide either linkCode, or deviceId and userInputCode, not both")
	case !link && !dev && !code:
		return in, nil, ginauth.BadRequest("Please provide either linkCode, or deviceId and userInputCode")
	case !link && (!dev || !code):
		return in, nil, ginauth.BadRequest("Please provide both deviceId and userInputCode")
	}
	in.UserInputCode = strings.TrimSpace(in.UserInputCode)
	return in, obj, nil
}

// handleConsumeCode serves POST /signinup/code/consume.
func (r *Recipe) handleConsumeCode(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	in, obj, err := r.readConsume(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	link := in.LinkCode != "" || in.DeviceID == ""
	s, ok := r.linkSession(c, obj)
	if !ok {
		return
	}
	if s != nil {
		r.consumeForSession(c, s, in, link)
		return
	}
	ct, ok := r.useCode(c, tenantID, in, link, func(ct Contact) (func(*gorm.DB) error, bool) {
		// The tenant must offer this factor before a code is used up or a
		// user written.
		if _, err := r.auth.CheckSignIn(ctx, tenantID, factorFor(ct, link)); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
			return nil, false
		}
		return nil, true
	})
	if !ok {
		return
	}
	if !r.beforeSignInUp(c, tenantID, ct, true) {
		return
	}
	res, err := r.signInUp(ctx, tenantID, ct)
	if errors.Is(err, ginauth.ErrSignInNotAllowed) {
		r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
		return
	}
	if err != nil {
		r.fail(c, err)
		return
	}
	if h := r.cfg.Hooks.AfterSignInUp; h != nil {
		if err := h(ctx, res.User, res.CreatedNewRecipeUser); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
			return
		}
	}
	var payload map[string]any
	if h := r.cfg.Hooks.SessionPayload; h != nil {
		if payload, err = h(ctx, res.User); err != nil {
			r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
			return
		}
	}
	sess, err := r.auth.CreateSession(c, ginauth.NewSession{UserID: res.RecipeUserID, RecipeUserID: res.RecipeUserID, TenantID: tenantID,
		AccessTokenPayload: payload, Factor: factorFor(ct, link)})
	if err != nil {
		r.auth.WriteHookError(c, err, StatusSignInUpNotAllowed)
		return
	}
	ev := ginauth.EventSignIn
	if res.CreatedNewRecipeUser {
		ev = ginauth.EventSignUp
	}
	r.auth.Emit(ctx, ginauth.Event{Type: ev, UserID: res.User.ID, SessionHandle: sess.Handle(), IP: c.ClientIP(), Detail: "passwordless"})
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "createdNewRecipeUser": res.CreatedNewRecipeUser, "user": res.User})
}

// useCode checks a consume request's code against its device in tenantID
// and answers every failure (a wrong, expired or unknown code, limits).
// before runs once the device's contact is known, before the code is
// checked: it answers and returns false to stop, or returns the function
// to run in the transaction that uses up a right code (see check).
func (r *Recipe) useCode(c *gin.Context, tenantID string, in ConsumeInput, link bool,
	before func(Contact) (func(*gorm.DB) error, bool)) (Contact, bool) {
	ctx := c.Request.Context()
	dev, err := r.findDevice(ctx, tenantID, in.PreAuthSessionID)
	if errors.Is(err, ErrRestartFlow) {
		// Counted per IP all the same: probing ids is an attempt too.
		if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
			r.auth.WriteError(c, err)
			return Contact{}, false
		}
	}
	if err != nil {
		r.fail(c, err)
		return Contact{}, false
	}
	ct := deviceContact(dev)
	onOK, ok := before(ct)
	if !ok {
		return ct, false
	}
	account := ""
	if !link {
		// Wrong codes count against the contact across its devices, so that
		// starting over does not buy an attacker fresh guesses.
		account = ct.rateKey(tenantID)
	}
	// Reserved before the code is checked; anything but a right code
	// stays counted.
	at, err := r.auth.Reserve(c, ginauth.ActionCodeEntry, account)
	if err != nil {
		r.auth.WriteError(c, err)
		return ct, false
	}
	defer at.Failed()
	out, err := r.check(ctx, dev, in.DeviceID, in.UserInputCode, in.LinkCode, onOK)
	if out.codeErr != nil || out.locked {
		detail := "wrong code"
		if out.locked {
			detail = "wrong code; too many attempts, device revoked"
		} else if out.codeErr.Expired {
			detail = "expired code"
		}
		r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventSignInFailed, Account: ct.String(), IP: c.ClientIP(), Detail: "passwordless: " + detail})
	}
	if err != nil {
		r.fail(c, err)
		return ct, false
	}
	if ce := out.codeErr; ce != nil {
		status := StatusIncorrectCode
		if ce.Expired {
			status = StatusExpiredCode
		}
		c.JSON(http.StatusOK, gin.H{"status": status, "failedCodeInputAttemptCount": ce.FailedAttempts,
			"maximumCodeInputAttempts": ce.MaxAttempts})
		return ct, false
	}
	// A right code forgives the contact's earlier wrong ones.
	at.Succeeded()
	return ct, true
}

// handleEmailExists serves GET /passwordless/email/exists and the
// deprecated /signup/email/exists (shared with emailpassword; see doc.go).
func (r *Recipe) handleEmailExists(c *gin.Context) {
	raw, ok := c.GetQuery(fieldEmail)
	if !ok || strings.TrimSpace(raw) == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email as a GET param"))
		return
	}
	if !utf8.ValidString(raw) || len(raw) > maxContactBytes {
		r.auth.WriteError(c, ginauth.BadRequest("the email GET param is not a valid e-mail address"))
		return
	}
	r.answerExists(c, Contact{Email: NormaliseEmail(raw)})
}

// handlePhoneExists serves GET /passwordless/phonenumber/exists and the
// deprecated /signup/phonenumber/exists.
func (r *Recipe) handlePhoneExists(c *gin.Context) {
	raw, ok := c.GetQuery(fieldPhone)
	if !ok || strings.TrimSpace(raw) == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the phoneNumber as a GET param"))
		return
	}
	if !utf8.ValidString(raw) || len(raw) > maxContactBytes {
		r.auth.WriteError(c, ginauth.BadRequest("the phoneNumber GET param is not a valid phone number"))
		return
	}
	// An unescaped "+" in a query string arrives as a space.
	if strings.HasPrefix(raw, " ") {
		raw = "+" + strings.TrimLeft(raw, " ")
	}
	r.answerExists(c, Contact{PhoneNumber: NormalisePhoneNumber(raw)})
}

func (r *Recipe) answerExists(c *gin.Context, ct Contact) {
	// Each lookup counts against the client's address, so that the
	// endpoints cannot walk a list of addresses or numbers.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionExistsCheck, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	_, err := r.findUser(c.Request.Context(), ginauth.TenantID(c), ct)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		r.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "exists": err == nil})
}
