package passwordless

import (
	"context"
	"errors"
	"net/url"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// This file is the recipe's Go API. It validates contacts with the
// configured validators but runs no Hooks, sends nothing and rate-limits
// nothing: those belong to the HTTP flows.

const verifyWebsitePath = "/verify"

// ConsumeInput is a code to consume: LinkCode, or DeviceID and
// UserInputCode, always with PreAuthSessionID.
type ConsumeInput struct {
	PreAuthSessionID string
	DeviceID         string
	UserInputCode    string
	LinkCode         string
}

func (in ConsumeInput) validate() error {
	switch {
	case in.PreAuthSessionID == "":
		return ginauth.BadRequest("Please provide preAuthSessionId")
	case in.LinkCode != "" && (in.DeviceID != "" || in.UserInputCode != ""):
		return ginauth.BadRequest("Please provide either linkCode, or deviceId and userInputCode, not both")
	case in.LinkCode == "" && in.DeviceID == "" && in.UserInputCode == "":
		return ginauth.BadRequest("Please provide either linkCode, or deviceId and userInputCode")
	case in.LinkCode == "" && (in.DeviceID == "" || in.UserInputCode == ""):
		return ginauth.BadRequest("Please provide both deviceId and userInputCode")
	}
	return nil
}

// SignInUpResult is a successful sign-in or sign-up.
type SignInUpResult struct {
	// User is the signed-in user.
	User *ginauth.User
	// CreatedNewRecipeUser says whether this sign-in created the user.
	CreatedNewRecipeUser bool
	// Contact is the normalised e-mail address or phone number proven.
	Contact Contact
	// RecipeUserID is the passwordless login method's user: User.ID but
	// when account linking linked it to a primary user.
	RecipeUserID string
	// Factor is the multi-factor auth factor the sign-in completed
	// ("otp-email", "link-phone", ...); empty for SignInUp.
	Factor string
}

// CreateCode starts a sign-in for a contact in a tenant ("" means the
// default tenant): it stores a new device with one code and returns the
// device id, the pre-auth session id, the user input code and the link
// code. It sends nothing; deliver the code yourself, or build the link
// with MagicLink. The contact is normalised and validated (an
// *InvalidContactError on failure).
func (r *Recipe) CreateCode(ctx context.Context, tenantID string, c Contact) (*Code, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	tenantID = kit.TenantOr(tenantID)
	c, err := r.checkContact(ctx, tenantID, c)
	if err != nil {
		return nil, err
	}
	return r.createDevice(ctx, tenantID, c)
}

// ResendCode adds a new code to a device (the earlier ones stay valid until
// they expire or one is used) and returns it. An unknown device, or a
// device id that does not match the pre-auth session id, gives
// ErrRestartFlow.
func (r *Recipe) ResendCode(ctx context.Context, tenantID, deviceID, preAuthSessionID string) (*Code, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if !deviceMatches(deviceID, preAuthSessionID) {
		return nil, ErrRestartFlow
	}
	dev, err := r.findDevice(ctx, kit.TenantOr(tenantID), preAuthSessionID)
	if err != nil {
		return nil, err
	}
	return r.addCode(ctx, deviceID, dev)
}

// ConsumeCode checks a code and, when it is right, signs the contact in:
// the device and every other outstanding code of the contact are revoked,
// and the passwordless user of the contact is returned, created if it did
// not exist. When an emailverification recipe is configured, a proven
// e-mail address is marked verified there.
//
// Errors: a *CodeError (ErrIncorrectCode, ErrExpiredCode) for a wrong or
// expired user input code; ErrRestartFlow for an unknown device or link
// code, or when the wrong code was the device's last allowed attempt; a
// 400 *ginauth.Error when in has the wrong shape.
func (r *Recipe) ConsumeCode(ctx context.Context, tenantID string, in ConsumeInput) (*SignInUpResult, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	tenantID = kit.TenantOr(tenantID)
	dev, err := r.findDevice(ctx, tenantID, in.PreAuthSessionID)
	if err != nil {
		return nil, err
	}
	out, err := r.check(ctx, dev, in.DeviceID, in.UserInputCode, in.LinkCode, nil)
	if err != nil {
		return nil, err
	}
	if out.codeErr != nil {
		return nil, out.codeErr
	}
	c := deviceContact(dev)
	res, err := r.signInUp(ctx, tenantID, c)
	if err != nil {
		return nil, err
	}
	res.Factor = factorFor(c, in.LinkCode != "")
	return res, nil
}

// factorFor names the factor a consumed code completes.
func factorFor(c Contact, link bool) string {
	switch {
	case c.IsEmail() && link:
		return FactorLinkEmail
	case c.IsEmail():
		return FactorOTPEmail
	case link:
		return FactorLinkPhone
	}
	return FactorOTPPhone
}

// SignInUp signs a contact in without a code, returning its passwordless
// user and creating it if needed: for an app that proved the contact some
// other way (or imports users). The contact is normalised and validated,
// and, like a consumed code, an e-mail address is marked verified when an
// emailverification recipe is configured.
func (r *Recipe) SignInUp(ctx context.Context, tenantID string, c Contact) (*SignInUpResult, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	tenantID = kit.TenantOr(tenantID)
	c, err := r.checkContact(ctx, tenantID, c)
	if err != nil {
		return nil, err
	}
	return r.signInUp(ctx, tenantID, c)
}

// ReasonSignUpNotAllowed is the reason of SIGN_IN_UP_NOT_ALLOWED when
// account linking refuses a new passwordless user (recipes/accountlinking);
// the reference's text.
const ReasonSignUpNotAllowed = "Cannot sign in / up due to security reasons. Please try a different login method or contact support. (ERR_CODE_002)"

func (r *Recipe) signInUp(ctx context.Context, tenantID string, c Contact) (*SignInUpResult, error) {
	if l := r.auth.Linker(); l != nil {
		// A code proves the contact, so only a new user can be refused:
		// the reference's isSignUpAllowed with the address verified.
		if _, err := r.findUser(ctx, tenantID, c); errors.Is(err, ErrUnknownUser) {
			ok, err := l.SignUpAllowed(ctx, tenantID, kit.AccountInfo{RecipeID: RecipeID, Email: c.Email, PhoneNumber: c.PhoneNumber}, true)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, ginauth.NotAllowed(ReasonSignUpNotAllowed)
			}
		} else if err != nil {
			return nil, err
		}
	}
	userID, created, err := r.getOrCreateUser(ctx, tenantID, c)
	if err != nil {
		return nil, err
	}
	if err := r.markVerified(ctx, userID, c); err != nil {
		return nil, err
	}
	u, err := r.auth.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u, err = r.auth.LinkAfterSignIn(ctx, tenantID, userID, u); err != nil {
		return nil, err
	}
	return &SignInUpResult{User: u, CreatedNewRecipeUser: created, Contact: c, RecipeUserID: userID}, nil
}

// emailVerifier is what the emailverification recipe offers.
type emailVerifier interface {
	MarkVerified(ctx context.Context, userID, email string) error
}

// markVerified records a proven e-mail address with the emailverification
// recipe, when one is configured, so that its st-ev claim is true for
// passwordless users as their login method says.
func (r *Recipe) markVerified(ctx context.Context, userID string, c Contact) error {
	if !c.IsEmail() {
		return nil
	}
	rc, ok := r.auth.Recipe("emailverification")
	if !ok {
		return nil
	}
	if ev, ok := rc.(emailVerifier); ok {
		return ev.MarkVerified(ctx, userID, c.Email)
	}
	return nil
}

// findUser returns the passwordless user of a normalised contact in a
// tenant, or ErrUnknownUser.
func (r *Recipe) findUser(ctx context.Context, tenantID string, c Contact) (*models.PasswordlessUser, error) {
	// Through ginauth_login_tenants, so that a user associated with the
	// tenant signs in there too.
	db := r.auth.DB().WithContext(kit.DBContext(ctx))
	var q *gorm.DB
	if c.IsEmail() {
		q = db.Where("email = ?", c.Email).Where("user_id IN (?)", models.LoginUserIDs(db, tenantID, models.LoginPasswordlessEmail, c.Email))
	} else {
		q = db.Where("phone_number = ?", c.PhoneNumber).Where("user_id IN (?)", models.LoginUserIDs(db, tenantID, models.LoginPasswordlessPhone, c.PhoneNumber))
	}
	var rows []models.PasswordlessUser
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, ErrUnknownUser
	}
	return &rows[0], nil
}

// getOrCreateUser returns the user of a contact, creating the core user and
// the passwordless row in one transaction when there is none. The key of
// ginauth_login_tenants settles concurrent first sign-ins: the loser reads
// the winner's user.
func (r *Recipe) getOrCreateUser(ctx context.Context, tenantID string, c Contact) (string, bool, error) {
	for attempt := 0; ; attempt++ {
		row, err := r.findUser(ctx, tenantID, c)
		if err == nil {
			return row.UserID, false, nil
		}
		if !errors.Is(err, ErrUnknownUser) {
			return "", false, err
		}
		var userID string
		err = r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
			id, joined, err := r.auth.CreateUser(ctx, tx, tenantID)
			if err != nil {
				return err
			}
			row := models.PasswordlessUser{UserID: id, TenantID: tenantID, TimeJoined: joined}
			if c.IsEmail() {
				row.Email = &c.Email
			} else {
				row.PhoneNumber = &c.PhoneNumber
			}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			userID = id
			return nil
		})
		if err == nil {
			return userID, true, nil
		}
		if !kit.IsUniqueViolation(err) || attempt >= 2 {
			return "", false, ginauth.DBError(err)
		}
	}
}

// GetUserByEmail returns the passwordless user with this e-mail address in
// the tenant, or ErrUnknownUser.
func (r *Recipe) GetUserByEmail(ctx context.Context, tenantID, email string) (*ginauth.User, error) {
	return r.getUserBy(ctx, tenantID, Contact{Email: NormaliseEmail(email)})
}

// GetUserByPhoneNumber returns the passwordless user with this phone
// number in the tenant, or ErrUnknownUser.
func (r *Recipe) GetUserByPhoneNumber(ctx context.Context, tenantID, phoneNumber string) (*ginauth.User, error) {
	return r.getUserBy(ctx, tenantID, Contact{PhoneNumber: NormalisePhoneNumber(phoneNumber)})
}

func (r *Recipe) getUserBy(ctx context.Context, tenantID string, c Contact) (*ginauth.User, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if c.String() == "" {
		return nil, ErrUnknownUser
	}
	row, err := r.findUser(ctx, kit.TenantOr(tenantID), c)
	if err != nil {
		return nil, err
	}
	return r.auth.GetUser(ctx, row.UserID)
}

// RevokeAllCodes deletes every outstanding device and code of a contact in
// a tenant and returns how many devices went. Links and codes already sent
// stop working.
func (r *Recipe) RevokeAllCodes(ctx context.Context, tenantID string, c Contact) (int64, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return 0, err
	}
	c, err := c.normalise()
	if err != nil {
		return 0, err
	}
	return revokeDevices(ctx, r.auth.DB(), kit.TenantOr(tenantID), c)
}

// CreateMagicLink starts a sign-in for a contact (as CreateCode) and
// returns its magic link, for an app that sends the link its own way (an
// invitation, say).
func (r *Recipe) CreateMagicLink(ctx context.Context, tenantID string, c Contact) (string, error) {
	code, err := r.CreateCode(ctx, tenantID, c)
	if err != nil {
		return "", err
	}
	return r.MagicLink(ctx, tenantID, code.PreAuthSessionID, code.LinkCode), nil
}

// MagicLink builds the link a code message carries:
// <websiteOrigin><websiteBasePath>/verify?preAuthSessionId=...&tenantId=...#<linkCode>.
// The frontend SDKs read the link code from the fragment, which browsers
// do not send to servers. The origin is the one of the request ctx belongs
// to (ginauth.Auth.WebsiteOrigin), WebsiteDomain outside a request.
func (r *Recipe) MagicLink(ctx context.Context, tenantID, preAuthSessionID, linkCode string) string {
	q := url.Values{"preAuthSessionId": {preAuthSessionID}, "tenantId": {kit.TenantOr(tenantID)}}
	return r.auth.WebsiteOrigin(ctx) + r.auth.AppInfo().WebsiteBasePath + verifyWebsitePath + "?" + q.Encode() + "#" + linkCode
}

// DeleteExpiredCodes deletes every expired code, and the devices left with
// none, and returns how many codes went. The recipe also sweeps
// long-expired codes by itself as codes are created; call this from a
// periodic job to keep the tables at their smallest.
func (r *Recipe) DeleteExpiredCodes(ctx context.Context) (int64, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return 0, err
	}
	return r.deleteExpired(ctx, r.auth.Now())
}
