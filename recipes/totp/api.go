package totp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

// maxBody caps request bodies of the TOTP routes.
const maxBody = 4 << 10

// session verifies the request's session; the global validators (the MFA
// claim's among them) are skipped unless Config says otherwise.
func (r *Recipe) session(c *gin.Context) (*ginauth.Session, error) {
	return r.auth.FactorSession(c, r.cfg.OverrideGlobalClaimValidators)
}

// request is the session and body of a TOTP route.
func (r *Recipe) request(c *gin.Context) (*ginauth.Session, map[string]json.RawMessage, bool) {
	s, err := r.session(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, nil, false
	}
	m, err := kit.ReadJSONObject(c, maxBody, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, nil, false
	}
	return s, m, true
}

// field reads a string field of a request's body (see kit.StringField),
// answering the error when it is missing or wrong.
func (r *Recipe) field(c *gin.Context, m map[string]json.RawMessage, name string, maxLen int, required bool) (string, bool) {
	v, err := kit.StringField(m, name, maxLen, required)
	if err != nil {
		r.auth.WriteError(c, err)
		return "", false
	}
	return v, true
}

// deviceRequest is request with the body's deviceName field, which
// required says the route needs.
func (r *Recipe) deviceRequest(c *gin.Context, required bool) (*ginauth.Session, map[string]json.RawMessage, string, bool) {
	s, m, ok := r.request(c)
	if !ok {
		return nil, nil, "", false
	}
	name, ok := r.field(c, m, "deviceName", maxNameLen, required)
	return s, m, name, ok
}

// allowedToSetUp asks the multifactorauth recipe, when there is one,
// whether the session may set up a TOTP device, answering when it may not.
func (r *Recipe) allowedToSetUp(c *gin.Context, s *ginauth.Session) bool {
	if r.mfa == nil {
		return true
	}
	if err := r.mfa.AssertAllowedToSetUp(c.Request.Context(), s, FactorID); err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	return true
}

// handleCreateDevice serves POST /totp/device {deviceName?}.
func (r *Recipe) handleCreateDevice(c *gin.Context) {
	s, _, name, ok := r.deviceRequest(c, false)
	if !ok || !r.allowedToSetUp(c, s) {
		return
	}
	d, err := r.createDevice(c.Request.Context(), s, s.UserID(), trimName(name))
	if errors.Is(err, ErrDeviceExists) {
		c.JSON(http.StatusOK, gin.H{"status": "DEVICE_ALREADY_EXISTS_ERROR"})
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "OK", "deviceName": d.Name, "secret": d.Secret, "qrCodeString": d.QRCodeString})
}

// handleListDevices serves GET /totp/device/list.
func (r *Recipe) handleListDevices(c *gin.Context) {
	s, err := r.session(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	devices, err := r.ListDevices(c.Request.Context(), s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK", "devices": devices})
}

// handleRemoveDevice serves POST /totp/device/remove {deviceName}. With the
// multifactorauth recipe, removing a verified device needs a session that
// meets its MFA requirements: otherwise a stolen password would be enough
// to drop the second factor and enrol a new one.
func (r *Recipe) handleRemoveDevice(c *gin.Context) {
	s, _, name, ok := r.deviceRequest(c, true)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	name = trimName(name)
	// As supertokens-node's removeDevicePOST: the claim is asserted only
	// for a verified device. The transaction checks again that a device
	// removed without it is still unverified.
	unverifiedOnly := r.mfa != nil
	if r.mfa != nil {
		verified, _, err := r.deviceState(ctx, r.db, s.UserID(), name)
		if err != nil {
			r.auth.WriteError(c, err)
			return
		}
		if verified {
			if err := s.AssertClaims(ctx, r.mfa.Claim().IsSatisfied()); err != nil {
				r.auth.WriteError(c, err)
				return
			}
			unverifiedOnly = false
		}
	}
	existed, err := r.removeDevice(ctx, s, s.UserID(), name, unverifiedOnly)
	if errors.Is(err, errVerifiedMeanwhile) {
		if err = s.AssertClaims(ctx, r.mfa.Claim().IsSatisfied()); err == nil {
			existed, err = r.removeDevice(ctx, s, s.UserID(), name, false)
		}
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK", "didDeviceExist": existed})
}

// errAlreadyVerified tells attempt that the device was verified already:
// the code was not checked, so the factor is not completed (SuperTokens
// completes it; a session that may set up factors could then renew its
// TOTP completion time with any code).
var errAlreadyVerified = errors.New("totp: the device was verified already")

// handleVerifyDevice serves POST /totp/device/verify {deviceName, totp}.
func (r *Recipe) handleVerifyDevice(c *gin.Context) {
	s, m, name, ok := r.deviceRequest(c, true)
	if !ok {
		return
	}
	code, ok := r.field(c, m, "totp", 16, true)
	if !ok || !r.allowedToSetUp(c, s) {
		return
	}
	r.attempt(c, s, ErrUnknownDevice, "UNKNOWN_DEVICE_ERROR", func(ctx context.Context, onOK func(*gorm.DB) error) (string, gin.H, error) {
		was, err := r.verifyDevice(ctx, s, s.UserID(), trimName(name), code, onOK)
		if was && err == nil {
			err = errAlreadyVerified
		}
		return name, gin.H{"status": "OK", "wasAlreadyVerified": was}, err
	})
}

// handleVerify serves POST /totp/verify {totp}.
func (r *Recipe) handleVerify(c *gin.Context) {
	s, m, ok := r.request(c)
	if !ok {
		return
	}
	code, ok := r.field(c, m, "totp", 16, true)
	if !ok {
		return
	}
	r.attempt(c, s, ErrNoDevice, "UNKNOWN_USER_ID_ERROR", func(ctx context.Context, onOK func(*gorm.DB) error) (string, gin.H, error) {
		name, err := r.verifyCode(ctx, s, s.UserID(), code, onOK)
		return name, gin.H{"status": "OK"}, err
	})
}

// attempt answers one code entry: check runs the check, calling onOK in
// the check's transaction once the code is accepted, and returns the
// device's name and the body of the OK answer. The entry is rate limited
// per client address, on top of the per-user limit of the check itself;
// a check failing with unknown is answered with unknownStatus.
func (r *Recipe) attempt(c *gin.Context, s *ginauth.Session, unknown error, unknownStatus string,
	check func(ctx context.Context, onOK func(*gorm.DB) error) (string, gin.H, error)) {
	if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	onOK, send, err := r.completion(c.Request.Context(), s)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	name, body, err := check(c.Request.Context(), onOK)
	if errors.Is(err, errAlreadyVerified) {
		c.JSON(http.StatusOK, body)
		return
	}
	if errors.Is(err, unknown) {
		c.JSON(http.StatusOK, gin.H{"status": unknownStatus})
		return
	}
	if !r.outcome(c, s, name, err, send) {
		return
	}
	c.JSON(http.StatusOK, body)
}

// completion prepares completing the factor in the session: onOK stores
// the st-mfa update inside the transaction that accepts the code, so that
// the code is used up and the factor completed together or not at all,
// and send sends the new access token once that transaction committed.
// Without the multifactorauth recipe both do nothing.
func (r *Recipe) completion(ctx context.Context, s *ginauth.Session) (onOK func(*gorm.DB) error, send func() error, err error) {
	if r.mfa == nil {
		return nil, func() error { return nil }, nil
	}
	update, err := r.mfa.CompletionUpdate(ctx, s, FactorID)
	if err != nil {
		return nil, nil, err
	}
	var sendToken func() error
	onOK = func(tx *gorm.DB) error {
		var err error
		sendToken, err = s.MergeIntoAccessTokenPayloadTx(ctx, tx, update)
		return err
	}
	send = func() error {
		if sendToken == nil {
			return nil
		}
		return sendToken()
	}
	return onOK, send, nil
}

// outcome answers a failed check, or sends the session's new access token
// (the factor completed) after a good one and runs AfterVerify. It reports
// whether the handler should answer OK.
func (r *Recipe) outcome(c *gin.Context, s *ginauth.Session, name string, err error, send func() error) bool {
	if multifactorauth.AnswerAttempt(r.auth, c, s.UserID(), FactorID, err, "INVALID_TOTP_ERROR") {
		return false
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	ctx := c.Request.Context()
	if err := send(); err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	if fn := r.cfg.AfterVerify; fn != nil {
		if err := fn(ctx, s, name); err != nil {
			r.auth.WriteError(c, err)
			return false
		}
	}
	return true
}
