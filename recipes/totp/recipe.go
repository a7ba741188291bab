package totp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

// RecipeID is the id of the totp recipe (the rid the frontend SDKs send).
const RecipeID = "totp"

// FactorID is the MFA factor the recipe completes.
const FactorID = multifactorauth.FactorTOTP

// Errors of the Go API. HTTP handlers turn them into FDI statuses.
var (
	// ErrDeviceExists: the user already has a device of that name.
	ErrDeviceExists = errors.New("totp: a device with this name already exists")
	// ErrUnknownDevice: the user has no device of that name.
	ErrUnknownDevice = errors.New("totp: unknown device")
	// ErrNoDevice: the user has no verified device to check a code against.
	ErrNoDevice = errors.New("totp: the user has no verified device")
	// ErrTooManyDevices: the user reached Config.MaxDevices.
	ErrTooManyDevices = errors.New("totp: too many devices")
	// ErrNotSetUp: the recipe is used before ginauth.New set it up.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
)

// maxNameLen bounds device names (the column size).
const maxNameLen = 256

// Config tunes the recipe. SecretKey is required; everything else has
// SuperTokens' defaults.
type Config struct {
	// SecretKey seals device secrets at rest (AES-256-GCM). 32 random
	// bytes, kept outside the database (an environment variable, a secret
	// manager). Losing it makes every enrolled device unusable.
	SecretKey []byte
	// OldSecretKeys still open secrets sealed before a key rotation.
	OldSecretKeys [][]byte

	// Issuer names the app in authenticator apps. Default AppInfo.AppName.
	Issuer string
	// Algorithm of new devices. Default SHA1, the only one every app reads.
	Algorithm Algorithm
	// Digits of new devices' codes: 6 (default), 7 or 8.
	Digits int
	// Period of new devices in seconds. Default 30.
	Period int
	// Skew is how many steps before and after the current one are
	// accepted. Default 1; set a negative value for none.
	Skew int

	// MaxFailedAttempts wrong codes in a row lock the user out for Lockout.
	// Defaults 5 and 15 minutes, as SuperTokens.
	MaxFailedAttempts int
	Lockout           time.Duration
	// MaxDevices caps the devices one user may hold. Default 10.
	MaxDevices int

	// UserIdentifier names the user in authenticator apps. Default: the
	// user's first e-mail, else phone number, else user id.
	UserIdentifier func(ctx context.Context, userID string) (string, error)
	// OverrideGlobalClaimValidators chooses the validators run on the TOTP
	// routes. Default: none, as SuperTokens does, so that the MFA claim
	// (or an app's own second-factor claim) does not lock the user out of
	// the very routes that complete it.
	OverrideGlobalClaimValidators func(global []claims.Validator, c *gin.Context) []claims.Validator
	// AfterVerify runs after a code was accepted on POST /totp/verify or
	// POST /totp/device/verify, once the MFA claim (if the multifactorauth
	// recipe is configured) was updated. Set an app's own claim here, e.g.
	// s.SetClaimValue(ctx, secondFactor.Update(true, auth.Now())).
	AfterVerify func(ctx context.Context, s *ginauth.Session, deviceName string) error
}

// Validate reports whether the config is usable (New's Setup calls it).
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

// String redacts the keys.
func (c Config) String() string {
	return fmt.Sprintf("totp.Config{SecretKey: [REDACTED %d bytes], Issuer: %q, Algorithm: %q, Digits: %d, Period: %d, Skew: %d}",
		len(c.SecretKey), c.Issuer, c.Algorithm, c.Digits, c.Period, c.Skew)
}

// GoString redacts the keys.
func (c Config) GoString() string { return c.String() }

// LogValue redacts the keys.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

type settings struct {
	params     Params
	skew       int
	maxDevices int
	limiter    multifactorauth.CodeLimit
	sealer     *sealer
}

func (c Config) settings() (settings, error) {
	var s settings
	fail := func(err error) (settings, error) { return settings{}, fmt.Errorf("%w: %w", ginauth.ErrConfig, err) }
	if len(c.SecretKey) == 0 {
		return fail(fmt.Errorf("%w (it is missing)", ErrSecretKey))
	}
	var err error
	if s.sealer, err = newSealer(c.SecretKey, c.OldSecretKeys); err != nil {
		return fail(err)
	}
	s.params = Params{Algorithm: c.Algorithm, Digits: c.Digits, Period: c.Period}.withDefaults()
	if err := s.params.validate(); err != nil {
		return fail(err)
	}
	switch {
	case c.Skew == 0:
		s.skew = DefaultSkew
	case c.Skew < 0:
		s.skew = 0
	case c.Skew > 10:
		return fail(fmt.Errorf("totp: Skew %d is above 10 steps", c.Skew))
	default:
		s.skew = c.Skew
	}
	if c.MaxFailedAttempts < 0 || c.Lockout < 0 || c.MaxDevices < 0 {
		return fail(errors.New("totp: MaxFailedAttempts, Lockout and MaxDevices must not be negative"))
	}
	s.maxDevices = c.MaxDevices
	if s.maxDevices == 0 {
		s.maxDevices = 10
	}
	s.limiter = multifactorauth.CodeLimit{Kind: RecipeID, MaxAttempts: c.MaxFailedAttempts, Lockout: c.Lockout}
	return s, nil
}

// Recipe is TOTP as a second factor: device enrolment, code checks with
// replay protection and lockout, and the FDI /totp/* routes. Create it
// with New and pass it in ginauth.Config.Recipes (with the multifactorauth
// recipe, to make TOTP a factor of the st-mfa claim).
type Recipe struct {
	cfg  Config
	s    settings
	auth *kit.Kit
	db   *gorm.DB
	mfa  *multifactorauth.Recipe
}

// New returns the recipe. The config is checked by Setup, so that a
// missing or short SecretKey makes ginauth.New fail with a clear error;
// call cfg.Validate to check it earlier.
func New(cfg Config) *Recipe { return &Recipe{cfg: cfg} }

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup checks the config, registers the routes, tables and user-deletion
// hook, and registers "totp" with the multifactorauth recipe if present.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	s, err := r.cfg.settings()
	if err != nil {
		return err
	}
	r.s = s
	r.auth = kit.From(reg)
	r.db = r.auth.DB()
	if r.cfg.Issuer == "" {
		r.cfg.Issuer = r.auth.AppInfo().AppName
	}
	if r.cfg.Issuer == "" {
		r.cfg.Issuer = "ginauth"
	}
	reg.RequireTables(models.TOTPTables()...)
	for _, rt := range []ginauth.Route{
		// Sensitive: each changes the user's factors or completes one, so
		// a revoked session is refused at once (see ginauth.Route).
		{Method: "POST", Path: "/totp/device", Handler: r.handleCreateDevice, Sensitive: true},
		{Method: "GET", Path: "/totp/device/list", Handler: r.handleListDevices},
		{Method: "POST", Path: "/totp/device/remove", Handler: r.handleRemoveDevice, Sensitive: true},
		{Method: "POST", Path: "/totp/device/verify", Handler: r.handleVerifyDevice, Sensitive: true},
		{Method: "POST", Path: "/totp/verify", Handler: r.handleVerify, Sensitive: true},
	} {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.TOTPDevice{}).Error; err != nil {
			return ginauth.DBError(err)
		}
		// A deleted user's lockout counters are left to expire: user ids
		// are never reused.
		return nil
	})
	if m, ok := multifactorauth.FromAuth(r.auth.Auth); ok {
		r.mfa = m
		if err := m.RegisterFactor(FactorID, r.HasVerifiedDevice); err != nil {
			return err
		}
	}
	return nil
}

// Device describes an enrolled device (never its secret).
type Device struct {
	Name      string    `json:"name"`
	Period    int       `json:"period"`
	Skew      int       `json:"skew"`
	Digits    int       `json:"-"`
	Algorithm Algorithm `json:"-"`
	Verified  bool      `json:"verified"`
	CreatedAt time.Time `json:"-"`
}

// NewDevice is a device just created: the secret is shown to the user once
// (as text and as the otpauth:// URI a QR code encodes) and never again.
type NewDevice struct {
	Name string
	// Secret is the base32 secret.
	Secret string
	// QRCodeString is the otpauth://totp/... URI.
	QRCodeString string
}

// String redacts the secret.
func (d NewDevice) String() string {
	return fmt.Sprintf("totp.NewDevice{Name: %q, Secret: [REDACTED]}", d.Name)
}

// GoString redacts the secret.
func (d NewDevice) GoString() string { return d.String() }

// LogValue redacts the secret.
func (d NewDevice) LogValue() slog.Value { return slog.StringValue(d.String()) }

// CreateDevice enrols a new, unverified device for a user, as the
// SuperTokens core does: a name held by an unverified device replaces that
// device (a new secret; an authenticator screen shown again enrols again),
// a name held by a verified device fails with ErrDeviceExists, and an
// empty name becomes "TOTP Device <n>", n counting from the number of
// verified devices to the first name no verified device holds. It also
// fails with ErrTooManyDevices (inside a 4xx *ginauth.Error) once the user
// holds Config.MaxDevices devices.
func (r *Recipe) CreateDevice(ctx context.Context, userID, name string) (*NewDevice, error) {
	return r.createDevice(ctx, nil, userID, name)
}

// createDevice is CreateDevice; a non-nil s is the session of the request,
// confirmed live in the transaction that writes the device.
func (r *Recipe) createDevice(ctx context.Context, s *ginauth.Session, userID, name string) (*NewDevice, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, ginauth.BadRequest("the user id is empty")
	}
	if len(name) > maxNameLen {
		return nil, ginauth.BadRequest("deviceName is longer than %d bytes", maxNameLen)
	}
	// Looked up before the transaction, so that a failure here writes
	// nothing.
	ident, err := r.userIdentifier(ctx, userID)
	if err != nil {
		return nil, err
	}
	secret := NewSecret()
	p := r.s.params
	err = r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return err
			}
		}
		var devices []models.TOTPDevice
		if err := tx.Select("name", "verified").Where("user_id = ?", userID).Find(&devices).Error; err != nil {
			return ginauth.DBError(err)
		}
		verified := map[string]bool{}
		nVerified := 0
		for _, d := range devices {
			verified[d.Name] = d.Verified
			if d.Verified {
				nVerified++
			}
		}
		if name == "" {
			// Mirrors the core's Totp.createDevice: start from the number
			// of verified devices, step past names verified devices hold.
			for n := nVerified; ; n++ {
				name = "TOTP Device " + strconv.Itoa(n)
				if !verified[name] {
					break
				}
			}
		}
		isVerified, exists := verified[name]
		if isVerified {
			return ErrDeviceExists
		}
		if !exists && len(devices) >= r.s.maxDevices {
			return ginauth.ErrorWithMessage(ginauth.ErrBadRequest,
				fmt.Sprintf("a user may hold at most %d TOTP devices; remove one first", r.s.maxDevices), ErrTooManyDevices)
		}
		row := models.TOTPDevice{UserID: userID, Name: name, SealedSecret: r.s.sealer.seal(secret, deviceAAD(userID, name)),
			Algorithm: string(p.Algorithm), Digits: p.Digits, Period: p.Period, Skew: r.s.skew, CreatedAt: r.auth.Now()}
		// An unverified device of that name is replaced; one verified in
		// the meantime is left alone (no row affected).
		res := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "user_id"}, {Name: "name"}},
			DoUpdates: clause.Assignments(map[string]any{"sealed_secret": row.SealedSecret, "algorithm": row.Algorithm,
				"digits": row.Digits, "period": row.Period, "skew": row.Skew, "last_used_step": 0, "created_at": row.CreatedAt}),
			Where: clause.Where{Exprs: []clause.Expression{clause.Eq{Column: clause.Column{Table: models.TableTOTPDevices, Name: "verified"}, Value: false}}},
		}).Create(&row)
		if res.Error != nil {
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrDeviceExists
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	enc := EncodeSecret(secret)
	return &NewDevice{Name: name, Secret: enc, QRCodeString: URI(r.cfg.Issuer, ident, enc, p)}, nil
}

// URI returns the otpauth://totp/ URI (Google Authenticator's Key Uri
// Format) that authenticator apps scan as a QR code.
func URI(issuer, account, secret string, p Params) string {
	p = p.withDefaults()
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("digits", strconv.Itoa(p.Digits))
	q.Set("period", strconv.Itoa(p.Period))
	q.Set("algorithm", string(p.Algorithm))
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	// Encode keeps the keys sorted; apps read any order.
	return "otpauth://totp/" + label + "?" + q.Encode()
}

func (r *Recipe) userIdentifier(ctx context.Context, userID string) (string, error) {
	if fn := r.cfg.UserIdentifier; fn != nil {
		return fn(ctx, userID)
	}
	u, err := r.auth.GetUser(ctx, userID)
	if errors.Is(err, ginauth.ErrNotFound) {
		return userID, nil
	}
	if err != nil {
		return "", err
	}
	switch {
	case len(u.Emails) > 0:
		return u.Emails[0], nil
	case len(u.PhoneNumbers) > 0:
		return u.PhoneNumbers[0], nil
	}
	return userID, nil
}

// ListDevices returns a user's devices, oldest first.
func (r *Recipe) ListDevices(ctx context.Context, userID string) ([]Device, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	var rows []models.TOTPDevice
	if err := r.db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Order("created_at, name").Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	out := make([]Device, len(rows))
	for i, d := range rows {
		out[i] = Device{Name: d.Name, Period: d.Period, Skew: d.Skew, Digits: d.Digits, Algorithm: Algorithm(d.Algorithm),
			Verified: d.Verified, CreatedAt: d.CreatedAt}
	}
	return out, nil
}

// RemoveDevice deletes a user's device and reports whether it existed.
func (r *Recipe) RemoveDevice(ctx context.Context, userID, name string) (bool, error) {
	return r.removeDevice(ctx, nil, userID, name, false)
}

// errVerifiedMeanwhile: removeDevice was asked to remove an unverified
// device, and the device is verified by now.
var errVerifiedMeanwhile = errors.New("totp: the device was verified meanwhile")

// removeDevice is RemoveDevice; a non-nil s is the session of the request,
// confirmed live in the transaction that deletes the device. With
// unverifiedOnly a verified device is left alone (errVerifiedMeanwhile).
func (r *Recipe) removeDevice(ctx context.Context, s *ginauth.Session, userID, name string, unverifiedOnly bool) (bool, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return false, err
	}
	var existed bool
	err := r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return err
			}
		}
		q := tx.Where("user_id = ? AND name = ?", userID, name)
		if unverifiedOnly {
			verified, _, err := r.deviceState(ctx, tx, userID, name)
			if err != nil {
				return err
			}
			if verified {
				return errVerifiedMeanwhile
			}
		}
		res := q.Delete(&models.TOTPDevice{})
		existed = res.RowsAffected > 0
		return ginauth.DBError(res.Error)
	})
	return existed, err
}

// HasVerifiedDevice reports whether a user has set TOTP up (holds a
// verified device). It is the factor's set-up check for multifactorauth.
func (r *Recipe) HasVerifiedDevice(ctx context.Context, userID string) (bool, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return false, err
	}
	var n int64
	err := r.db.WithContext(kit.DBContext(ctx)).Model(&models.TOTPDevice{}).Where("user_id = ? AND verified = ?", userID, true).Limit(1).Count(&n).Error
	return n > 0, ginauth.DBError(err)
}

// check tests code against one device and, when it matches a step later
// than the last one used, records that step (so the code works once) and
// marks the device verified.
func (r *Recipe) check(tx *gorm.DB, d *models.TOTPDevice, code string) (bool, error) {
	secret, err := r.s.sealer.open(d.SealedSecret, deviceAAD(d.UserID, d.Name))
	if err != nil {
		return false, ginauth.NewError(ginauth.ErrInternal, err)
	}
	p := Params{Algorithm: Algorithm(d.Algorithm), Digits: d.Digits, Period: d.Period}
	step, ok := match(secret, code, r.auth.Now(), p, d.Skew, d.LastUsedStep)
	if !ok {
		return false, nil
	}
	res := tx.Model(&models.TOTPDevice{}).Where("user_id = ? AND name = ? AND last_used_step < ?", d.UserID, d.Name, step).
		Updates(map[string]any{"last_used_step": step, "verified": true})
	if res.Error != nil {
		return false, ginauth.DBError(res.Error)
	}
	return res.RowsAffected == 1, nil
}

// VerifyDevice checks a code from a new device and marks the device
// verified. A device verified already is answered as the SuperTokens core
// does (Totp.verifyDevice): wasAlreadyVerified true, without checking the
// code. Otherwise it returns ErrUnknownDevice, a
// *multifactorauth.InvalidCodeError (wrong or reused code, with the
// failure count) or a *multifactorauth.LimitReachedError.
func (r *Recipe) VerifyDevice(ctx context.Context, userID, name, code string) (wasAlreadyVerified bool, err error) {
	return r.verifyDevice(ctx, nil, userID, name, code, nil)
}

// verifyDevice is VerifyDevice; a non-nil s is the session of the request,
// confirmed live in the transaction that checks the code, and a non-nil
// onOK runs in that transaction once the code was accepted.
func (r *Recipe) verifyDevice(ctx context.Context, s *ginauth.Session, userID, name, code string, onOK func(*gorm.DB) error) (wasAlreadyVerified bool, err error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return false, err
	}
	verified, exists, err := r.deviceState(ctx, r.db, userID, name)
	if err != nil {
		return false, err
	}
	if !exists {
		return false, ErrUnknownDevice
	}
	if verified {
		return true, nil
	}
	err = r.s.limiter.Attempt(ctx, r.auth, tenantOf(s), userID, r.inTx(ctx, func(tx *gorm.DB) (bool, error) {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return false, err
			}
		}
		var d models.TOTPDevice
		err := tx.Where("user_id = ? AND name = ?", userID, name).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, ErrUnknownDevice // removed in the meantime
		}
		if err != nil {
			return false, ginauth.DBError(err)
		}
		ok, err := r.check(tx, &d, code)
		if ok && onOK != nil {
			err = onOK(tx)
		}
		return ok && err == nil, err
	}))
	return false, err
}

// deviceState reports whether a user's device exists and is verified.
func (r *Recipe) deviceState(ctx context.Context, db *gorm.DB, userID, name string) (verified, exists bool, err error) {
	var rows []models.TOTPDevice
	if err := db.WithContext(kit.DBContext(ctx)).Select("verified").Where("user_id = ? AND name = ?", userID, name).
		Limit(1).Find(&rows).Error; err != nil {
		return false, false, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return false, false, nil
	}
	return rows[0].Verified, true, nil
}

// VerifyCode checks a code against the user's verified devices. It returns
// the name of the device that matched, or ErrNoDevice, a
// *multifactorauth.InvalidCodeError or a *multifactorauth.LimitReachedError.
func (r *Recipe) VerifyCode(ctx context.Context, userID, code string) (string, error) {
	return r.verifyCode(ctx, nil, userID, code, nil)
}

// verifyCode is VerifyCode; a non-nil s is the session of the request,
// confirmed live in the transaction that checks the code, and a non-nil
// onOK runs in that transaction once the code was accepted.
func (r *Recipe) verifyCode(ctx context.Context, s *ginauth.Session, userID, code string, onOK func(*gorm.DB) error) (string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return "", err
	}
	var matched string
	err := r.s.limiter.Attempt(ctx, r.auth, tenantOf(s), userID, r.inTx(ctx, func(tx *gorm.DB) (bool, error) {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return false, err
			}
		}
		var devices []models.TOTPDevice
		if err := tx.Where("user_id = ? AND verified = ?", userID, true).Order("created_at, name").Find(&devices).Error; err != nil {
			return false, ginauth.DBError(err)
		}
		if len(devices) == 0 {
			return false, ErrNoDevice
		}
		for i := range devices {
			ok, err := r.check(tx, &devices[i], code)
			if err != nil {
				return false, err
			}
			if ok {
				matched = devices[i].Name
				if onOK != nil {
					if err := onOK(tx); err != nil {
						return false, err
					}
				}
				return true, nil
			}
		}
		return false, nil
	}))
	return matched, err
}

// inTx runs check in one transaction, for CodeLimit.Attempt: a right code
// commits the changes check made (the step marked used, a device
// verified); an error rolls them back.
func (r *Recipe) inTx(ctx context.Context, check func(tx *gorm.DB) (bool, error)) func() (bool, error) {
	return func() (bool, error) {
		var ok bool
		err := r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
			var err error
			ok, err = check(tx)
			return err
		})
		if err != nil {
			return false, ginauth.DBError(err)
		}
		return ok, nil
	}
}

// tenantOf is the tenant a code entry counts in: the session's, and the
// default tenant for the Go API (which has no session).
func tenantOf(s *ginauth.Session) string {
	if s == nil {
		return ginauth.DefaultTenant
	}
	return s.TenantID()
}

// ResetAttempts clears a user's failed TOTP attempts and lockout in
// tenantID ("" is the default tenant).
func (r *Recipe) ResetAttempts(ctx context.Context, tenantID, userID string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	return r.s.limiter.Reset(ctx, r.auth, tenantID, userID)
}

// trimName normalises a device name from a request.
func trimName(s string) string { return strings.TrimSpace(s) }
