package totp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/internal/recipeutil"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

// maxBody caps request bodies of the TOTP routes.
const maxBody = 4 << 10

// session verifies the request's session; the global validators (the MFA
// claim's among them) are skipped unless Config says otherwise.
func (r *Recipe) session(c *gin.Context) (*ginauth.Session, error) {
	return recipeutil.FactorSession(r.auth, c, r.cfg.OverrideGlobalClaimValidators)
}

// request is the session and body of a TOTP route.
func (r *Recipe) request(c *gin.Context) (*ginauth.Session, map[string]json.RawMessage, bool) {
	s, err := r.session(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, nil, false
	}
	m, err := ginauth.ReadJSONObject(c, maxBody, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, nil, false
	}
	return s, m, true
}

// handleCreateDevice serves POST /totp/device {deviceName?}.
func (r *Recipe) handleCreateDevice(c *gin.Context) {
	s, m, ok := r.request(c)
	if !ok {
		return
	}
	name, err := ginauth.StringField(m, "deviceName", maxNameLen, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	if r.mfa != nil {
		if err := r.mfa.AssertAllowedToSetUp(ctx, s, FactorID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	d, err := r.CreateDevice(ctx, s.UserID(), trimName(name))
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
	s, m, ok := r.request(c)
	if !ok {
		return
	}
	name, err := ginauth.StringField(m, "deviceName", maxNameLen, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	name = trimName(name)
	if r.mfa != nil {
		verified, err := r.isVerified(ctx, s.UserID(), name)
		if err != nil {
			r.auth.WriteError(c, err)
			return
		}
		if verified {
			if err := s.AssertClaims(ctx, r.mfa.Claim().IsSatisfied()); err != nil {
				r.auth.WriteError(c, err)
				return
			}
		}
	}
	name = trimName(name)
	existed, err := r.RemoveDevice(ctx, s.UserID(), name)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK", "didDeviceExist": existed})
}

func (r *Recipe) isVerified(ctx context.Context, userID, name string) (bool, error) {
	devices, err := r.ListDevices(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, d := range devices {
		if d.Name == name {
			return d.Verified, nil
		}
	}
	return false, nil
}

// handleVerifyDevice serves POST /totp/device/verify {deviceName, totp}.
func (r *Recipe) handleVerifyDevice(c *gin.Context) {
	s, m, ok := r.request(c)
	if !ok {
		return
	}
	name, err := ginauth.StringField(m, "deviceName", maxNameLen, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	code, err := ginauth.StringField(m, "totp", 16, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	ctx := c.Request.Context()
	if r.mfa != nil {
		if err := r.mfa.AssertAllowedToSetUp(ctx, s, FactorID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	was, err := r.VerifyDevice(ctx, s.UserID(), trimName(name), code)
	if errors.Is(err, ErrUnknownDevice) {
		c.JSON(http.StatusOK, gin.H{"status": "UNKNOWN_DEVICE_ERROR"})
		return
	}
	if !r.outcome(c, s, name, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK", "wasAlreadyVerified": was})
}

// handleVerify serves POST /totp/verify {totp}.
func (r *Recipe) handleVerify(c *gin.Context) {
	s, m, ok := r.request(c)
	if !ok {
		return
	}
	code, err := ginauth.StringField(m, "totp", 16, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// Per client address, on top of the per-user limit of the code check.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	name, err := r.VerifyCode(c.Request.Context(), s.UserID(), code)
	if errors.Is(err, ErrNoDevice) {
		c.JSON(http.StatusOK, gin.H{"status": "UNKNOWN_USER_ID_ERROR"})
		return
	}
	if !r.outcome(c, s, name, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK"})
}

// outcome answers a failed check, or completes the factor in the session
// after a good one. It reports whether the handler should answer OK.
func (r *Recipe) outcome(c *gin.Context, s *ginauth.Session, name string, err error) bool {
	if multifactorauth.AnswerAttempt(r.auth, c, s.UserID(), FactorID, err, "INVALID_TOTP_ERROR") {
		return false
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	ctx := c.Request.Context()
	if r.mfa != nil {
		if err := r.mfa.MarkFactorCompleted(ctx, s, FactorID); err != nil {
			r.auth.WriteError(c, err)
			return false
		}
	}
	if fn := r.cfg.AfterVerify; fn != nil {
		if err := fn(ctx, s, name); err != nil {
			r.auth.WriteError(c, err)
			return false
		}
	}
	return true
}
