package passwordless

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"text/template"
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
const RecipeID = "passwordless"

// Factor ids of the sessions this recipe creates (NewSession.Factor), as
// SuperTokens' multi-factor auth names them.
const (
	FactorOTPEmail  = "otp-email"
	FactorLinkEmail = "link-email"
	FactorOTPPhone  = "otp-phone"
	FactorLinkPhone = "link-phone"
)

// ContactMethod says where codes may be sent.
type ContactMethod string

// Contact methods, as the frontend SDKs name them.
const (
	ContactEmail        ContactMethod = "EMAIL"
	ContactPhone        ContactMethod = "PHONE"
	ContactEmailOrPhone ContactMethod = "EMAIL_OR_PHONE"
)

func (m ContactMethod) allowsEmail() bool { return m == ContactEmail || m == ContactEmailOrPhone }
func (m ContactMethod) allowsPhone() bool { return m == ContactPhone || m == ContactEmailOrPhone }

// FlowType says what a code message carries: a code to type in, a magic
// link, or both.
type FlowType string

// Flow types, as the frontend SDKs name them.
const (
	FlowUserInputCode             FlowType = "USER_INPUT_CODE"
	FlowMagicLink                 FlowType = "MAGIC_LINK"
	FlowUserInputCodeAndMagicLink FlowType = "USER_INPUT_CODE_AND_MAGIC_LINK"
)

func (f FlowType) sendsCode() bool {
	return f == FlowUserInputCode || f == FlowUserInputCodeAndMagicLink
}
func (f FlowType) sendsLink() bool { return f == FlowMagicLink || f == FlowUserInputCodeAndMagicLink }

// Defaults.
const (
	DefaultCodeLifetime         = 15 * time.Minute
	DefaultMaxCodeInputAttempts = 5
	DefaultCodeDigits           = 6
	// DefaultMaxBodyBytes caps request bodies; the FDI bodies are tiny.
	DefaultMaxBodyBytes = 16 << 10
)

// Config configures the recipe. The zero value is usable: e-mail contacts,
// codes and magic links, 6-digit codes valid for 15 minutes, 5 attempts per
// device, and messages written to the log (for development).
type Config struct {
	// ContactMethod is where codes may be sent. Default ContactEmail.
	ContactMethod ContactMethod
	// FlowType is what each message carries. Default
	// FlowUserInputCodeAndMagicLink. Both kinds of code are made and
	// accepted whatever the flow type; it decides only what is sent.
	FlowType FlowType

	// EmailSender delivers code e-mails. Default: the e-mail's recipient,
	// code and link are written to the ginauth logger at Info level, for
	// development. Set a real sender (emaildelivery.NewSMTPSender) in
	// production.
	EmailSender emaildelivery.Sender
	// EmailTemplate overrides the code e-mail; nil parts keep the default.
	// Its templates run with MessageData, so they may use {{.Code}},
	// {{.Link}}, {{.Email}}, {{.AppName}} and {{.ExpiresInText}} ({{.Code}}
	// or {{.Link}} is empty when the flow type does not send it).
	EmailTemplate *emaildelivery.Template
	// SMSSender delivers code text messages. Default: logged, like e-mail.
	SMSSender SMSSender
	// SMSTemplate is the text/template source of the SMS body, run with
	// MessageData. Default DefaultSMSTemplate.
	SMSTemplate string

	// CodeLifetime is how long a code (and link) works. Default 15 minutes.
	CodeLifetime time.Duration
	// MaxCodeInputAttempts is how many wrong codes a device may have; the
	// last one ends the device (RESTART_FLOW_ERROR). Default 5.
	MaxCodeInputAttempts int
	// CodeDigits is the length of user input codes, 6 to 12 digits.
	// Default 6.
	CodeDigits int

	// ValidateEmail checks a normalised e-mail address, returning "" or the
	// message to show. Default DefaultValidateEmail.
	ValidateEmail func(ctx context.Context, email, tenantID string) string
	// ValidatePhoneNumber checks a normalised phone number, returning ""
	// or the message to show. Default DefaultValidatePhoneNumber (E.164).
	ValidatePhoneNumber func(ctx context.Context, phoneNumber, tenantID string) string

	// MaxBodyBytes caps request bodies. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// DisableExistsAPIs stops serving GET /passwordless/email/exists and
	// /passwordless/phonenumber/exists (and their aliases), which tell
	// anyone whether an address or number has an account.
	DisableExistsAPIs bool

	// Hooks take part in the HTTP flows.
	Hooks Hooks
}

// SignInUpInput is what Hooks.BeforeSignInUp sees.
type SignInUpInput struct {
	// TenantID is the tenant the request was addressed to.
	TenantID string
	// Contact is the normalised e-mail address or phone number.
	Contact Contact
	// User is the existing passwordless user with this contact, or nil
	// when the sign-in would create one.
	User *ginauth.User
	// CodeVerified is false when the hook runs before a code is sent (the
	// request only claims the contact) and true when it runs after a code
	// was consumed (the contact is proven). Decisions that need proof
	// belong to the second call.
	CodeVerified bool
}

// Hooks let an app take part in the HTTP flows. They do not run for the Go
// API, which an app calls on purpose, and never inside a transaction.
//
// A hook's error is answered as follows: ginauth.NotAllowed(reason) gives
// SIGN_IN_UP_NOT_ALLOWED with the reason, ginauth.GeneralError(message)
// gives GENERAL_ERROR with the message, anything else goes to the ginauth
// error handler (500 unless it is a *ginauth.Error).
type Hooks struct {
	// BeforeSignInUp runs twice: before a code is sent (on
	// POST /signinup/code; CodeVerified false) and after a code was
	// consumed, before the user is created and the session starts
	// (CodeVerified true). ginauth.NotAllowed(reason) refuses. A refusal
	// after consumption leaves the code used.
	BeforeSignInUp func(ctx context.Context, in *SignInUpInput) error
	// AfterSignInUp runs once the user exists, before the session is
	// created; created says whether the sign-in made the user.
	AfterSignInUp func(ctx context.Context, user *ginauth.User, created bool) error
	// SessionPayload returns keys (claims, app data) to add to the
	// access-token payload of the session a sign-in creates.
	SessionPayload func(ctx context.Context, user *ginauth.User) (claims.Payload, error)
}

// Recipe is the passwordless recipe. Build it with New and pass it to
// ginauth.New in Config.Recipes; its Go API works once that returned.
type Recipe struct {
	cfg       Config
	auth      *kit.Kit
	emailTmpl *emaildelivery.Template
	smsTmpl   *template.Template

	lastSweep atomic.Int64 // unix nanoseconds of the last opportunistic sweep
	sweepMu   sync.Mutex
}

// New returns the recipe with cfg. Errors in cfg are reported by
// ginauth.New, which calls Setup.
func New(cfg Config) *Recipe { return &Recipe{cfg: cfg} }

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Config returns the configuration in use, with defaults filled in once
// the recipe is set up.
func (r *Recipe) Config() Config { return r.cfg }

// FactorIDs returns the multi-factor auth factor ids this recipe's
// configuration offers ("otp-email", "link-phone", ...).
func (r *Recipe) FactorIDs() []string {
	cm, ft := r.cfg.ContactMethod, r.cfg.FlowType
	if cm == "" {
		cm = ContactEmail
	}
	if ft == "" {
		ft = FlowUserInputCodeAndMagicLink
	}
	var ids []string
	if cm.allowsEmail() && ft.sendsCode() {
		ids = append(ids, FactorOTPEmail)
	}
	if cm.allowsEmail() && ft.sendsLink() {
		ids = append(ids, FactorLinkEmail)
	}
	if cm.allowsPhone() && ft.sendsCode() {
		ids = append(ids, FactorOTPPhone)
	}
	if cm.allowsPhone() && ft.sendsLink() {
		ids = append(ids, FactorLinkPhone)
	}
	return ids
}

// Setup checks the config, fills in defaults and registers the recipe's
// tables, routes, login methods, e-mail lookup and user deletion.
// ginauth.New calls it. A Recipe serves one Auth.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	cfg := &r.cfg
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: passwordless: %s", ginauth.ErrConfig, fmt.Sprintf(format, args...))
	}
	switch cfg.ContactMethod {
	case "":
		cfg.ContactMethod = ContactEmail
	case ContactEmail, ContactPhone, ContactEmailOrPhone:
	default:
		return fail("ContactMethod %q is not EMAIL, PHONE or EMAIL_OR_PHONE", cfg.ContactMethod)
	}
	switch cfg.FlowType {
	case "":
		cfg.FlowType = FlowUserInputCodeAndMagicLink
	case FlowUserInputCode, FlowMagicLink, FlowUserInputCodeAndMagicLink:
	default:
		return fail("FlowType %q is not USER_INPUT_CODE, MAGIC_LINK or USER_INPUT_CODE_AND_MAGIC_LINK", cfg.FlowType)
	}
	switch {
	case cfg.CodeLifetime < 0:
		return fail("CodeLifetime must not be negative")
	case cfg.CodeLifetime == 0:
		cfg.CodeLifetime = DefaultCodeLifetime
	}
	switch {
	case cfg.MaxCodeInputAttempts < 0:
		return fail("MaxCodeInputAttempts must not be negative")
	case cfg.MaxCodeInputAttempts == 0:
		cfg.MaxCodeInputAttempts = DefaultMaxCodeInputAttempts
	}
	switch {
	case cfg.CodeDigits == 0:
		cfg.CodeDigits = DefaultCodeDigits
	case cfg.CodeDigits < 6 || cfg.CodeDigits > 12:
		return fail("CodeDigits must be between 6 and 12, not %d", cfg.CodeDigits)
	}
	switch {
	case cfg.MaxBodyBytes < 0:
		return fail("MaxBodyBytes must not be negative")
	case cfg.MaxBodyBytes == 0:
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ValidateEmail == nil {
		cfg.ValidateEmail = DefaultValidateEmail
	}
	if cfg.ValidatePhoneNumber == nil {
		cfg.ValidatePhoneNumber = DefaultValidatePhoneNumber
	}
	a := kit.From(reg)
	if err := r.setupTemplates(a.AppInfo().AppName); err != nil {
		return fail("%v", err)
	}
	if cfg.ContactMethod.allowsPhone() && cfg.SMSSender == nil {
		a.Logger().Warn("passwordless: no SMSSender is configured: sign-in codes for phone numbers are written to the log, for development only")
	}
	if cfg.ContactMethod.allowsEmail() && cfg.EmailSender == nil {
		a.Logger().Warn("passwordless: no EmailSender is configured: sign-in codes for e-mail addresses are written to the log, for development only")
	}

	reg.RequireTables(models.PasswordlessTables()...)
	routes := []ginauth.Route{
		{Method: http.MethodPost, Path: "/signinup/code", Handler: r.handleCreateCode},
		{Method: http.MethodPost, Path: "/signinup/code/resend", Handler: r.handleResendCode},
		{Method: http.MethodPost, Path: "/signinup/code/consume", Handler: r.handleConsumeCode},
	}
	if !cfg.DisableExistsAPIs {
		routes = append(routes,
			ginauth.Route{Method: http.MethodGet, Path: "/passwordless/email/exists", Handler: r.handleEmailExists},
			ginauth.Route{Method: http.MethodGet, Path: "/passwordless/phonenumber/exists", Handler: r.handlePhoneExists},
			ginauth.Route{Method: http.MethodGet, Path: "/signup/phonenumber/exists", Handler: r.handlePhoneExists},
			// Shared with emailpassword: the rid header picks.
			ginauth.Route{Method: http.MethodGet, Path: "/signup/email/exists", Handler: r.handleEmailExists, Shared: true})
	}
	for _, rt := range routes {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.AddLoginMethods(r.loginMethods)
	reg.AddEmailLookup(kit.EmailLookup(&models.PasswordlessUser{}))
	reg.OnUserDelete(r.deleteUser)
	reg.OnTenantDelete(func(ctx context.Context, tx *gorm.DB, tenantID string) error {
		devices := tx.Model(&models.PasswordlessDevice{}).Select("pre_auth_session_id").Where("tenant_id = ?", tenantID)
		if err := tx.WithContext(kit.DBContext(ctx)).Where("pre_auth_session_id IN (?)", devices).Delete(&models.PasswordlessCode{}).Error; err != nil {
			return ginauth.DBError(err)
		}
		return kit.DeleteByTenant(&models.PasswordlessDevice{}, &models.PasswordlessUser{})(ctx, tx, tenantID)
	})
	r.auth = a
	return nil
}

// loginMethods returns the user's passwordless login method. The contact
// it holds was proven by a code, so it is verified.
func (r *Recipe) loginMethods(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
	var row models.PasswordlessUser
	err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	m := ginauth.LoginMethod{RecipeID: RecipeID, RecipeUserID: row.UserID, TenantIDs: []string{row.TenantID},
		TimeJoined: row.TimeJoined.UnixMilli(), Verified: true}
	if row.Email != nil {
		m.Email = *row.Email
	}
	if row.PhoneNumber != nil {
		m.PhoneNumber = *row.PhoneNumber
	}
	return []ginauth.LoginMethod{m}, nil
}

// deleteUser removes the user's row and every device for its contacts
// inside the transaction that deletes the user.
func (r *Recipe) deleteUser(ctx context.Context, tx *gorm.DB, userID string) error {
	var row models.PasswordlessUser
	err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return ginauth.DBError(err)
	}
	if row.Email != nil {
		if _, err := revokeDevices(ctx, tx, row.TenantID, Contact{Email: *row.Email}); err != nil {
			return err
		}
	}
	if row.PhoneNumber != nil {
		if _, err := revokeDevices(ctx, tx, row.TenantID, Contact{PhoneNumber: *row.PhoneNumber}); err != nil {
			return err
		}
	}
	if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.PasswordlessUser{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	return nil
}
