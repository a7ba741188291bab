package multifactorauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the id of the multifactorauth recipe (the rid the frontend
// SDKs send).
const RecipeID = "multifactorauth"

// Factor ids, as SuperTokens names them. FactorRecoveryCode is ginauth's
// own: SuperTokens has no recovery codes.
const (
	FactorEmailPassword = "emailpassword"
	FactorThirdParty    = "thirdparty"
	FactorOTPEmail      = "otp-email"
	FactorLinkEmail     = "link-email"
	FactorOTPPhone      = "otp-phone"
	FactorLinkPhone     = "link-phone"
	FactorWebAuthn      = "webauthn"
	FactorTOTP          = "totp"
	FactorRecoveryCode  = "recovery-code"
)

// firstFactorKinds are the factors that sign a user in; everything else a
// recipe registers is a secondary factor.
var firstFactorKinds = []string{FactorEmailPassword, FactorThirdParty, FactorOTPEmail, FactorLinkEmail,
	FactorOTPPhone, FactorLinkPhone, FactorWebAuthn}

// ErrNotSetUp is returned when a Recipe is used before ginauth.New has set
// it up, or when a package-level function finds no set-up recipe.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// ErrDisallowedFirstFactor is wrapped in the 403 *ginauth.Error that vetoes
// a session started with a factor not in Config.FirstFactors.
var ErrDisallowedFirstFactor = errors.New("multifactorauth: factor not allowed as a first factor")

// SetUpFunc reports whether a user has set a factor up (e.g. has a
// verified TOTP device).
type SetUpFunc func(ctx context.Context, userID string) (bool, error)

// RequirementsInput is what Config.Requirements gets to decide a session's
// requirements.
type RequirementsInput struct {
	UserID, TenantID string
	// Completed are the factors completed in the session so far.
	Completed map[string]int64
	// Default is the requirement list ginauth would use: one of the
	// required secondary factors, or none.
	Default []Requirement
}

// RecoveryCodeConfig tunes recovery codes.
type RecoveryCodeConfig struct {
	// Disabled removes the recovery-code routes and the stand-in rule.
	Disabled bool
	// Count is how many codes GenerateRecoveryCodes makes. Default 10.
	Count int
	// Satisfies lists the factors a used recovery code stands in for.
	// Default ["totp"]: a recovery code meets any requirement TOTP would.
	Satisfies []string
	// MaxFailedAttempts and Lockout limit wrong codes as for TOTP.
	// Defaults 5 and 15 minutes.
	MaxFailedAttempts int
	Lockout           time.Duration
}

// Config tunes the recipe. The zero value requires no second factor of
// anyone (sessions still carry st-mfa, with v true).
type Config struct {
	// FirstFactors, when set, lists the factors that may start a session;
	// a session created with another NewSession.Factor is refused with
	// 403. Sessions an app creates without a Factor are not affected.
	FirstFactors []string
	// RequireFactors are secondary factors required of every user: a user
	// must complete one of them (with RequiredSecondaryFactors, as
	// SuperTokens combines tenant and user requirements).
	RequireFactors []string
	// RequiredSecondaryFactors returns further required factors for one
	// user, e.g. "totp" for admins (read their roles through the app).
	RequiredSecondaryFactors func(ctx context.Context, userID, tenantID string) ([]string, error)
	// RequireSetUpFactors makes every secondary factor the user has set up
	// (say a verified TOTP device) required: opt-in two-factor auth.
	RequireSetUpFactors bool
	// Requirements, when set, decides the requirement list instead; it gets
	// the default list to extend or replace.
	Requirements func(ctx context.Context, in RequirementsInput) ([]Requirement, error)
	// AvailableFactors overrides the factors reported by PUT /mfa/info
	// (default: what the configured recipes offer).
	AvailableFactors []string
	// NoGlobalValidator leaves IsSatisfied out of the global validators;
	// guard routes yourself with RequireClaim(multifactorauth.IsSatisfied()).
	NoGlobalValidator bool
	// OverrideGlobalClaimValidators chooses the validators run on the MFA
	// routes (PUT /mfa/info, POST /mfa/recovery-code). Default: none, as
	// SuperTokens does, so that a user can finish signing in.
	OverrideGlobalClaimValidators func(global []claims.Validator, c *gin.Context) []claims.Validator
	// RecoveryCodes tunes recovery codes.
	RecoveryCodes RecoveryCodeConfig
}

// Recipe is multi-factor auth: the st-mfa claim, the factor registry, PUT
// /mfa/info and recovery codes. Create it with New and pass it in
// ginauth.Config.Recipes.
type Recipe struct {
	cfg     Config
	auth    *kit.Kit
	db      *gorm.DB
	claim   *Claim
	subs    substitutes
	limiter CodeLimit

	mu      sync.RWMutex
	factors map[string]SetUpFunc
	order   []string
}

// New returns the recipe. At most one Config is read.
func New(cfg ...Config) *Recipe {
	r := &Recipe{factors: map[string]SetUpFunc{}}
	if len(cfg) > 0 {
		r.cfg = cfg[0]
	}
	r.claim = &Claim{r: r}
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

func defaultSubstitutes() substitutes { return substitutes{FactorTOTP: {FactorRecoveryCode}} }

// Setup checks the config and registers the tables, the session hook, the
// global validator, the routes and the user-deletion hook.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	rc := &r.cfg.RecoveryCodes
	if rc.Count == 0 {
		rc.Count = 10
	}
	if rc.Count < 1 || rc.Count > 100 {
		return fmt.Errorf("%w: multifactorauth: RecoveryCodes.Count %d is not between 1 and 100", ginauth.ErrConfig, rc.Count)
	}
	if rc.MaxFailedAttempts < 0 || rc.Lockout < 0 {
		return fmt.Errorf("%w: multifactorauth: RecoveryCodes limits must not be negative", ginauth.ErrConfig)
	}
	if rc.Satisfies == nil {
		rc.Satisfies = []string{FactorTOTP}
	}
	r.subs = substitutes{}
	if !rc.Disabled {
		for _, f := range rc.Satisfies {
			r.subs[f] = append(r.subs[f], FactorRecoveryCode)
		}
	}
	r.limiter = CodeLimit{Kind: FactorRecoveryCode, MaxAttempts: rc.MaxFailedAttempts, Lockout: rc.Lockout}

	r.auth = kit.From(reg)
	r.db = r.auth.DB()
	reg.RequireTables(models.MFATables()...)
	reg.BeforeSessionCreate(r.beforeSessionCreate)
	if !r.cfg.NoGlobalValidator {
		reg.AddGlobalValidator(r.claim.IsSatisfied())
	}
	routes := []ginauth.Route{{Method: "PUT", Path: "/mfa/info", Handler: r.handleInfo}}
	if !rc.Disabled {
		routes = append(routes,
			// Sensitive: they complete a factor or replace the codes, so a
			// revoked session is refused at once (see ginauth.Route).
			ginauth.Route{Method: "POST", Path: "/mfa/recovery-code", Handler: r.handleUseRecoveryCode, Sensitive: true},
			ginauth.Route{Method: "POST", Path: "/mfa/recovery-codes", Handler: r.handleRegenerate, Sensitive: true})
	}
	for _, rt := range routes {
		if err := reg.Handle(rt); err != nil {
			return err
		}
	}
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		// A deleted user's lockout counters are left to expire: user ids
		// are never reused.
		return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error)
	})
	return nil
}

// current returns the recipe the package-level functions use: that of the
// instance serving ctx (ginauth.AuthFrom; there is no fallback to another
// instance, whose database would be the wrong one).
func current(ctx context.Context) (*Recipe, error) {
	a, err := ginauth.AuthFrom(ctx)
	if err != nil {
		return nil, err
	}
	if r, ok := FromAuth(a); ok {
		return r, nil
	}
	return nil, ErrNotSetUp
}

// FromAuth returns the multifactorauth recipe configured in a, if any.
// Recipes that offer a factor (totp) use it to register themselves.
func FromAuth(a *ginauth.Auth) (*Recipe, bool) {
	r, ok := kit.Find[*Recipe](a, RecipeID)
	return r, ok
}

// FirstFactors returns Config.FirstFactors (nil: any factor), for the
// multitenancy recipe's GET /loginmethods "firstFactors".
func (r *Recipe) FirstFactors() []string { return slices.Clone(r.cfg.FirstFactors) }

// Claim returns this recipe's st-mfa claim (MFAClaim bound to this recipe).
func (r *Recipe) Claim() *Claim { return r.claim }

// RegisterFactor adds a factor to the registry: PUT /mfa/info reports it
// as available, and as set up for users for whom isSetUp says so. Call it
// from a recipe's Setup (the totp recipe registers "totp"). Registering an
// id again replaces its function.
func (r *Recipe) RegisterFactor(id string, isSetUp SetUpFunc) error {
	if id == "" || isSetUp == nil {
		return fmt.Errorf("%w: multifactorauth: RegisterFactor needs an id and a function", ginauth.ErrConfig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.factors[id]; !ok {
		r.order = append(r.order, id)
	}
	r.factors[id] = isSetUp
	return nil
}

// factorProvider is implemented by sign-in recipes that know which factor
// ids they offer (passwordless offers otp-email, link-phone, ... by its
// configuration).
type factorProvider interface{ FactorIDs() []string }

// AvailableFactors returns the factors users may set up or complete: the
// registered ones plus those the configured sign-in recipes offer.
func (r *Recipe) AvailableFactors() []string {
	if r.cfg.AvailableFactors != nil {
		return slices.Clone(r.cfg.AvailableFactors)
	}
	var out []string
	add := func(ids ...string) {
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	if r.auth != nil {
		for _, id := range []string{FactorEmailPassword, FactorThirdParty, "passwordless", FactorWebAuthn} {
			rc, ok := r.auth.Recipe(id)
			if !ok {
				continue
			}
			if fp, ok := rc.(factorProvider); ok {
				add(fp.FactorIDs()...)
			} else if id != "passwordless" {
				add(id)
			}
		}
	}
	r.mu.RLock()
	add(r.order...)
	r.mu.RUnlock()
	return out
}

// userInfo returns the user's FDI object, or nil when the users table does
// not know the user (apps may create sessions for their own user ids).
func (r *Recipe) userInfo(ctx context.Context, userID string) (*ginauth.User, error) {
	u, err := r.auth.GetUser(ctx, userID)
	if errors.Is(err, ginauth.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// FactorsSetUpForUser returns the available factors the user has set up:
// registered factors by their SetUpFunc, sign-in factors by the user's
// login methods.
func (r *Recipe) FactorsSetUpForUser(ctx context.Context, userID string) ([]string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	u, err := r.userInfo(ctx, userID)
	if err != nil {
		return nil, err
	}
	return r.setUp(ctx, userID, u)
}

func (r *Recipe) setUp(ctx context.Context, userID string, u *ginauth.User) ([]string, error) {
	var out []string
	for _, id := range r.AvailableFactors() {
		r.mu.RLock()
		fn := r.factors[id]
		r.mu.RUnlock()
		ok := false
		if fn != nil {
			var err error
			if ok, err = fn(ctx, userID); err != nil {
				return nil, err
			}
		} else if u != nil {
			ok = hasLoginMethodFor(u, id)
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func hasLoginMethodFor(u *ginauth.User, factorID string) bool {
	for _, m := range u.LoginMethods {
		switch factorID {
		case FactorEmailPassword, FactorThirdParty, FactorWebAuthn:
			if m.RecipeID == factorID {
				return true
			}
		case FactorOTPEmail, FactorLinkEmail:
			if m.RecipeID == "passwordless" && m.Email != "" {
				return true
			}
		case FactorOTPPhone, FactorLinkPhone:
			if m.RecipeID == "passwordless" && m.PhoneNumber != "" {
				return true
			}
		}
	}
	return false
}

// secondarySetUp returns the registered secondary factors the user has set
// up (for RequireSetUpFactors).
func (r *Recipe) secondarySetUp(ctx context.Context, userID string) ([]string, error) {
	r.mu.RLock()
	ids := slices.Clone(r.order)
	r.mu.RUnlock()
	var out []string
	for _, id := range ids {
		if slices.Contains(firstFactorKinds, id) {
			continue
		}
		r.mu.RLock()
		fn := r.factors[id]
		r.mu.RUnlock()
		ok, err := fn(ctx, userID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// Requirements returns the MFA requirement list of a user's session that
// completed the given factors.
func (r *Recipe) Requirements(ctx context.Context, userID, tenantID string, completed map[string]int64) ([]Requirement, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	var ids []string
	add := func(list []string) {
		for _, id := range list {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	add(r.cfg.RequireFactors)
	if fn := r.cfg.RequiredSecondaryFactors; fn != nil {
		list, err := fn(ctx, userID, tenantID)
		if err != nil {
			return nil, err
		}
		add(list)
	}
	if r.cfg.RequireSetUpFactors {
		list, err := r.secondarySetUp(ctx, userID)
		if err != nil {
			return nil, err
		}
		add(list)
	}
	var reqs []Requirement
	if len(ids) > 0 {
		reqs = []Requirement{{OneOf: ids}}
	}
	if fn := r.cfg.Requirements; fn != nil {
		return fn(ctx, RequirementsInput{UserID: userID, TenantID: tenantID, Completed: completed, Default: reqs})
	}
	return reqs, nil
}

// value computes the claim value for completed factors.
func (r *Recipe) value(ctx context.Context, userID, tenantID string, completed map[string]int64) (Value, error) {
	reqs, err := r.Requirements(ctx, userID, tenantID, completed)
	if err != nil {
		return Value{}, err
	}
	return Value{Completed: completed, Satisfied: r.subs.next(completed, reqs) == nil}, nil
}

// beforeSessionCreate adds st-mfa to every new session, with the first
// factor completed when the session names one.
func (r *Recipe) beforeSessionCreate(ctx context.Context, s *ginauth.NewSession) error {
	completed := map[string]int64{}
	if s.Factor != "" {
		if len(r.cfg.FirstFactors) > 0 && !slices.Contains(r.cfg.FirstFactors, s.Factor) {
			return ginauth.InvalidClaimError([]claims.ValidationError{{ID: ClaimKey, Reason: map[string]any{
				"message": "this factor cannot be used to sign in", "factorId": s.Factor}}}, ErrDisallowedFirstFactor)
		}
		completed[s.Factor] = r.auth.Now().Unix()
	}
	v, err := r.value(ctx, s.UserID, s.TenantID, completed)
	if err != nil {
		return err
	}
	if s.AccessTokenPayload == nil {
		s.AccessTokenPayload = claims.Payload{}
	}
	claims.Merge(s.AccessTokenPayload, v.Payload())
	return nil
}

// MarkFactorCompleted records factorID as completed now in the session and
// recomputes "v": the session is upgraded in place (its payload is stored
// and a new access token and front-token go out on the current response),
// with no new sign-in. Recipes call it after a second factor succeeds.
func (r *Recipe) MarkFactorCompleted(ctx context.Context, s *ginauth.Session, factorID string) error {
	update, err := r.CompletionUpdate(ctx, s, factorID)
	if err != nil {
		return err
	}
	return s.MergeIntoAccessTokenPayload(ctx, update)
}

// CompletionUpdate returns the payload update that marks factorID
// completed now in the session, without storing it. A recipe computes it
// before the transaction that checks the factor's code and stores it in
// that transaction (Session.MergeIntoAccessTokenPayloadTx), so that the
// code is used up and the factor completed together or not at all.
func (r *Recipe) CompletionUpdate(ctx context.Context, s *ginauth.Session, factorID string) (claims.Payload, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if factorID == "" {
		return nil, ginauth.BadRequest("the factor id is empty")
	}
	cur, _ := GetValue(s.Payload())
	completed := make(map[string]int64, len(cur.Completed)+1)
	for k, t := range cur.Completed {
		completed[k] = t
	}
	completed[factorID] = r.auth.Now().Unix()
	v, err := r.value(ctx, s.UserID(), s.TenantID(), completed)
	if err != nil {
		return nil, err
	}
	return v.Payload(), nil
}

// RefreshClaim recomputes "v" for the session's completed factors (after
// the user's requirements changed, say) and stores it when it changed. It
// returns the current value.
func (r *Recipe) RefreshClaim(ctx context.Context, s *ginauth.Session) (Value, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return Value{}, err
	}
	cur, ok := GetValue(s.Payload())
	completed := cur.Completed
	if completed == nil {
		completed = map[string]int64{}
	}
	v, err := r.value(ctx, s.UserID(), s.TenantID(), completed)
	if err != nil {
		return Value{}, err
	}
	if !ok || !v.equal(cur) {
		if err := s.MergeIntoAccessTokenPayload(ctx, v.Payload()); err != nil {
			return Value{}, err
		}
	}
	return v, nil
}

// claimError is a 403 invalid claim for st-mfa.
func claimError(reason map[string]any) error {
	return ginauth.InvalidClaimError([]claims.ValidationError{{ID: ClaimKey, Reason: reason}}, nil)
}

// AssertAllowedToSetUp returns nil when the session may set up factorID,
// else a 403 invalid-claim error. The rule is SuperTokens': a session that
// meets its requirements may set up anything; otherwise it may set up only
// a factor the requirements ask for next, and only when the user has none
// of those set up already (else they must complete that one first, so a
// stolen password cannot be used to enrol an attacker's authenticator).
func (r *Recipe) AssertAllowedToSetUp(ctx context.Context, s *ginauth.Session, factorID string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	v, err := r.RefreshClaim(ctx, s)
	if err != nil {
		return err
	}
	if v.Satisfied {
		return nil
	}
	u, err := r.userInfo(ctx, s.UserID())
	if err != nil {
		return err
	}
	setUp, err := r.setUp(ctx, s.UserID(), u)
	if err != nil {
		return err
	}
	reqs, err := r.Requirements(ctx, s.UserID(), s.TenantID(), v.Completed)
	if err != nil {
		return err
	}
	return r.allowed(ctx, s.UserID(), factorID, v, reqs, setUp)
}

func (r *Recipe) allowed(ctx context.Context, userID, factorID string, v Value, reqs []Requirement, setUp []string) error {
	if v.Satisfied {
		return nil
	}
	next := r.subs.next(v.Completed, reqs)
	blocking, err := r.blocking(ctx, userID, next, setUp)
	if err != nil {
		return err
	}
	if blocking != "" {
		return claimError(map[string]any{"message": "complete a factor you have already set up first", "factorId": blocking})
	}
	if len(next) > 0 && !slices.Contains(next, factorID) {
		return claimError(map[string]any{"message": "the factor you are trying to set up is not allowed at this stage", "factorId": factorID})
	}
	return nil
}

// allowedToSetUp returns the available factors the session may set up, by
// the rule of AssertAllowedToSetUp.
func (r *Recipe) allowedToSetUp(ctx context.Context, userID string, v Value, reqs []Requirement, setUp, available []string) ([]string, error) {
	out := []string{}
	if v.Satisfied {
		return append(out, available...), nil
	}
	next := r.subs.next(v.Completed, reqs)
	blocking, err := r.blocking(ctx, userID, next, setUp)
	if err != nil || blocking != "" {
		return out, err
	}
	for _, id := range available {
		if len(next) == 0 || slices.Contains(next, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// blocking returns a factor of next the user has already set up (or holds
// recovery codes for), which they must complete before setting up others.
func (r *Recipe) blocking(ctx context.Context, userID string, next, setUp []string) (string, error) {
	for _, id := range next {
		done, err := r.isSetUpOrStandIn(ctx, userID, id, setUp)
		if err != nil {
			return "", err
		}
		if done {
			return id, nil
		}
	}
	return "", nil
}

// isSetUpOrStandIn reports whether the user has set up factorID or holds
// unused recovery codes that stand in for it.
func (r *Recipe) isSetUpOrStandIn(ctx context.Context, userID, factorID string, setUp []string) (bool, error) {
	if slices.Contains(setUp, factorID) {
		return true, nil
	}
	if slices.Contains(r.subs[factorID], FactorRecoveryCode) {
		n, err := r.RemainingRecoveryCodes(ctx, userID)
		return n > 0, err
	}
	return false, nil
}

// MarkFactorCompleted is Recipe.MarkFactorCompleted on the recipe of the
// instance that verified s.
func MarkFactorCompleted(ctx context.Context, s *ginauth.Session, factorID string) error {
	r, ok := FromAuth(s.Auth())
	if !ok {
		return ErrNotSetUp
	}
	return r.MarkFactorCompleted(ctx, s, factorID)
}
