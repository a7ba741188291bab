package passwordless

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// How codes are kept (see the package documentation, "Codes at rest"):
//
//   - deviceId: 256 random bits, held only by the client that asked for the
//     code. Never stored.
//   - preAuthSessionId: base64url SHA-256 of the deviceId; the device row's
//     key. Public (it is in the magic link), and useless for finding the
//     deviceId.
//   - user input code: stored as HMAC-SHA256 keyed with the deviceId. With
//     only the database, an attacker cannot test the 10^6 possible codes,
//     because the key is not there.
//   - link code: 256 random bits, stored as its SHA-256, which is enough for
//     a value that cannot be guessed.

// Code is a newly made code. DeviceID, UserInputCode and LinkCode are
// secrets: the type redacts them when printed or logged.
type Code struct {
	// DeviceID identifies the device to the consume and resend calls that
	// use a user input code. Only the device that asked for the code
	// should have it.
	DeviceID string
	// PreAuthSessionID names the sign-in attempt (it is in the magic link).
	PreAuthSessionID string
	// UserInputCode is the code the user types.
	UserInputCode string
	// LinkCode is the secret of the magic link.
	LinkCode  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// String describes the code without its secrets.
func (c *Code) String() string {
	return fmt.Sprintf("passwordless.Code{PreAuthSessionID:%s DeviceID:[redacted] UserInputCode:[redacted] LinkCode:[redacted] ExpiresAt:%s}",
		c.PreAuthSessionID, c.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, so that %#v does not print the secrets either.
func (c *Code) GoString() string { return c.String() }

// LogValue logs the code without its secrets.
func (c *Code) LogValue() slog.Value {
	return slog.GroupValue(slog.String("preAuthSessionId", c.PreAuthSessionID), slog.Time("expiresAt", c.ExpiresAt))
}

// preAuthID derives the pre-auth session id from a device id.
func preAuthID(deviceID string) string {
	sum := sha256.Sum256([]byte(deviceID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// deviceMatches reports whether deviceID belongs to preAuthSessionID.
func deviceMatches(deviceID, preAuthSessionID string) bool {
	if deviceID == "" || len(deviceID) > 128 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(preAuthID(deviceID)), []byte(preAuthSessionID)) == 1
}

// codeHash is the stored form of a user input code: HMAC-SHA256 keyed with
// the device id, domain-separated.
func codeHash(deviceID, code string) string {
	m := hmac.New(sha256.New, []byte(deviceID))
	m.Write([]byte("ginauth/passwordless/user-input-code\x00"))
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// newUserInputCode returns a uniformly random code of the given number of
// decimal digits.
func newUserInputCode(digits int) string {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil { // crypto/rand does not fail on supported platforms
		panic(err)
	}
	return fmt.Sprintf("%0*s", digits, n.String())
}

// newCodeRow makes a code for a device and its row.
func (r *Recipe) newCodeRow(deviceID, preAuthSessionID string) (*Code, *models.PasswordlessCode) {
	now := r.auth.Now()
	code := &Code{DeviceID: deviceID, PreAuthSessionID: preAuthSessionID,
		UserInputCode: newUserInputCode(r.cfg.CodeDigits), LinkCode: kit.Token(32),
		CreatedAt: now, ExpiresAt: now.Add(r.cfg.CodeLifetime)}
	row := &models.PasswordlessCode{ID: kit.NewID(), PreAuthSessionID: preAuthSessionID,
		CodeHash: codeHash(deviceID, code.UserInputCode), LinkHash: kit.HashToken(code.LinkCode),
		CreatedAt: now, ExpiresAt: code.ExpiresAt}
	return code, row
}

// createDevice stores a new device for a checked contact with its first
// code.
func (r *Recipe) createDevice(ctx context.Context, tenantID string, c Contact) (*Code, error) {
	r.maybeSweep(ctx)
	deviceID := kit.Token(32)
	code, row := r.newCodeRow(deviceID, preAuthID(deviceID))
	dev := &models.PasswordlessDevice{PreAuthSessionID: code.PreAuthSessionID, TenantID: tenantID,
		Email: c.Email, PhoneNumber: c.PhoneNumber, CreatedAt: code.CreatedAt}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(dev).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return code, nil
}

// findDevice returns the device of a pre-auth session id in a tenant, or
// ErrRestartFlow.
func (r *Recipe) findDevice(ctx context.Context, tenantID, preAuthSessionID string) (*models.PasswordlessDevice, error) {
	if preAuthSessionID == "" || len(preAuthSessionID) > 64 {
		return nil, ErrRestartFlow
	}
	var rows []models.PasswordlessDevice
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("pre_auth_session_id = ?", preAuthSessionID).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 || rows[0].TenantID != tenantID {
		return nil, ErrRestartFlow
	}
	return &rows[0], nil
}

func deviceContact(d *models.PasswordlessDevice) Contact {
	return Contact{Email: d.Email, PhoneNumber: d.PhoneNumber}
}

// addCode adds a code to an existing device (a resend).
func (r *Recipe) addCode(ctx context.Context, deviceID string, dev *models.PasswordlessDevice) (*Code, error) {
	code, row := r.newCodeRow(deviceID, dev.PreAuthSessionID)
	if err := r.auth.DB().WithContext(kit.DBContext(ctx)).Create(row).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	return code, nil
}

// deleteCode removes one code (one that could not be delivered).
func (r *Recipe) deleteCode(ctx context.Context, code *Code) error {
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).
		Where("pre_auth_session_id = ? AND link_hash = ?", code.PreAuthSessionID, kit.HashToken(code.LinkCode)).
		Delete(&models.PasswordlessCode{}).Error
	return ginauth.DBError(err)
}

// outcome is what checking a code decided.
type outcome struct {
	ok      bool
	codeErr *CodeError // wrong or expired user input code
	locked  bool       // that wrong code was the last allowed: the device is gone
}

// check consumes a code of dev: a link code, or a user input code with the
// device id. Everything happens in one transaction whose first statement
// is a write, so that concurrent checks of one device serialise on its
// rows (Postgres row locks, SQLite's write lock):
//
//   - the DELETE of a matching live code is the single-use guarantee: of
//     two concurrent consumes, one deletes the row and the other finds
//     none;
//   - a wrong code increments the device's counter with one UPDATE, and the
//     device is deleted in the same transaction when the count reaches the
//     limit, so concurrent wrong guesses cannot exceed it;
//   - success deletes every device (and code) of the contact in the tenant.
//
// onOK, when not nil, runs in the same transaction once the code is
// accepted (completing a factor in a session with the code, say); its
// error rolls everything back, leaving the code unused.
//
// It returns ErrRestartFlow for a gone device or an unknown link code.
func (r *Recipe) check(ctx context.Context, dev *models.PasswordlessDevice, deviceID, userInputCode, linkCode string, onOK func(*gorm.DB) error) (outcome, error) {
	var out outcome
	now := r.auth.Now()
	pre := dev.PreAuthSessionID
	max := r.cfg.MaxCodeInputAttempts
	var h string
	if linkCode != "" {
		if len(linkCode) > 256 {
			return out, ErrRestartFlow
		}
		h = kit.HashToken(linkCode)
	} else {
		if !deviceMatches(deviceID, pre) {
			return out, ErrRestartFlow
		}
		h = codeHash(deviceID, userInputCode)
	}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		col := "code_hash"
		if linkCode != "" {
			col = "link_hash"
		}
		res := tx.Where("pre_auth_session_id = ? AND "+col+" = ? AND expires_at > ?", pre, h, now).Delete(&models.PasswordlessCode{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			out.ok = true
			if _, err := revokeDevices(ctx, tx, dev.TenantID, deviceContact(dev)); err != nil || onOK == nil {
				return err
			}
			return onOK(tx)
		}
		if linkCode != "" {
			return nil // unknown or expired link: restart
		}
		res = tx.Model(&models.PasswordlessDevice{}).Where("pre_auth_session_id = ?", pre).
			UpdateColumn("failed_attempts", gorm.Expr("failed_attempts + 1"))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // the device went meanwhile: restart
		}
		var d models.PasswordlessDevice
		if err := tx.Where("pre_auth_session_id = ?", pre).Take(&d).Error; err != nil {
			return err
		}
		if d.FailedAttempts >= max {
			out.locked = true
			return deleteDevice(tx, pre)
		}
		var n int64
		if err := tx.Model(&models.PasswordlessCode{}).Where("pre_auth_session_id = ? AND code_hash = ?", pre, h).Count(&n).Error; err != nil {
			return err
		}
		out.codeErr = &CodeError{Expired: n > 0, FailedAttempts: d.FailedAttempts, MaxAttempts: max}
		return nil
	})
	if err != nil {
		return outcome{}, ginauth.DBError(err)
	}
	if !out.ok && out.codeErr == nil {
		return out, ErrRestartFlow
	}
	return out, nil
}

func deleteDevice(tx *gorm.DB, pre string) error {
	if err := tx.Where("pre_auth_session_id = ?", pre).Delete(&models.PasswordlessCode{}).Error; err != nil {
		return err
	}
	return tx.Where("pre_auth_session_id = ?", pre).Delete(&models.PasswordlessDevice{}).Error
}

// revokeDevices deletes every device of a contact in a tenant, with its
// codes, through db (which may be a transaction), and returns how many
// devices went.
func revokeDevices(ctx context.Context, db *gorm.DB, tenantID string, c Contact) (int64, error) {
	db = db.WithContext(kit.DBContext(ctx))
	devices := func(q *gorm.DB) *gorm.DB {
		q = q.Where("tenant_id = ?", tenantID)
		if c.IsEmail() {
			return q.Where("email = ?", c.Email)
		}
		return q.Where("phone_number = ? AND phone_number <> ''", c.PhoneNumber)
	}
	sub := devices(db.Session(&gorm.Session{NewDB: true}).Model(&models.PasswordlessDevice{})).Select("pre_auth_session_id")
	if err := db.Where("pre_auth_session_id IN (?)", sub).Delete(&models.PasswordlessCode{}).Error; err != nil {
		return 0, ginauth.DBError(err)
	}
	res := devices(db.Session(&gorm.Session{NewDB: true})).Delete(&models.PasswordlessDevice{})
	return res.RowsAffected, ginauth.DBError(res.Error)
}

// deleteExpired removes codes that expired at or before cutoff and the
// devices created before it that have no code left.
func (r *Recipe) deleteExpired(ctx context.Context, cutoff time.Time) (int64, error) {
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	res := db.Where("expires_at <= ?", cutoff).Delete(&models.PasswordlessCode{})
	if res.Error != nil {
		return 0, ginauth.DBError(res.Error)
	}
	codes := db.Session(&gorm.Session{NewDB: true}).Model(&models.PasswordlessCode{}).Select("pre_auth_session_id")
	err := db.Session(&gorm.Session{NewDB: true}).Where("created_at <= ? AND pre_auth_session_id NOT IN (?)", cutoff, codes).
		Delete(&models.PasswordlessDevice{}).Error
	return res.RowsAffected, ginauth.DBError(err)
}

// maybeSweep deletes long-expired codes at most once a minute, so that the
// tables stay small without a background job. Codes are kept for one
// lifetime after they expire, so that a late attempt still hears
// EXPIRED_USER_INPUT_CODE_ERROR rather than a wrong-code answer.
func (r *Recipe) maybeSweep(ctx context.Context) {
	now := r.auth.Now()
	if last := r.lastSweep.Load(); last != 0 && now.Sub(time.Unix(0, last)) < time.Minute {
		return
	}
	if !r.sweepMu.TryLock() {
		return
	}
	defer r.sweepMu.Unlock()
	r.lastSweep.Store(now.UnixNano())
	if _, err := r.deleteExpired(ctx, now.Add(-r.cfg.CodeLifetime)); err != nil {
		r.auth.Logger().WarnContext(ctx, "passwordless: deleting expired codes failed", "error", err)
	}
}
