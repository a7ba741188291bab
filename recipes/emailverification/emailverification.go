package emailverification

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe id, the rid the frontend SDKs send.
const RecipeID = "emailverification"

// Mode says whether unverified users may use the app.
type Mode string

// Modes, as SuperTokens names them.
const (
	// ModeRequired adds the IsVerified validator to every VerifySession:
	// an unverified user gets 403 "invalid claim" (st-ev) everywhere
	// except on routes that skip or override the global validators. It is
	// the default.
	ModeRequired Mode = "REQUIRED"
	// ModeOptional only keeps the st-ev claim in the session; routes that
	// care add RequireClaim(emailverification.IsVerified()).
	ModeOptional Mode = "OPTIONAL"
)

// Errors of the Go API, matched with errors.Is.
var (
	// ErrEmailAlreadyVerified: the address is verified already, no token
	// was made.
	ErrEmailAlreadyVerified = errors.New("emailverification: e-mail already verified")
	// ErrInvalidToken: the token is unknown, used, expired or belongs to
	// another tenant.
	ErrInvalidToken = errors.New("emailverification: invalid or expired token")
	// ErrSendFailed: the verification e-mail could not be rendered or
	// sent; the wrapped error says why.
	ErrSendFailed = errors.New("emailverification: the verification e-mail could not be sent")
	// ErrNotSetUp: the Recipe was used before ginauth.New set it up.
	ErrNotSetUp = kit.NotSetUp(RecipeID)
)

// Config configures the recipe. The zero value is usable: required
// verification, e-mails logged (not sent), default templates, 24-hour
// links, the e-mail taken from the user's login methods.
type Config struct {
	// Mode defaults to ModeRequired.
	Mode Mode
	// EmailSender delivers the verification e-mails. Default
	// emaildelivery.LogSender with the Auth's logger, which only logs
	// them: set a real sender in production.
	EmailSender emaildelivery.Sender
	// Templates renders the e-mails (kind "email-verification"). Default
	// emaildelivery.Templates{}.
	Templates emaildelivery.Renderer
	// TokenLifetime is how long a verification link works. Default 24h.
	TokenLifetime time.Duration
	// GetEmail returns the address to verify for a user; ok=false means
	// the user has none (and counts as verified). An error matching
	// ginauth.ErrNotFound means the user does not exist. Default: the
	// e-mail of the user's first login method that has one.
	GetEmail func(ctx context.Context, userID string) (email string, ok bool, err error)
	// AfterVerify, if set, runs after an address was verified with a
	// token (for a welcome e-mail, an audit log, ...). Its error is logged.
	AfterVerify func(ctx context.Context, userID, email string) error
}

// Recipe is the e-mail verification recipe. Pass it in
// ginauth.Config.Recipes; keep it to call its Go API. A Recipe belongs to
// one Auth.
type Recipe struct {
	cfg   Config
	auth  *kit.Kit
	claim *claims.Boolean
}

// maxLiveTokens bounds the unexpired tokens kept per user and address;
// making another deletes the oldest.
const maxLiveTokens = 5

// New returns the recipe. Config errors are reported by ginauth.New.
func New(cfg Config) *Recipe {
	r := &Recipe{cfg: cfg}
	r.claim = EmailVerificationClaim
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup implements ginauth.Recipe: it registers the FDI routes, the st-ev
// claim (and, in ModeRequired, its validator as a global one), the
// login-method decoration and the user-deletion hook.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	if r.auth != nil && r.auth.Auth != reg.Auth() {
		return fmt.Errorf("%w: an emailverification Recipe can serve one Auth only; call New again", ginauth.ErrConfig)
	}
	switch r.cfg.Mode {
	case "":
		r.cfg.Mode = ModeRequired
	case ModeRequired, ModeOptional:
	default:
		return fmt.Errorf("%w: emailverification: Mode %q is not REQUIRED or OPTIONAL", ginauth.ErrConfig, r.cfg.Mode)
	}
	if r.cfg.TokenLifetime < 0 {
		return fmt.Errorf("%w: emailverification: TokenLifetime must not be negative", ginauth.ErrConfig)
	}
	if r.cfg.TokenLifetime == 0 {
		r.cfg.TokenLifetime = 24 * time.Hour
	}
	r.auth = kit.From(reg)
	if r.cfg.EmailSender == nil {
		r.cfg.EmailSender = emaildelivery.LogSender(r.auth.Logger())
		r.auth.Logger().Warn("emailverification: no EmailSender configured; verification e-mails are logged, not sent")
	}
	if r.cfg.Templates == nil {
		r.cfg.Templates = emaildelivery.Templates{}
	}
	reg.RequireTables(models.EmailVerificationTables()...)
	for _, rt := range []ginauth.Route{
		{Method: http.MethodPost, Path: "/user/email/verify/token", Handler: r.handleSendToken},
		{Method: http.MethodPost, Path: "/user/email/verify", Handler: r.handleVerify},
		{Method: http.MethodGet, Path: "/user/email/verify", Handler: r.handleIsVerified},
	} {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.AddClaim(r.claim)
	if r.cfg.Mode == ModeRequired {
		reg.AddGlobalValidator(r.Validator())
	}
	reg.DecorateLoginMethods(r.decorate)
	reg.OnUserDelete(r.deleteUser)
	reg.OnTenantDelete(kit.DeleteByTenant(&models.EmailVerificationToken{}))
	return nil
}

// Mode returns the configured mode (after defaults).
func (r *Recipe) Mode() Mode {
	if r.cfg.Mode == "" {
		return ModeRequired
	}
	return r.cfg.Mode
}

// Claim returns this recipe's st-ev claim, whose value is read from this
// recipe's tables.
func (r *Recipe) Claim() *claims.Boolean { return r.claim }

// Validator returns the IsVerified validator over this recipe's claim;
// see IsVerified.
func (r *Recipe) Validator(opts ...ValidatorOption) claims.Validator {
	return newValidator(r.claim, opts)
}

// decorate sets Verified on login methods whose e-mail is verified.
func (r *Recipe) decorate(ctx context.Context, db *gorm.DB, methods []ginauth.LoginMethod) error {
	var ids []string
	for _, m := range methods {
		if m.Email != "" {
			ids = append(ids, m.RecipeUserID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []models.VerifiedEmail
	if err := db.WithContext(kit.DBContext(ctx)).Where("user_id IN ?", ids).Find(&rows).Error; err != nil {
		return ginauth.DBError(err)
	}
	verified := make(map[[2]string]bool, len(rows))
	for _, v := range rows {
		verified[[2]string{v.UserID, v.Email}] = true
	}
	for i := range methods {
		m := &methods[i]
		if m.Email != "" && verified[[2]string{m.RecipeUserID, ginauth.NormaliseEmail(m.Email)}] {
			m.Verified = true
		}
	}
	return nil
}

// deleteUser removes the user's tokens and verified addresses inside the
// transaction that deletes the user.
func (r *Recipe) deleteUser(ctx context.Context, tx *gorm.DB, userID string) error {
	if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.EmailVerificationToken{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	if err := tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.VerifiedEmail{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	return nil
}
