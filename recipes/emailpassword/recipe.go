package emailpassword

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe id the frontend SDKs send in the rid header, and
// the recipeId of the login methods this recipe holds.
const RecipeID = "emailpassword"

// Config configures the recipe. The zero value is usable: SuperTokens'
// default validators, OWASP argon2id parameters, one-hour reset tokens and
// reset e-mails written to the log.
type Config struct {
	// SignUpFields are extra sign-up form fields, besides email and
	// password. A request with any other field is refused (400).
	SignUpFields []FormField
	// ValidateEmail checks a normalised e-mail address on sign-up, sign-in
	// and reset requests, returning "" or the message to show. Default
	// DefaultValidateEmail.
	ValidateEmail func(ctx context.Context, email, tenantID string) string
	// ValidatePassword checks a new password (sign-up, reset, update),
	// returning "" or the message to show. Default DefaultValidatePassword.
	// Sign-in never applies it, so that a stricter policy does not lock out
	// existing accounts.
	ValidatePassword func(ctx context.Context, password, tenantID string) string
	// BlockCommonPasswords refuses new passwords found on the embedded
	// common-password list (see IsCommonPassword), after ValidatePassword
	// passes.
	BlockCommonPasswords bool

	// Argon2 sets the hash parameters; zero fields take
	// DefaultArgon2Params (the OWASP minimum). Lower values are accepted,
	// for tests, with a warning in the log.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds how many password hashes run at once;
	// further requests wait (or give up when their context ends). Each
	// argon2id hash holds Argon2.Memory KiB while it runs. Default
	// runtime.NumCPU().
	MaxConcurrentHashes int

	// ResetTokenValidity is how long a password-reset link works. Default
	// one hour.
	ResetTokenValidity time.Duration
	// EmailSender delivers password-reset e-mails. Default:
	// emaildelivery.LogSender with the ginauth logger, which writes the
	// link to the log at Info level, for development; set a real one (for
	// example emaildelivery.NewSMTPSender) in production.
	EmailSender emaildelivery.Sender
	// EmailTemplates renders the password-reset e-mail (kind
	// emaildelivery.KindPasswordReset). Default emaildelivery.Templates{}.
	EmailTemplates emaildelivery.Renderer

	// MaxBodyBytes caps request bodies. Default DefaultMaxBodyBytes (64 KiB).
	MaxBodyBytes int64
	// DisableEmailExistsAPI stops serving GET /emailpassword/email/exists
	// (and its deprecated alias), which tells anyone whether an address
	// has an account. The pre-built UI then skips that check.
	DisableEmailExistsAPI bool

	// Hooks take part in the HTTP sign-up and sign-in flows.
	Hooks Hooks
}

// SignUpInput is what a sign-up request asked for, after validation.
type SignUpInput struct {
	// TenantID is the tenant the request was addressed to.
	TenantID string
	// Email is normalised (see NormaliseEmail).
	Email string
	// Fields holds the custom sign-up fields that were sent (see
	// Config.SignUpFields), by id. A hook may change them; the changed
	// map reaches AfterSignUp.
	Fields map[string]any
}

// SignInInput is a sign-in whose credentials were verified.
type SignInInput struct {
	// TenantID is the tenant the request was addressed to.
	TenantID string
	// Email is normalised (see NormaliseEmail).
	Email string
	// User is the user whose credentials matched.
	User *ginauth.User
}

// Hooks let an app take part in the HTTP flows. They do not run for the Go
// API (Recipe.SignUp, Recipe.SignIn, ...), which an app calls on purpose.
//
// A hook's error is answered as follows: ginauth.NotAllowed(reason) gives
// SIGN_UP_NOT_ALLOWED / SIGN_IN_NOT_ALLOWED with the reason (a 403 from
// AfterSignUp and SessionPayload, which have no such status),
// ginauth.GeneralError(message) gives GENERAL_ERROR with the message,
// anything else goes to the ginauth error handler (500 unless it is a
// *ginauth.Error).
type Hooks struct {
	// BeforeSignUp runs after the form passed validation and before the
	// account is created. Return ginauth.NotAllowed(reason) to refuse it.
	BeforeSignUp func(ctx context.Context, in *SignUpInput) error
	// BeforeSignIn runs after the credentials were verified and before the
	// session is created. Return ginauth.NotAllowed(reason) to refuse the
	// sign-in (a banned account, say). It never sees wrong credentials, so
	// it cannot leak which e-mails have accounts.
	BeforeSignIn func(ctx context.Context, in *SignInInput) error
	// AfterSignUp runs once the account exists, before the session is
	// created, with the custom field values (to store a display name, say).
	// The account stays created if it fails.
	AfterSignUp func(ctx context.Context, user *ginauth.User, fields map[string]any) error
	// SessionPayload returns keys (claims, app data) to add to the
	// access-token payload of the session a sign-up or sign-in creates.
	SessionPayload func(ctx context.Context, user *ginauth.User) (claims.Payload, error)
}

// Recipe is the e-mail and password recipe. Build it with New and pass it
// to ginauth.New in Config.Recipes; its Go API works once that returned.
type Recipe struct {
	cfg    Config
	auth   *kit.Kit
	hasher *hasher
	sender emaildelivery.Sender

	signUpAllowed map[string]bool
	signInAllowed map[string]bool
	emailAllowed  map[string]bool
	resetAllowed  map[string]bool

	// mailWG tracks password-reset requests being handled in the
	// background (see Wait).
	mailWG sync.WaitGroup
}

// Wait blocks until the password-reset requests being handled in the
// background (token and e-mail) are done. (*ginauth.Auth).Close waits for
// them too (and for every other recipe's background work): prefer it on
// graceful shutdown.
func (r *Recipe) Wait() { r.mailWG.Wait() }

// New returns the recipe with cfg. Errors in cfg are reported by
// ginauth.New, which calls Setup.
func New(cfg Config) *Recipe {
	return &Recipe{cfg: cfg}
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the recipe's tables, routes, login methods and user
// deletion with ginauth. ginauth.New calls it. A Recipe serves one Auth:
// build one with New for each ginauth.Auth.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	cfg := &r.cfg
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: emailpassword: %s", ginauth.ErrConfig, fmt.Sprintf(format, args...))
	}
	cfg.Argon2 = cfg.Argon2.withDefaults()
	if err := cfg.Argon2.validate(); err != nil {
		return fail("%v", err)
	}
	if cfg.MaxConcurrentHashes < 0 {
		return fail("MaxConcurrentHashes must not be negative")
	}
	if cfg.MaxConcurrentHashes == 0 {
		cfg.MaxConcurrentHashes = runtime.NumCPU()
	}
	if cfg.ResetTokenValidity < 0 {
		return fail("ResetTokenValidity must not be negative")
	}
	if cfg.ResetTokenValidity == 0 {
		cfg.ResetTokenValidity = time.Hour
	}
	if cfg.MaxBodyBytes < 0 {
		return fail("MaxBodyBytes must not be negative")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ValidateEmail == nil {
		cfg.ValidateEmail = DefaultValidateEmail
	}
	if cfg.ValidatePassword == nil {
		cfg.ValidatePassword = DefaultValidatePassword
	}
	r.signUpAllowed = map[string]bool{FieldEmail: true, FieldPassword: true}
	for i, f := range cfg.SignUpFields {
		switch {
		case f.ID == "":
			return fail("SignUpFields[%d] has no ID", i)
		case f.ID == FieldEmail || f.ID == FieldPassword:
			return fail("SignUpFields[%d]: %q is built in; use Config.ValidateEmail / ValidatePassword", i, f.ID)
		case r.signUpAllowed[f.ID]:
			return fail("SignUpFields has %q twice", f.ID)
		}
		r.signUpAllowed[f.ID] = true
	}
	r.signInAllowed = map[string]bool{FieldEmail: true, FieldPassword: true}
	r.emailAllowed = map[string]bool{FieldEmail: true}
	r.resetAllowed = map[string]bool{FieldPassword: true}

	a := kit.From(reg)
	r.sender = cfg.EmailSender
	if r.sender == nil {
		r.sender = emaildelivery.LogSender(a.Logger())
	}
	if cfg.Argon2.belowOWASP() {
		a.Logger().Warn("emailpassword: argon2id parameters are below the OWASP minimum (m=19456 KiB, t=2); use them for tests only",
			"memory_kib", cfg.Argon2.Memory, "iterations", cfg.Argon2.Iterations)
	}
	r.hasher = newHasher(cfg.Argon2, cfg.MaxConcurrentHashes)

	reg.RequireTables(models.EmailPasswordTables()...)
	routes := []ginauth.Route{
		{Method: http.MethodPost, Path: "/signup", Handler: r.handleSignUp},
		{Method: http.MethodPost, Path: "/signin", Handler: r.handleSignIn},
		{Method: http.MethodPost, Path: "/user/password/reset/token", Handler: r.handleResetToken},
		{Method: http.MethodPost, Path: "/user/password/reset", Handler: r.handleReset},
	}
	if !cfg.DisableEmailExistsAPI {
		routes = append(routes,
			ginauth.Route{Method: http.MethodGet, Path: "/emailpassword/email/exists", Handler: r.handleEmailExists},
			ginauth.Route{Method: http.MethodGet, Path: "/signup/email/exists", Handler: r.handleEmailExists, Shared: true})
	}
	for _, rt := range routes {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.AddLoginMethods(r.loginMethods)
	reg.AddEmailLookup(kit.EmailLookup(&models.EmailPasswordUser{}))
	reg.OnUserDelete(r.deleteUser)
	reg.OnTenantDelete(kit.DeleteByTenant(&models.PasswordResetToken{}, &models.EmailPasswordUser{}))
	r.auth = a
	return nil
}

// loginMethods returns the user's e-mail and password login method.
func (r *Recipe) loginMethods(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
	var row models.EmailPasswordUser
	err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return []ginauth.LoginMethod{{RecipeID: RecipeID, RecipeUserID: row.UserID, TenantIDs: []string{row.TenantID},
		TimeJoined: row.TimeJoined.UnixMilli(), Email: row.Email}}, nil
}

// deleteUser removes the user's account row and reset tokens inside the
// transaction that deletes the user.
func (r *Recipe) deleteUser(ctx context.Context, tx *gorm.DB, userID string) error {
	if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.PasswordResetToken{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.EmailPasswordUser{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	return nil
}
