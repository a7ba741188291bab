package webauthn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	wa "github.com/go-webauthn/webauthn/webauthn"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// FDI statuses this recipe answers with (HTTP 200), as supertokens-node's
// webauthn recipe names them.
const (
	StatusOK                      = "OK"
	StatusInvalidEmail            = "INVALID_EMAIL_ERROR"
	StatusInvalidOptions          = "INVALID_OPTIONS_ERROR"
	StatusOptionsNotFound         = "OPTIONS_NOT_FOUND_ERROR"
	StatusInvalidCredentials      = "INVALID_CREDENTIALS_ERROR"
	StatusInvalidAuthenticator    = "INVALID_AUTHENTICATOR_ERROR"
	StatusEmailExists             = "EMAIL_ALREADY_EXISTS_ERROR"
	StatusSignUpNotAllowed        = "SIGN_UP_NOT_ALLOWED"
	StatusSignInNotAllowed        = "SIGN_IN_NOT_ALLOWED"
	StatusRecoverTokenInvalid     = "RECOVER_ACCOUNT_TOKEN_INVALID_ERROR"
	StatusRecoverNotAllowed       = "RECOVER_ACCOUNT_NOT_ALLOWED"
	StatusCredentialNotFound      = "CREDENTIAL_NOT_FOUND_ERROR"
	StatusGeneralError            = "GENERAL_ERROR"
	StatusRegisterNotAllowed      = "REGISTER_CREDENTIAL_NOT_ALLOWED"
	fieldOptionsID                = "webauthnGeneratedOptionsId"
	fieldCredential               = "credential"
	fieldShouldTryLinking         = "shouldTryLinkingWithSessionUser"
	recoverWebsitePath            = "/webauthn/recover"
	maxEmailBytes                 = 1024
	maxIDBytes                    = 256
	backgroundMailSendTimeout     = time.Minute
	recoverMailSubject            = "Account recovery instructions"
	recoverMailKind               = "webauthn-recover-account"
	rateKeyPrefix                 = "webauthn:"
	registerResidentKeyRequired   = protocol.ResidentKeyRequirementRequired
	registerAttestationPreference = protocol.PreferNoAttestation
)

// Reasons of the refusals account linking gives, as the reference's
// webauthn recipe words them.
const (
	// ReasonSignUpNotAllowed is the reason of a SIGN_UP_NOT_ALLOWED that
	// account linking gives: a primary user has the address and the new
	// passkey account's e-mail is unverified (the reference's ERR_CODE_025).
	ReasonSignUpNotAllowed = "Cannot sign up due to security reasons. Please try logging in, use a different login method or contact support. (ERR_CODE_025)"
	// ReasonSignInNotAllowed is the reason of a SIGN_IN_NOT_ALLOWED that
	// account linking gives: an unverified, unlinked passkey account whose
	// address a primary user has (the reference's ERR_CODE_030).
	ReasonSignInNotAllowed = "Cannot sign in due to security reasons. Please try recovering your account, use a different login method or contact support. (ERR_CODE_030)"
)

// credentialParams are the algorithms offered at registration, as
// SuperTokens' defaults: EdDSA, ES256, RS256.
var credentialParams = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgEdDSA},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

func has(obj map[string]json.RawMessage, name string) bool {
	raw, ok := obj[name]
	return ok && string(raw) != "null"
}

func status(c *gin.Context, s string) { c.JSON(http.StatusOK, gin.H{"status": s}) }

// readBody reads a request's JSON object.
func (r *Recipe) readBody(c *gin.Context) (map[string]json.RawMessage, bool) {
	obj, err := kit.ReadJSONObject(c, r.cfg.MaxBodyBytes, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, false
	}
	return obj, true
}

// ceremony is the body of a route that finishes a ceremony: the options
// id, the browser's credential and the linking flag.
type ceremony struct {
	optionsID  string
	credential []byte
	link       bool
}

func (r *Recipe) readCeremony(c *gin.Context, obj map[string]json.RawMessage) (ceremony, bool) {
	var out ceremony
	var err error
	if out.optionsID, err = kit.StringField(obj, fieldOptionsID, maxIDBytes, true); err != nil {
		r.auth.WriteError(c, err)
		return out, false
	}
	raw := bytes.TrimSpace(obj[fieldCredential])
	if !has(obj, fieldCredential) {
		r.auth.WriteError(c, ginauth.BadRequest("credential is required"))
		return out, false
	}
	if len(raw) == 0 || raw[0] != '{' {
		r.auth.WriteError(c, ginauth.BadRequest("credential must be an object"))
		return out, false
	}
	out.credential = raw
	if has(obj, fieldShouldTryLinking) {
		if json.Unmarshal(obj[fieldShouldTryLinking], &out.link) != nil {
			r.auth.WriteError(c, ginauth.BadRequest("%s must be a boolean", fieldShouldTryLinking))
			return out, false
		}
	}
	return out, true
}

// readCeremonyBody reads the JSON body of a route that finishes a
// ceremony: the whole object (for the route's other fields) and its
// ceremony fields.
func (r *Recipe) readCeremonyBody(c *gin.Context) (map[string]json.RawMessage, ceremony, bool) {
	obj, ok := r.readBody(c)
	if !ok {
		return nil, ceremony{}, false
	}
	in, ok := r.readCeremony(c, obj)
	return obj, in, ok
}

// readLinkingCeremony reads a sign-up or sign-in body and, when it asks to
// link, the request's session (a passkey used as a second factor); the
// session is nil otherwise. As SuperTokens' loadSessionInAuthAPIIfNeeded,
// the session is optional.
func (r *Recipe) readLinkingCeremony(c *gin.Context) (ceremony, *ginauth.Session, bool) {
	_, in, ok := r.readCeremonyBody(c)
	if !ok || !in.link {
		return in, nil, ok
	}
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{Optional: true, OverrideGlobalClaimValidators: noValidators})
	if err != nil {
		r.auth.WriteError(c, err)
		return in, nil, false
	}
	return in, s, true
}

func noValidators([]claims.Validator, *gin.Context) []claims.Validator { return nil }

// factorSession verifies the session of a credential route.
func (r *Recipe) factorSession(c *gin.Context) (*ginauth.Session, bool) {
	s, err := r.auth.FactorSession(c, r.cfg.OverrideGlobalClaimValidators)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, false
	}
	return s, true
}

// optionsBody is the FDI answer with generated options: the library's
// options JSON plus the id and times.
func optionsBody(v any, id string, createdAt, expiresAt time.Time, extra gin.H) (gin.H, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body := gin.H{}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	for k, x := range extra {
		body[k] = x
	}
	body["status"] = StatusOK
	body["webauthnGeneratedOptionsId"] = id
	body["createdAt"] = createdAt.UnixMilli()
	body["expiresAt"] = expiresAt.UnixMilli()
	return body, nil
}

// handleRegisterOptions serves POST /webauthn/options/register
// {email | recoverAccountToken}.
func (r *Recipe) handleRegisterOptions(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, ok := r.readBody(c)
	if !ok {
		return
	}
	email, err := kit.StringField(obj, "email", maxEmailBytes, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	token, err := kit.StringField(obj, "recoverAccountToken", maxIDBytes, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if !has(obj, "email") && !has(obj, "recoverAccountToken") {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email or the recover account token"))
		return
	}
	// Options are rows written for anyone who asks: counted per address.
	// This is the one unit a passkey sign-up costs: handleSignUp consumes
	// these single-use options and does not count again.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionSignUp, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if has(obj, "email") {
		email = ginauth.NormaliseEmail(email)
		if msg := r.cfg.ValidateEmail(ctx, email, tenantID); msg != "" {
			c.JSON(http.StatusOK, gin.H{"status": StatusInvalidEmail, "err": msg})
			return
		}
	} else {
		tok, err := r.peekRecoverToken(ctx, r.db, token, tenantID)
		if errors.Is(err, ErrRecoverTokenInvalid) {
			status(c, StatusRecoverTokenInvalid)
			return
		}
		if err != nil {
			r.auth.WriteError(c, err)
			return
		}
		email = tok.Email
	}
	w, rp, err := r.relyingParty(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// A fresh user handle for every passkey: it names no account, and
	// the credential row keeps the one its passkey was made with.
	handle := []byte(kit.Token(32))
	rk := true
	creation, sd, err := w.BeginRegistration(&user{handle: handle, name: email},
		wa.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: registerResidentKeyRequired, RequireResidentKey: &rk,
			UserVerification: protocol.UserVerificationRequirement(r.cfg.UserVerification)}),
		wa.WithConveyancePreference(registerAttestationPreference),
		wa.WithCredentialParameters(credentialParams),
		wa.WithRegistrationRelyingPartyID(rp.ID), wa.WithRegistrationRelyingPartyName(rp.Name))
	if err != nil {
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrInternal, err))
		return
	}
	sd.Expires = time.Time{} // enforced by the row, on ginauth's clock
	id, row, err := r.saveOptions(ctx, tenantID, kindRegister, &email, handle, sd)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	opts := creation.Response
	opts.Timeout = int(r.cfg.OptionsTimeout / time.Millisecond)
	extra := gin.H{}
	if len(opts.CredentialExcludeList) == 0 {
		extra["excludeCredentials"] = []any{}
	}
	body, err := optionsBody(opts, id, row.CreatedAt, row.ExpiresAt, extra)
	if err != nil {
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrInternal, err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, body)
}

// handleSignInOptions serves POST /webauthn/options/signin.
func (r *Recipe) handleSignInOptions(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	if _, err := kit.ReadJSONObject(c, r.cfg.MaxBodyBytes, true); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// The one per-IP unit of a passkey sign-in (handleSignIn counts only
	// against the passkey): options are rows written for anyone who asks,
	// and each buys exactly one verification.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionSignIn, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	w, rp, err := r.relyingParty(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	assertion, sd, err := w.BeginDiscoverableLogin(wa.WithUserVerification(protocol.UserVerificationRequirement(r.cfg.UserVerification)),
		wa.WithLoginRelyingPartyID(rp.ID))
	if err != nil {
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrInternal, err))
		return
	}
	sd.Expires = time.Time{}
	id, row, err := r.saveOptions(ctx, tenantID, kindSignIn, nil, nil, sd)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "webauthnGeneratedOptionsId": id, "rpId": rp.ID,
		"createdAt": row.CreatedAt.UnixMilli(), "expiresAt": row.ExpiresAt.UnixMilli(),
		"challenge": assertion.Response.Challenge.String(), "timeout": int(r.cfg.OptionsTimeout / time.Millisecond),
		"userVerification": string(r.cfg.UserVerification)})
}

// register verifies a registration against options taken for it, and
// returns the new credential, the options' e-mail and user handle, or
// answers the failure (false).
func (r *Recipe) register(c *gin.Context, in ceremony, tenantID string) (*wa.Credential, string, []byte, string, bool) {
	ctx := c.Request.Context()
	opts, err := r.takeOptions(ctx, in.optionsID, kindRegister, tenantID)
	if r.optionsFailed(c, err, false) {
		return nil, "", nil, "", false
	}
	if opts.row.Email == nil {
		status(c, StatusInvalidOptions)
		return nil, "", nil, "", false
	}
	handle, err := base64.RawURLEncoding.DecodeString(opts.row.UserHandle)
	if err != nil {
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrInternal, err))
		return nil, "", nil, "", false
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(in.credential)
	if err != nil {
		r.invalid(c, "", "registration response unreadable", err)
		return nil, "", nil, "", false
	}
	w, rp, err := r.relyingParty(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return nil, "", nil, "", false
	}
	cred, err := w.CreateCredential(&user{handle: handle, name: *opts.row.Email}, opts.session, parsed)
	if err != nil {
		r.invalid(c, *opts.row.Email, "registration rejected", err)
		return nil, "", nil, "", false
	}
	return cred, *opts.row.Email, handle, rp.ID, true
}

// optionsFailed answers a failure to take options; signIn answers every
// kind as invalid credentials, as SuperTokens does.
func (r *Recipe) optionsFailed(c *gin.Context, err error, signIn bool) bool {
	switch {
	case err == nil:
		return false
	case signIn && (errors.Is(err, ErrOptionsNotFound) || errors.Is(err, ErrInvalidOptions)):
		status(c, StatusInvalidCredentials)
	case errors.Is(err, ErrOptionsNotFound):
		status(c, StatusOptionsNotFound)
	case errors.Is(err, ErrInvalidOptions):
		status(c, StatusInvalidOptions)
	default:
		r.auth.WriteError(c, err)
	}
	return true
}

// invalid answers a credential that failed verification, with an event.
func (r *Recipe) invalid(c *gin.Context, account, detail string, err error) {
	r.auth.Logger().DebugContext(c.Request.Context(), "webauthn: "+detail, "error", err)
	r.auth.Emit(c.Request.Context(), ginauth.Event{Type: ginauth.EventSignInFailed, Account: account, IP: c.ClientIP(),
		Detail: "webauthn: " + detail})
	status(c, StatusInvalidCredentials)
}

// handleSignUp serves POST /webauthn/signup {webauthnGeneratedOptionsId,
// credential, shouldTryLinkingWithSessionUser?}.
func (r *Recipe) handleSignUp(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	in, s, ok := r.readLinkingCeremony(c)
	if !ok {
		return
	}
	if s != nil {
		// A passkey added to the signed-in user, as a second factor.
		r.registerForSession(c, s, in, "")
		return
	}
	if _, err := r.auth.CheckSignIn(ctx, tenantID, FactorID); err != nil {
		r.auth.WriteHookError(c, err, StatusSignUpNotAllowed)
		return
	}
	// Not counted here: the register options this sign-up takes (single
	// use) were counted against ActionSignUp when they were made.
	cred, email, handle, rpID, ok := r.register(c, in, tenantID)
	if !ok {
		return
	}
	if !r.linkingAllowsSignUp(c, tenantID, email) {
		return
	}
	userID, err := r.createAccount(ctx, tenantID, email, rpID, handle, cred)
	switch {
	case errors.Is(err, ErrEmailExists):
		status(c, StatusEmailExists)
		return
	case errors.Is(err, ErrInvalidCredential):
		status(c, StatusInvalidCredentials)
		return
	case err != nil:
		r.auth.WriteError(c, err)
		return
	}
	// The new account becomes primary, or joins one, as the app decides
	// (the reference's postAuthChecks); the session is then the primary's.
	if l := r.auth.Linker(); l != nil {
		if _, err := l.LinkOrCreatePrimary(ctx, tenantID, userID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	r.startSession(c, tenantID, StatusSignUpNotAllowed, ginauth.Event{Type: ginauth.EventSignUp, UserID: userID, Account: email})
}

// linkingAllowsSignUp asks account linking, when configured, whether a
// passkey account with the (unverified) email may be created, as the
// reference's webauthn signUpPOST does through isSignUpAllowed; it answers
// the request and returns false when not. A passkey account of that
// address answers EMAIL_ALREADY_EXISTS_ERROR, as there.
func (r *Recipe) linkingAllowsSignUp(c *gin.Context, tenantID, email string) bool {
	l := r.auth.Linker()
	if l == nil {
		return true
	}
	ctx := c.Request.Context()
	ok, err := l.SignUpAllowed(ctx, tenantID, kit.AccountInfo{RecipeID: RecipeID, Email: email}, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	if ok {
		return true
	}
	wu, err := r.findUserByEmail(ctx, r.db, tenantID, email)
	switch {
	case err != nil:
		r.auth.WriteError(c, err)
	case wu != nil:
		status(c, StatusEmailExists)
	default:
		c.JSON(http.StatusOK, gin.H{"status": StatusSignUpNotAllowed, "reason": ReasonSignUpNotAllowed})
	}
	return false
}

// linkSignIn is account linking's part of a passkey sign-in (the
// reference's preAuthChecks and postAuthChecks in signInPOST): an
// unverified passkey account that is not linked cannot sign in next to a
// primary user with its address, and otherwise it is linked as the app
// decides. It answers the request and returns false when refused.
func (r *Recipe) linkSignIn(c *gin.Context, tenantID, userID string) bool {
	l := r.auth.Linker()
	if l == nil {
		return true
	}
	ctx := c.Request.Context()
	ok, err := l.SignInAllowed(ctx, tenantID, userID, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	if !ok {
		// The reference treats this as unreachable (it throws); we
		// answer with its sign-in reason instead of a 500.
		c.JSON(http.StatusOK, gin.H{"status": StatusSignInNotAllowed, "reason": ReasonSignInNotAllowed})
		return false
	}
	if _, err := l.LinkOrCreatePrimary(ctx, tenantID, userID); err != nil {
		r.auth.WriteError(c, err)
		return false
	}
	return true
}

// handleSignIn serves POST /webauthn/signin {webauthnGeneratedOptionsId,
// credential, shouldTryLinkingWithSessionUser?}. With a session and the
// flag, the passkey completes the webauthn factor of that session instead
// of starting a new one, and must be the session user's.
func (r *Recipe) handleSignIn(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	in, s, ok := r.readLinkingCeremony(c)
	if !ok {
		return
	}
	if s != nil {
		tenantID = s.TenantID()
	} else if _, err := r.auth.CheckSignIn(ctx, tenantID, FactorID); err != nil {
		r.auth.WriteHookError(c, err, StatusSignInNotAllowed)
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.credential)
	if err != nil {
		r.invalid(c, "", "authentication response unreadable", err)
		return
	}
	// One sign-in is one unit of ActionSignIn per IP address, taken by
	// its options: the sign-in uses them up before anything else, so
	// every check below is paid for, and only the passkey's own count is
	// taken here. A sign-in without live options checks nothing.
	opts, err := r.takeOptions(ctx, in.optionsID, kindSignIn, tenantID)
	if r.optionsFailed(c, err, true) {
		return
	}
	// Counted per passkey before any check; anything but a success stays
	// counted.
	at, err := r.auth.ReserveAccount(c, ginauth.ActionSignIn, rateKeyPrefix+credentialHash(parsed.RawID))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	defer at.Failed()
	row, err := r.findCredential(ctx, r.db, parsed.RawID)
	if err == nil {
		var ok bool
		if ok, err = r.signsInTo(ctx, row.UserID, tenantID); err == nil && !ok {
			err = ErrCredentialNotFound
		}
	}
	if errors.Is(err, ErrCredentialNotFound) {
		r.invalid(c, b64(parsed.RawID), "unknown credential", err)
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	lc, err := libCredential(row)
	if err != nil {
		r.auth.WriteError(c, ginauth.NewError(ginauth.ErrInternal, err))
		return
	}
	w, _, err := r.relyingParty(c)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	handle, _ := base64.RawURLEncoding.DecodeString(row.UserHandle)
	got, err := w.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (wa.User, error) {
		if !bytes.Equal(userHandle, handle) {
			return nil, errors.New("user handle does not match the credential's")
		}
		return &user{handle: handle, creds: []wa.Credential{lc}}, nil
	}, opts.session, parsed)
	if err != nil {
		r.invalid(c, row.UserID, "assertion rejected", err)
		return
	}
	if got.Authenticator.CloneWarning {
		r.cloned(c, row.UserID, row.CredentialID)
		return
	}
	if err := r.recordUse(ctx, row, parsed.Response.AuthenticatorData.Counter); errors.Is(err, ErrCloned) {
		r.cloned(c, row.UserID, row.CredentialID)
		return
	} else if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	at.Succeeded()
	if s != nil {
		r.completeFactor(c, s, row.UserID)
		return
	}
	if !r.linkSignIn(c, tenantID, row.UserID) {
		return
	}
	r.startSession(c, tenantID, StatusSignInNotAllowed, ginauth.Event{Type: ginauth.EventSignIn, UserID: row.UserID})
}

// startSession signs ev.UserID in with a new session in tenantID, emits ev
// (completed with the session, the client and the recipe) and answers
// with the user; a hook that refuses the session is answered notAllowed.
func (r *Recipe) startSession(c *gin.Context, tenantID, notAllowed string, ev ginauth.Event) {
	ctx := c.Request.Context()
	u, err := r.auth.GetUser(ctx, ev.UserID)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	sess, err := r.auth.CreateSession(c, ginauth.NewSession{UserID: ev.UserID, RecipeUserID: ev.UserID, TenantID: tenantID, Factor: FactorID})
	if err != nil {
		r.auth.WriteHookError(c, err, notAllowed)
		return
	}
	ev.SessionHandle, ev.IP, ev.Detail = sess.Handle(), c.ClientIP(), RecipeID
	r.auth.Emit(ctx, ev)
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "user": u})
}

// cloned refuses an assertion whose signature counter did not increase:
// two copies of the private key are in use. The event lets the app
// react (revoke the passkey, alert the user).
func (r *Recipe) cloned(c *gin.Context, userID, credentialID string) {
	r.auth.Emit(c.Request.Context(), ginauth.Event{Type: ginauth.EventCredentialCloned, UserID: userID, IP: c.ClientIP(),
		Detail: "webauthn: signature counter did not increase for credential " + credentialID})
	status(c, StatusInvalidCredentials)
}

// completeFactor marks the webauthn factor completed in s after a passkey
// of credUserID was verified (or registered). As the reference's
// postAuthChecks, the passkey counts when its user's group holds the
// session's login method (rsub): a passkey of any login method linked to
// the session's primary user, not another account's.
func (r *Recipe) completeFactor(c *gin.Context, s *ginauth.Session, credUserID string) {
	ctx := c.Request.Context()
	u, err := r.auth.GetUser(ctx, credUserID)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if !hasLoginMethod(u, s.RecipeUserID()) {
		c.JSON(http.StatusOK, gin.H{"status": StatusSignInNotAllowed, "reason": "This passkey belongs to another account."})
		return
	}
	if r.mfa != nil {
		if err := r.mfa.MarkFactorCompleted(ctx, s, FactorID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "user": u})
}

// hasLoginMethod reports whether u (a user and its linked group) has a
// login method of recipeUserID.
func hasLoginMethod(u *ginauth.User, recipeUserID string) bool {
	for _, m := range u.LoginMethods {
		if m.RecipeUserID == recipeUserID {
			return true
		}
	}
	return false
}

// passkeyMethods returns u's passkey login methods (those of its whole
// linked group).
func passkeyMethods(u *ginauth.User) []ginauth.LoginMethod {
	var out []ginauth.LoginMethod
	for _, m := range u.LoginMethods {
		if m.RecipeID == RecipeID {
			out = append(out, m)
		}
	}
	return out
}

// registerForSession adds a passkey to the signed-in account (SuperTokens'
// registerCredentialPOST, and sign-up linked to a session): with
// multifactorauth, only when the session may set the factor up, and the
// factor is then completed in the session. recipeUserID is the passkey
// login method named by registerCredentialPOST ("" on sign-up): one of the
// session's group, as the reference's check of the session user's login
// methods, or the session's user when it has none yet. On sign-up the
// passkey joins the group's passkey login method with the options' e-mail,
// or starts one on the session's user.
func (r *Recipe) registerForSession(c *gin.Context, s *ginauth.Session, in ceremony, recipeUserID string) {
	ctx := c.Request.Context()
	if r.mfa != nil {
		if err := r.mfa.AssertAllowedToSetUp(ctx, s, FactorID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	u, err := r.auth.GetUser(ctx, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	methods := passkeyMethods(u)
	var named *ginauth.LoginMethod
	for i := range methods {
		if methods[i].RecipeUserID == recipeUserID {
			named = &methods[i]
		}
	}
	if recipeUserID != "" && named == nil && recipeUserID != s.UserID() {
		c.JSON(http.StatusOK, gin.H{"status": StatusGeneralError, "message": "User not found"})
		return
	}
	cred, email, handle, rpID, ok := r.register(c, in, s.TenantID())
	if !ok {
		return
	}
	if named == nil && recipeUserID == "" {
		for i := range methods {
			if methods[i].Email == email {
				named = &methods[i]
			}
		}
	}
	target := s.UserID()
	if named != nil {
		target = named.RecipeUserID
	}
	// The options must have been made for the passkey login method's
	// address, or for one of the account's addresses when it starts one.
	wu, err := r.findUser(ctx, r.db, target)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if (wu != nil && wu.Email != email) || (wu == nil && !containsFold(u.Emails, email)) {
		c.JSON(http.StatusOK, gin.H{"status": StatusGeneralError, "message": "Email mismatch"})
		return
	}
	err = r.addCredential(ctx, s, target, s.TenantID(), email, rpID, handle, cred)
	switch {
	case errors.Is(err, ErrInvalidCredential), errors.Is(err, ErrEmailExists):
		c.JSON(http.StatusOK, gin.H{"status": StatusRegisterNotAllowed,
			"reason": "Cannot register credential due to security reasons. Please try logging in, use a different login method or contact support. (ERR_CODE_007)"})
		return
	case err != nil:
		r.auth.WriteError(c, err)
		return
	}
	r.completeFactor(c, s, target)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// handleRegisterCredential serves POST /webauthn/credential {recipeUserId,
// webauthnGeneratedOptionsId, credential}.
func (r *Recipe) handleRegisterCredential(c *gin.Context) {
	s, ok := r.factorSession(c)
	if !ok {
		return
	}
	obj, in, ok := r.readCeremonyBody(c)
	if !ok {
		return
	}
	rid, err := kit.StringField(obj, "recipeUserId", maxIDBytes, true)
	if err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the recipeUserId"))
		return
	}
	r.registerForSession(c, s, in, rid)
}

// handleListCredentials serves GET /webauthn/credential/list.
func (r *Recipe) handleListCredentials(c *gin.Context) {
	s, ok := r.factorSession(c)
	if !ok {
		return
	}
	// The passkeys of every passkey login method of the session's user
	// and its linked group, as the reference's listCredentialsGET.
	ids, err := r.passkeyUserIDs(c.Request.Context(), s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	list, err := r.listCredentials(c.Request.Context(), ids)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "credentials": list})
}

// handleRemoveCredential serves POST /webauthn/credential/remove
// {webauthnCredentialId}. With multifactorauth the session must meet its
// requirements, as supertokens-node's removeCredentialPOST asks:
// otherwise a stolen password would be enough to drop the user's passkey.
func (r *Recipe) handleRemoveCredential(c *gin.Context) {
	s, ok := r.factorSession(c)
	if !ok {
		return
	}
	obj, ok := r.readBody(c)
	if !ok {
		return
	}
	id, err := kit.StringField(obj, "webauthnCredentialId", 2048, true)
	if err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("A valid webauthnCredentialId is required"))
		return
	}
	ctx := c.Request.Context()
	if r.mfa != nil {
		if err := s.AssertClaims(ctx, r.mfa.Claim().IsSatisfied()); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	// Any passkey login method of the session's group may hold it, as the
	// reference's removeCredentialPOST looks through the user's methods.
	ids, err := r.passkeyUserIDs(ctx, s.UserID())
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	err = r.removeCredential(ctx, s, ids, id)
	if errors.Is(err, ErrCredentialNotFound) {
		status(c, StatusCredentialNotFound)
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	status(c, StatusOK)
}

// handleEmailExists serves GET /webauthn/email/exists?email=.
func (r *Recipe) handleEmailExists(c *gin.Context) {
	raw, ok := c.GetQuery("email")
	if !ok || strings.TrimSpace(raw) == "" {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email as a GET param"))
		return
	}
	if !utf8.ValidString(raw) || len(raw) > maxEmailBytes {
		r.auth.WriteError(c, ginauth.BadRequest("the email GET param is not a valid e-mail address"))
		return
	}
	// Counted per client address, so that it cannot walk a list.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionExistsCheck, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	wu, err := r.findUserByEmail(c.Request.Context(), r.db, ginauth.TenantID(c), ginauth.NormaliseEmail(raw))
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": StatusOK, "exists": wu != nil})
}

// RecoverAccountLink returns the link a recovery e-mail carries, which
// the frontend SDKs read: <websiteDomain><websiteBasePath>/webauthn/recover?token=...&tenantId=...
func (r *Recipe) RecoverAccountLink(tenantID, token string) string {
	info := r.auth.AppInfo()
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	q := url.Values{"token": {token}, "tenantId": {tenantID}}
	return info.WebsiteDomain + info.WebsiteBasePath + recoverWebsitePath + "?" + q.Encode()
}

// ReasonRecoverNotAllowed is the reason of a RECOVER_ACCOUNT_NOT_ALLOWED:
// the address is an unverified one of a primary user that has other
// addresses or phone numbers (the reference's ERR_CODE_001).
const ReasonRecoverNotAllowed = "Recover account link was not created because of account take over risk. Please contact support. (ERR_CODE_001)"

// linkDecider is account linking's ShouldLink (an interface, so that this
// recipe does not import it).
type linkDecider interface {
	ShouldLink(ctx context.Context, tenantID string, info kit.AccountInfo, primary *ginauth.User) (link, requireVerification bool, err error)
}

// recoverTarget decides whom a recovery token for addr is made for, as the
// reference's generateRecoverAccountTokenPOST: the passkey login method
// with addr; with account linking, the primary user with addr when it has
// none, if linking would take a new passkey login method into it and
// isSignUpAllowed agrees (the recovery then makes one). userID is "" when
// no e-mail is to be sent; notAllowed when the address is an unverified
// one of a primary user with other addresses or phone numbers (a takeover
// risk).
func (r *Recipe) recoverTarget(ctx context.Context, tenantID, addr string) (userID string, notAllowed bool, err error) {
	wu, err := r.findUserByEmail(ctx, r.db, tenantID, addr)
	if err != nil {
		return "", false, err
	}
	l := r.auth.Linker()
	var primary *ginauth.User
	if l != nil {
		users, _, err := r.auth.ListUsers(ctx, ginauth.ListUsersOptions{Email: addr, TenantID: tenantID, Limit: ginauth.MaxListUsersLimit})
		if err != nil {
			return "", false, err
		}
		for i := range users {
			if users[i].IsPrimaryUser {
				primary = &users[i]
				break
			}
		}
	}
	if primary == nil {
		if wu == nil {
			return "", false, nil
		}
		return wu.UserID, false, nil
	}
	verified, other := false, false
	for _, m := range primary.LoginMethods {
		same := m.Email != "" && ginauth.NormaliseEmail(m.Email) == addr
		verified = verified || (same && m.Verified)
		other = other || (m.Email != "" && !same) || m.PhoneNumber != ""
	}
	if !verified && other {
		return "", true, nil
	}
	if wu != nil {
		return wu.UserID, false, nil
	}
	d, ok := l.(linkDecider)
	if !ok {
		return "", false, nil
	}
	info := kit.AccountInfo{RecipeID: RecipeID, Email: addr}
	link, _, err := d.ShouldLink(ctx, tenantID, info, primary)
	if err != nil || !link {
		return "", false, err
	}
	// The recovery will verify the address it was mailed to.
	allowed, err := l.SignUpAllowed(ctx, tenantID, info, true)
	if err != nil || !allowed {
		return "", false, err
	}
	return primary.ID, false, nil
}

// sendRecoverMail makes a recovery token for userID and addr and mails
// its link.
func (r *Recipe) sendRecoverMail(ctx context.Context, tenantID, userID, addr string) error {
	token, err := r.createRecoverToken(ctx, userID, addr, tenantID)
	if err != nil {
		return err
	}
	link := r.RecoverAccountLink(tenantID, token)
	app := r.auth.AppInfo().AppName
	text := fmt.Sprintf("Someone asked to recover the %s account of %s. Open this link to register a new passkey (it works once, for %s):\n\n%s\n\nIf it was not you, ignore this e-mail.\n",
		app, addr, r.cfg.RecoverTokenLifetime, link)
	mail := emaildelivery.Email{To: addr, Subject: recoverMailSubject, Text: text, Kind: recoverMailKind, Link: link}
	if err := r.sender.Send(ctx, mail); err != nil {
		return fmt.Errorf("user %s: %w", userID, err)
	}
	return nil
}

// handleRecoverToken serves POST /user/webauthn/reset/token {email}. It
// answers OK whether or not the address has an account (unless account
// linking refuses, with the reference's RECOVER_ACCOUNT_NOT_ALLOWED), and
// mails in the background so that the time taken tells little either
// (nothing, without account linking: then even the look-up is there).
func (r *Recipe) handleRecoverToken(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, ok := r.readBody(c)
	if !ok {
		return
	}
	email, err := kit.StringField(obj, "email", maxEmailBytes, true)
	if err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the email"))
		return
	}
	addr := ginauth.NormaliseEmail(email)
	// Every request counts against the address, which caps the mail it
	// can be sent.
	if err := r.auth.CheckRateLimit(c, ginauth.ActionPasswordReset, rateKeyPrefix+addr); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// With account linking the decision may refuse, so it is made before
	// answering; without, all of it happens in the background.
	linking := r.auth.Linker() != nil
	var userID string
	if linking {
		id, notAllowed, err := r.recoverTarget(ctx, tenantID, addr)
		if err != nil {
			r.auth.WriteError(c, err)
			return
		}
		if notAllowed {
			c.JSON(http.StatusOK, gin.H{"status": StatusRecoverNotAllowed, "reason": ReasonRecoverNotAllowed})
			return
		}
		userID = id
	}
	r.mailWG.Add(1)
	go func() {
		defer r.mailWG.Done()
		time.Sleep(20*time.Millisecond + time.Duration(rand.Int64N(int64(180*time.Millisecond))))
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundMailSendTimeout)
		defer cancel()
		id := userID
		if !linking {
			var err error
			if id, _, err = r.recoverTarget(ctx, tenantID, addr); err != nil {
				r.auth.Logger().ErrorContext(ctx, "webauthn: looking up the account to recover failed", "error", err)
				return
			}
		}
		if id == "" {
			return
		}
		if err := r.sendRecoverMail(ctx, tenantID, id, addr); err != nil {
			r.auth.Logger().ErrorContext(ctx, "webauthn: the recovery e-mail was not sent", "error", err)
		}
	}()
	status(c, StatusOK)
}

// handleRecover serves POST /user/webauthn/reset {token,
// webauthnGeneratedOptionsId, credential}: the token's user gets the new
// passkey. The token is used up only by a registration that succeeds.
func (r *Recipe) handleRecover(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), ginauth.TenantID(c)
	obj, in, ok := r.readCeremonyBody(c)
	if !ok {
		return
	}
	if !has(obj, "token") {
		r.auth.WriteError(c, ginauth.BadRequest("Please provide the recover account token"))
		return
	}
	token, err := kit.StringField(obj, "token", maxIDBytes, true)
	if err != nil {
		r.auth.WriteError(c, ginauth.BadRequest("The recover account token must be a string"))
		return
	}
	if err := r.auth.CheckRateLimit(c, ginauth.ActionCodeEntry, ""); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	tok, err := r.peekRecoverToken(ctx, r.db, token, tenantID)
	if errors.Is(err, ErrRecoverTokenInvalid) {
		status(c, StatusRecoverTokenInvalid)
		return
	}
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	cred, email, handle, rpID, ok := r.register(c, in, tenantID)
	if !ok {
		return
	}
	if email != tok.Email {
		status(c, StatusInvalidOptions)
		return
	}
	err = r.recoverTx(ctx, tok.TokenHash, tok.UserID, tenantID, email, rpID, handle, cred)
	switch {
	case errors.Is(err, ErrRecoverTokenInvalid), errors.Is(err, ErrEmailExists):
		// ErrEmailExists: a passkey login method with the address was made
		// since the token (for a primary user without one) was: the user
		// asks again, as the reference answers.
		status(c, StatusRecoverTokenInvalid)
		return
	case errors.Is(err, ErrInvalidCredential):
		status(c, StatusInvalidCredentials)
		return
	case err != nil:
		r.auth.WriteError(c, err)
		return
	}
	r.auth.Emit(ctx, ginauth.Event{Type: ginauth.EventPasswordReset, UserID: tok.UserID, IP: c.ClientIP(), Detail: "webauthn: account recovered with a new passkey"})
	// Only after the new passkey is stored, as the reference does: a
	// recovery that failed must not verify an address someone else may
	// have signed up with. A failure here is a 5xx (the reference throws);
	// the passkey stays, and the address can be verified by the usual link.
	if err := r.markVerified(ctx, tok.UserID, email); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	// Then linked as the app decides (the reference's
	// tryLinkingByAccountInfoOrCreatePrimaryUser after the recovery): the
	// now verified passkey login method joins the primary user with its
	// address, or becomes one.
	if l := r.auth.Linker(); l != nil {
		if _, err := l.LinkOrCreatePrimary(ctx, tenantID, tok.UserID); err != nil {
			r.auth.WriteError(c, err)
			return
		}
	}
	status(c, StatusOK)
}

// emailVerifier is what the emailverification recipe offers (an interface,
// so that this recipe does not import it).
type emailVerifier interface {
	MarkVerified(ctx context.Context, userID, email string) error
}

// markVerified records the address a recovery link was mailed to as
// verified, when an emailverification recipe is configured: opening the
// link proved the user reads that mailbox.
func (r *Recipe) markVerified(ctx context.Context, userID, email string) error {
	rc, ok := r.auth.Recipe("emailverification")
	if !ok {
		return nil
	}
	if ev, ok := rc.(emailVerifier); ok {
		return ev.MarkVerified(ctx, userID, email)
	}
	return nil
}
