package webauthn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	wa "github.com/go-webauthn/webauthn/webauthn"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
)

// RecipeID is the recipe id the frontend SDKs send in the rid header, and
// the recipeId of the login methods this recipe holds.
const RecipeID = "webauthn"

// FactorID is the multi-factor auth factor a passkey completes.
const FactorID = multifactorauth.FactorWebAuthn

// Defaults.
const (
	// DefaultOptionsTimeout is how long generated options (and their
	// challenge) can be used, as SuperTokens' 60 seconds.
	DefaultOptionsTimeout = time.Minute
	// DefaultRecoverTokenLifetime is how long a recovery link works.
	DefaultRecoverTokenLifetime = time.Hour
	// DefaultMaxBodyBytes caps request bodies: attestation objects are a
	// few kilobytes.
	DefaultMaxBodyBytes = 64 << 10
)

// UserVerification is the WebAuthn user-verification requirement.
type UserVerification string

// User-verification requirements, as WebAuthn names them.
const (
	UVRequired    UserVerification = "required"
	UVPreferred   UserVerification = "preferred"
	UVDiscouraged UserVerification = "discouraged"
)

// Errors of the Go API.
var (
	// ErrNotSetUp: the recipe is used before ginauth.New set it up.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
	// ErrEmailExists: the tenant has a passkey account with this e-mail.
	ErrEmailExists = errors.New("webauthn: an account with this e-mail exists")
	// ErrOptionsNotFound: the generated options are unknown or used.
	ErrOptionsNotFound = errors.New("webauthn: options not found")
	// ErrInvalidOptions: the generated options expired or are of another
	// kind or tenant.
	ErrInvalidOptions = errors.New("webauthn: invalid options")
	// ErrInvalidCredential: the browser's credential failed verification.
	ErrInvalidCredential = errors.New("webauthn: invalid credential")
	// ErrCloned: the authenticator's signature counter did not increase,
	// the mark of a cloned authenticator.
	ErrCloned = errors.New("webauthn: signature counter did not increase (cloned authenticator?)")
	// ErrCredentialNotFound: no such credential (for this user).
	ErrCredentialNotFound = errors.New("webauthn: credential not found")
	// ErrRecoverTokenInvalid: the recovery token is unknown, used or
	// expired.
	ErrRecoverTokenInvalid = errors.New("webauthn: recover account token invalid")
)

// RelyingParty is who passkeys are made for: the relying party id (a
// registrable domain, "example.com"), its display name, and the web
// origins allowed to run the ceremonies.
type RelyingParty struct {
	ID      string
	Name    string
	Origins []string
}

// Config configures the recipe. The zero value is usable: the relying
// party comes from AppInfo, user verification is required, options live
// 60 seconds and recovery links one hour (mailed through the log until an
// EmailSender is set).
type Config struct {
	// RelyingParty returns the relying party for a request. Default: the
	// id is AppInfo.WebsiteDomain's host, the name AppInfo.AppName and
	// the only origin AppInfo.WebsiteDomain.
	RelyingParty func(c *gin.Context) (RelyingParty, error)
	// UserVerification asked of authenticators at registration and
	// sign-in. Default UVRequired: a passkey must be unlocked with a PIN
	// or biometric, so that it is a factor of its own (SuperTokens
	// defaults to "preferred").
	UserVerification UserVerification
	// OptionsTimeout is how long generated options work. Default 60 s.
	OptionsTimeout time.Duration
	// RecoverTokenLifetime is how long a recovery link works. Default 1 h.
	RecoverTokenLifetime time.Duration
	// ValidateEmail checks a normalised e-mail address, returning "" or
	// the message to show. Default: a plain address check.
	ValidateEmail func(ctx context.Context, email, tenantID string) string
	// EmailSender delivers recovery e-mails. Default
	// emaildelivery.LogSender (development only).
	EmailSender emaildelivery.Sender
	// MaxBodyBytes caps request bodies. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// OverrideGlobalClaimValidators chooses the validators run on the
	// credential routes. Default none, as SuperTokens.
	OverrideGlobalClaimValidators func(global []claims.Validator, c *gin.Context) []claims.Validator
}

// Recipe is the WebAuthn (passkeys) recipe: sign-up and sign-in with a
// passkey, passkeys as a second factor, account recovery by e-mail and
// credential management. Build it with New and pass it to ginauth.New.
type Recipe struct {
	cfg    Config
	auth   *kit.Kit
	db     *gorm.DB
	mfa    *multifactorauth.Recipe
	sender emaildelivery.Sender

	mailWG    sync.WaitGroup
	sweepMu   sync.Mutex
	lastSweep time.Time
}

// New returns the recipe with cfg. Errors in cfg are reported by
// ginauth.New, which calls Setup.
func New(cfg Config) *Recipe { return &Recipe{cfg: cfg} }

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// FactorIDs returns the factor ids the recipe offers ("webauthn").
func (r *Recipe) FactorIDs() []string { return []string{FactorID} }

// Setup checks the config and registers the tables, routes, login methods
// and deletion hooks; with multifactorauth, it registers the factor.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	cfg := &r.cfg
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: webauthn: %s", ginauth.ErrConfig, fmt.Sprintf(format, args...))
	}
	switch cfg.UserVerification {
	case "":
		cfg.UserVerification = UVRequired
	case UVRequired, UVPreferred, UVDiscouraged:
	default:
		return fail("UserVerification %q is not required, preferred or discouraged", cfg.UserVerification)
	}
	if cfg.OptionsTimeout < 0 || cfg.RecoverTokenLifetime < 0 || cfg.MaxBodyBytes < 0 {
		return fail("OptionsTimeout, RecoverTokenLifetime and MaxBodyBytes must not be negative")
	}
	if cfg.OptionsTimeout == 0 {
		cfg.OptionsTimeout = DefaultOptionsTimeout
	}
	if cfg.RecoverTokenLifetime == 0 {
		cfg.RecoverTokenLifetime = DefaultRecoverTokenLifetime
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ValidateEmail == nil {
		cfg.ValidateEmail = DefaultValidateEmail
	}
	a := kit.From(reg)
	r.sender = cfg.EmailSender
	if r.sender == nil {
		r.sender = emaildelivery.LogSender(a.Logger())
	}
	if cfg.RelyingParty == nil {
		if _, err := defaultRelyingParty(a.AppInfo()); err != nil {
			return fail("%v", err)
		}
	}
	reg.RequireTables(models.WebAuthnTables()...)
	for _, rt := range []ginauth.Route{
		{Method: http.MethodPost, Path: "/webauthn/options/register", Handler: r.handleRegisterOptions},
		{Method: http.MethodPost, Path: "/webauthn/options/signin", Handler: r.handleSignInOptions},
		{Method: http.MethodPost, Path: "/webauthn/signup", Handler: r.handleSignUp},
		{Method: http.MethodPost, Path: "/webauthn/signin", Handler: r.handleSignIn},
		{Method: http.MethodGet, Path: "/webauthn/email/exists", Handler: r.handleEmailExists},
		{Method: http.MethodPost, Path: "/user/webauthn/reset/token", Handler: r.handleRecoverToken},
		{Method: http.MethodPost, Path: "/user/webauthn/reset", Handler: r.handleRecover},
		{Method: http.MethodGet, Path: "/webauthn/credential/list", Handler: r.handleListCredentials},
		// Sensitive: each changes the user's passkeys.
		{Method: http.MethodPost, Path: "/webauthn/credential", Handler: r.handleRegisterCredential, Sensitive: true},
		{Method: http.MethodPost, Path: "/webauthn/credential/remove", Handler: r.handleRemoveCredential, Sensitive: true},
	} {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.AddLoginMethods(r.loginMethods)
	reg.AddEmailLookup(kit.EmailLookup(&models.WebAuthnUser{}))
	reg.OnUserDelete(r.deleteUser)
	reg.OnTenantDelete(kit.DeleteByTenant(&models.WebAuthnCredential{}, &models.WebAuthnUser{},
		&models.WebAuthnOptions{}, &models.WebAuthnRecoverToken{}))
	r.auth = a
	r.db = a.DB()
	if m, ok := multifactorauth.FromAuth(a.Auth); ok {
		r.mfa = m
		if err := m.RegisterFactor(FactorID, r.HasCredential); err != nil {
			return err
		}
	}
	return nil
}

func (r *Recipe) ready() error { return r.auth.Ready(ErrNotSetUp) }

// Close waits for recovery e-mails being sent in the background.
func (r *Recipe) Close() { r.mailWG.Wait() }

// defaultRelyingParty derives the relying party from AppInfo.
func defaultRelyingParty(info ginauth.AppInfo) (RelyingParty, error) {
	u, err := url.Parse(info.WebsiteDomain)
	if err != nil || u.Hostname() == "" {
		return RelyingParty{}, fmt.Errorf("AppInfo.WebsiteDomain %q has no host to be the relying party id (or set Config.RelyingParty)", info.WebsiteDomain)
	}
	name := info.AppName
	if name == "" {
		name = u.Hostname()
	}
	return RelyingParty{ID: u.Hostname(), Name: name, Origins: []string{u.Scheme + "://" + u.Host}}, nil
}

// relyingParty is the one place a request's relying party and origins are
// decided (a per-request website origin plugs in here).
func (r *Recipe) relyingParty(c *gin.Context) (*wa.WebAuthn, RelyingParty, error) {
	var rp RelyingParty
	var err error
	if r.cfg.RelyingParty != nil {
		rp, err = r.cfg.RelyingParty(c)
	} else {
		rp, err = defaultRelyingParty(r.auth.AppInfo())
	}
	if err != nil {
		return nil, rp, ginauth.NewError(ginauth.ErrInternal, err)
	}
	w, err := wa.New(&wa.Config{RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: rp.Origins})
	if err != nil {
		return nil, rp, ginauth.NewError(ginauth.ErrInternal, err)
	}
	return w, rp, nil
}

// HasCredential reports whether a user holds a passkey, on its own or on a
// login method of its linked group: the factor's set-up check for
// multifactorauth. The group matters there: a session that has not
// completed the factor must not add a passkey to an account whose
// passkey sits on a linked login method.
func (r *Recipe) HasCredential(ctx context.Context, userID string) (bool, error) {
	if err := r.ready(); err != nil {
		return false, err
	}
	ids := []string{userID}
	u, err := r.auth.GetUser(ctx, userID)
	switch {
	case errors.Is(err, ginauth.ErrNotFound): // an app's own user id
	case err != nil:
		return false, err
	default:
		for _, m := range passkeyMethods(u) {
			ids = append(ids, m.RecipeUserID)
		}
	}
	var n int64
	err = r.db.WithContext(kit.DBContext(ctx)).Model(&models.WebAuthnCredential{}).Where("user_id IN ?", ids).Limit(1).Count(&n).Error
	return n > 0, ginauth.DBError(err)
}

// loginMethods returns the user's passkey login method with its
// credential ids.
func (r *Recipe) loginMethods(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
	var rows []models.WebAuthnUser
	if err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	row := rows[0]
	ids := []string{}
	if err := db.WithContext(kit.DBContext(ctx)).Model(&models.WebAuthnCredential{}).Where("user_id = ?", userID).
		Order("created_at, id_hash").Pluck("credential_id", &ids).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	return []ginauth.LoginMethod{{RecipeID: RecipeID, RecipeUserID: row.UserID, TenantIDs: []string{row.TenantID},
		TimeJoined: row.TimeJoined.UnixMilli(), Email: row.Email, WebAuthn: &ginauth.WebAuthnInfo{CredentialIDs: ids}}}, nil
}

// deleteUser removes the user's passkeys, login method and tokens.
func (r *Recipe) deleteUser(ctx context.Context, tx *gorm.DB, userID string) error {
	tx = tx.WithContext(kit.DBContext(ctx))
	for _, m := range []any{&models.WebAuthnCredential{}, &models.WebAuthnRecoverToken{}, &models.WebAuthnUser{}} {
		if err := tx.Where("user_id = ?", userID).Delete(m).Error; err != nil {
			return ginauth.DBError(err)
		}
	}
	return nil
}
