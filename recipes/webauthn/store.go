package webauthn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	wa "github.com/go-webauthn/webauthn/webauthn"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Kinds of generated options.
const (
	kindRegister = "register"
	kindSignIn   = "signin"
)

// DefaultValidateEmail is the e-mail check every recipe uses by default
// (ginauth.ParseEmail), with emailpassword's message.
func DefaultValidateEmail(_ context.Context, email, _ string) string {
	if _, ok := ginauth.ParseEmail(email); !ok {
		return "Email is invalid"
	}
	return ""
}

// credentialHash keys a credential row: the hex SHA-256 of its raw id.
func credentialHash(rawID []byte) string {
	sum := sha256.Sum256(rawID)
	return hex.EncodeToString(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// user adapts a ceremony's user to go-webauthn.
type user struct {
	handle []byte
	name   string
	creds  []wa.Credential
}

func (u *user) WebAuthnID() []byte                   { return u.handle }
func (u *user) WebAuthnName() string                 { return u.name }
func (u *user) WebAuthnDisplayName() string          { return u.name }
func (u *user) WebAuthnCredentials() []wa.Credential { return u.creds }

// storedOptions is a generated-options row, decoded.
type storedOptions struct {
	row     models.WebAuthnOptions
	session wa.SessionData
}

// saveOptions stores a ceremony's state under a new random id, which it
// returns (only its hash is stored).
func (r *Recipe) saveOptions(ctx context.Context, tenantID, kind string, email *string, handle []byte, sd *wa.SessionData) (string, models.WebAuthnOptions, error) {
	raw, err := json.Marshal(sd)
	if err != nil {
		return "", models.WebAuthnOptions{}, ginauth.NewError(ginauth.ErrInternal, err)
	}
	id := kit.Token(32)
	now := r.auth.Now()
	row := models.WebAuthnOptions{IDHash: kit.HashToken(id), TenantID: tenantID, Kind: kind, Email: email, UserHandle: b64(handle),
		Session: string(raw), CreatedAt: now, ExpiresAt: now.Add(r.cfg.OptionsTimeout)}
	if err := r.db.WithContext(kit.DBContext(ctx)).Create(&row).Error; err != nil {
		return "", row, ginauth.DBError(err)
	}
	r.maybeSweep(ctx)
	return id, row, nil
}

// testHookOptionsRead, when set by a test, runs between reading options
// and deleting them: the window two racing requests share.
var testHookOptionsRead func()

// takeOptions uses up generated options: the row is deleted, and only the
// request whose delete removed it gets it, so that a challenge answers one
// ceremony even when two requests race with it. It returns
// ErrOptionsNotFound for unknown or used options and ErrInvalidOptions for
// expired ones or ones made for another kind of ceremony or tenant.
func (r *Recipe) takeOptions(ctx context.Context, id, kind, tenantID string) (*storedOptions, error) {
	db := r.db.WithContext(kit.DBContext(ctx))
	var rows []models.WebAuthnOptions
	if err := db.Where("id_hash = ?", kit.HashToken(id)).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, ErrOptionsNotFound
	}
	row := rows[0]
	if testHookOptionsRead != nil {
		testHookOptionsRead()
	}
	res := db.Where("id_hash = ?", row.IDHash).Delete(&models.WebAuthnOptions{})
	if res.Error != nil {
		return nil, ginauth.DBError(res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, ErrOptionsNotFound // used by a concurrent request
	}
	if row.Kind != kind || row.TenantID != tenantID || !r.auth.Now().Before(row.ExpiresAt) {
		return nil, ErrInvalidOptions
	}
	out := &storedOptions{row: row}
	if err := json.Unmarshal([]byte(row.Session), &out.session); err != nil {
		return nil, ginauth.NewError(ginauth.ErrInternal, err)
	}
	return out, nil
}

// maybeSweep deletes expired options and recovery tokens at most once a
// minute, so that abandoned ceremonies do not pile up.
func (r *Recipe) maybeSweep(ctx context.Context) {
	now := r.auth.Now()
	r.sweepMu.Lock()
	if now.Sub(r.lastSweep) < time.Minute {
		r.sweepMu.Unlock()
		return
	}
	r.lastSweep = now
	r.sweepMu.Unlock()
	db := r.db.WithContext(kit.DBContext(context.WithoutCancel(ctx)))
	for _, m := range []any{&models.WebAuthnOptions{}, &models.WebAuthnRecoverToken{}} {
		if err := db.Where("expires_at < ?", now).Delete(m).Error; err != nil {
			r.auth.Logger().WarnContext(ctx, "webauthn: deleting expired rows failed", "error", err)
		}
	}
}

// credentialRow turns a verified new credential into its row.
// insertCredential stores row; a credential id already stored is
// ErrInvalidCredential (one passkey belongs to one account).
func insertCredential(tx *gorm.DB, row models.WebAuthnCredential) error {
	if err := tx.Create(&row).Error; err != nil {
		if kit.IsUniqueViolation(err) {
			return ErrInvalidCredential
		}
		return ginauth.DBError(err)
	}
	return nil
}

func credentialRow(c *wa.Credential, userID, tenantID, rpID string, handle []byte, now time.Time) models.WebAuthnCredential {
	ts := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		ts[i] = string(t)
	}
	return models.WebAuthnCredential{IDHash: credentialHash(c.ID), CredentialID: b64(c.ID), UserID: userID, TenantID: tenantID,
		RPID: rpID, PublicKey: c.PublicKey, SignCount: int64(c.Authenticator.SignCount), Transports: strings.Join(ts, ","),
		UserHandle: b64(handle), AAGUID: c.Authenticator.AAGUID, AttestationType: c.AttestationType,
		Flags: int(c.Flags.ProtocolValue()), CreatedAt: now}
}

// libCredential turns a row back into go-webauthn's credential.
func libCredential(row *models.WebAuthnCredential) (wa.Credential, error) {
	id, err := base64.RawURLEncoding.DecodeString(row.CredentialID)
	if err != nil {
		return wa.Credential{}, err
	}
	var ts []protocol.AuthenticatorTransport
	for _, t := range strings.Split(row.Transports, ",") {
		if t != "" {
			ts = append(ts, protocol.AuthenticatorTransport(t))
		}
	}
	return wa.Credential{ID: id, PublicKey: row.PublicKey, AttestationType: row.AttestationType, Transport: ts,
		Flags:         wa.NewCredentialFlags(protocol.AuthenticatorFlags(row.Flags)),
		Authenticator: wa.Authenticator{AAGUID: row.AAGUID, SignCount: uint32(row.SignCount)}}, nil
}

// findCredential returns a credential's row by its raw id, or
// ErrCredentialNotFound.
func (r *Recipe) findCredential(ctx context.Context, db *gorm.DB, rawID []byte) (*models.WebAuthnCredential, error) {
	var rows []models.WebAuthnCredential
	if err := db.WithContext(kit.DBContext(ctx)).Where("id_hash = ?", credentialHash(rawID)).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, ErrCredentialNotFound
	}
	return &rows[0], nil
}

// recordUse stores the counter of an accepted assertion. The update only
// applies while the stored counter is below the new one (or both are
// zero, for authenticators without a counter), so that of two assertions
// racing with one counter value only one is accepted; the loser gets
// ErrCloned.
func (r *Recipe) recordUse(ctx context.Context, row *models.WebAuthnCredential, count uint32) error {
	now := r.auth.Now()
	q := r.db.WithContext(kit.DBContext(ctx)).Model(&models.WebAuthnCredential{}).Where("id_hash = ?", row.IDHash)
	if count == 0 {
		q = q.Where("sign_count = 0")
	} else {
		q = q.Where("sign_count < ?", int64(count))
	}
	res := q.Updates(map[string]any{"sign_count": int64(count), "last_used_at": now})
	if res.Error != nil {
		return ginauth.DBError(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrCloned
	}
	return nil
}

// findUserByEmail returns the passkey login method of an address in a
// tenant, or nil.
func (r *Recipe) findUserByEmail(ctx context.Context, db *gorm.DB, tenantID, email string) (*models.WebAuthnUser, error) {
	var rows []models.WebAuthnUser
	// Through ginauth_login_tenants: the tenant it was made in or one its
	// user was associated with.
	db = db.WithContext(kit.DBContext(ctx))
	if err := db.Where("email = ?", email).Where("user_id IN (?)", models.LoginUserIDs(db, tenantID, models.LoginWebAuthn, email)).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// signsInTo reports whether the user's passkeys sign in to the tenant
// (ginauth_login_tenants: its own tenant or one it was associated with).
func (r *Recipe) signsInTo(ctx context.Context, userID, tenantID string) (bool, error) {
	var n int64
	err := r.db.WithContext(kit.DBContext(ctx)).Model(&models.LoginTenant{}).
		Where("tenant_id = ? AND method = ? AND user_id = ?", tenantID, models.LoginWebAuthn, userID).Limit(1).Count(&n).Error
	return n > 0, ginauth.DBError(err)
}

// findUser returns a user's passkey login method, or nil.
func (r *Recipe) findUser(ctx context.Context, db *gorm.DB, userID string) (*models.WebAuthnUser, error) {
	var rows []models.WebAuthnUser
	if err := db.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// createAccount stores a new user with its passkey login method and first
// credential in one transaction. The key of ginauth_login_tenants
// settles concurrent sign-ups for one address (ErrEmailExists), the
// primary key on the credential's id a passkey registered twice
// (ErrInvalidCredential).
func (r *Recipe) createAccount(ctx context.Context, tenantID, email, rpID string, handle []byte, c *wa.Credential) (string, error) {
	var userID string
	err := r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		id, joined, err := r.auth.CreateUser(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := tx.Create(&models.WebAuthnUser{UserID: id, TenantID: tenantID, Email: email, TimeJoined: joined}).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return ErrEmailExists
			}
			return ginauth.DBError(err)
		}
		if err := insertCredential(tx, credentialRow(c, id, tenantID, rpID, handle, joined)); err != nil {
			return err
		}
		userID = id
		return nil
	})
	return userID, err
}

// addCredential stores a new passkey for an existing user, creating the
// user's passkey login method with email when they have none (a passkey
// added as a second factor). A non-nil s is the request's session,
// confirmed live in the transaction.
func (r *Recipe) addCredential(ctx context.Context, s *ginauth.Session, userID, tenantID, email, rpID string, handle []byte, c *wa.Credential) error {
	return r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return err
			}
		}
		return r.putCredential(ctx, tx, userID, tenantID, email, rpID, handle, c)
	})
}

// putCredential stores c for userID in tx, first making userID's passkey
// login method with email in tenantID when it has none. Another passkey
// login method of email in the tenant is ErrEmailExists.
func (r *Recipe) putCredential(ctx context.Context, tx *gorm.DB, userID, tenantID, email, rpID string, handle []byte, c *wa.Credential) error {
	now := r.auth.Now()
	wu, err := r.findUser(ctx, tx, userID)
	if err != nil {
		return err
	}
	if wu == nil {
		if err := tx.Create(&models.WebAuthnUser{UserID: userID, TenantID: tenantID, Email: email, TimeJoined: now}).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return ErrEmailExists
			}
			return ginauth.DBError(err)
		}
	} else {
		tenantID = wu.TenantID
	}
	return insertCredential(tx, credentialRow(c, userID, tenantID, rpID, handle, now))
}

// Credential describes a registered passkey.
type Credential struct {
	WebAuthnCredentialID string `json:"webauthnCredentialId"`
	RelyingPartyID       string `json:"relyingPartyId"`
	RecipeUserID         string `json:"recipeUserId"`
	CreatedAt            int64  `json:"createdAt"`
}

// ListCredentials returns a user's passkeys, oldest first.
func (r *Recipe) ListCredentials(ctx context.Context, userID string) ([]Credential, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	return r.listCredentials(ctx, []string{userID})
}

// passkeyUserIDs returns the recipe users of userID's passkey login
// methods: its own and those of its linked group.
func (r *Recipe) passkeyUserIDs(ctx context.Context, userID string) ([]string, error) {
	u, err := r.auth.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, m := range passkeyMethods(u) {
		ids = append(ids, m.RecipeUserID)
	}
	return ids, nil
}

// listCredentials returns the passkeys of the recipe users userIDs, oldest
// first.
func (r *Recipe) listCredentials(ctx context.Context, userIDs []string) ([]Credential, error) {
	out := []Credential{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []models.WebAuthnCredential
	if err := r.db.WithContext(kit.DBContext(ctx)).Where("user_id IN ?", userIDs).Order("created_at, id_hash").Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	for _, c := range rows {
		out = append(out, Credential{WebAuthnCredentialID: c.CredentialID, RelyingPartyID: c.RPID, RecipeUserID: c.UserID, CreatedAt: c.CreatedAt.UnixMilli()})
	}
	return out, nil
}

// RemoveCredential deletes one of a user's passkeys, or returns
// ErrCredentialNotFound.
func (r *Recipe) RemoveCredential(ctx context.Context, userID, credentialID string) error {
	return r.removeCredential(ctx, nil, []string{userID}, credentialID)
}

// removeCredential deletes the passkey credentialID when one of the recipe
// users userIDs holds it.
func (r *Recipe) removeCredential(ctx context.Context, s *ginauth.Session, userIDs []string, credentialID string) error {
	if err := r.ready(); err != nil {
		return err
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(credentialID, "="))
	if err != nil {
		return ErrCredentialNotFound
	}
	return r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return err
			}
		}
		if len(userIDs) == 0 {
			return ErrCredentialNotFound
		}
		res := tx.Where("id_hash = ? AND user_id IN ?", credentialHash(raw), userIDs).Delete(&models.WebAuthnCredential{})
		if res.Error != nil {
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrCredentialNotFound
		}
		return nil
	})
}

// createRecoverToken stores a recovery token for userID and email, usable
// in tenantID (where the request came, not always the account's own
// tenant), and returns it.
func (r *Recipe) createRecoverToken(ctx context.Context, userID, email, tenantID string) (string, error) {
	token := kit.Token(32)
	now := r.auth.Now()
	row := models.WebAuthnRecoverToken{MailedToken: models.MailedToken{TokenHash: kit.HashToken(token), UserID: userID,
		TenantID: tenantID, Email: email, CreatedAt: now, ExpiresAt: now.Add(r.cfg.RecoverTokenLifetime)}}
	if err := r.db.WithContext(kit.DBContext(ctx)).Create(&row).Error; err != nil {
		return "", ginauth.DBError(err)
	}
	return token, nil
}

// peekRecoverToken returns a live recovery token's row without using it
// up, or ErrRecoverTokenInvalid. The token must still match the user's
// passkey e-mail.
func (r *Recipe) peekRecoverToken(ctx context.Context, db *gorm.DB, token, tenantID string) (*models.WebAuthnRecoverToken, error) {
	var rows []models.WebAuthnRecoverToken
	if err := db.WithContext(kit.DBContext(ctx)).Where("token_hash = ?", kit.HashToken(token)).Limit(1).Find(&rows).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	if len(rows) == 0 || rows[0].TenantID != tenantID || !r.auth.Now().Before(rows[0].ExpiresAt) {
		return nil, ErrRecoverTokenInvalid
	}
	wu, err := r.findUser(ctx, db, rows[0].UserID)
	if err != nil {
		return nil, err
	}
	if wu != nil && wu.Email != rows[0].Email {
		return nil, ErrRecoverTokenInvalid
	}
	if wu == nil {
		// A token made for a primary user without a passkey login method
		// (recovery then adds one): its user must still exist, as the
		// reference's recoverAccountPOST asks getUser.
		var n int64
		if err := db.WithContext(kit.DBContext(ctx)).Model(&models.User{}).Where("id = ?", rows[0].UserID).Count(&n).Error; err != nil {
			return nil, ginauth.DBError(err)
		}
		if n == 0 {
			return nil, ErrRecoverTokenInvalid
		}
	}
	return &rows[0], nil
}

// recoverTx uses up a recovery token and stores the new passkey of its
// user in one transaction: of two requests racing with one token, only
// the one whose delete removed it registers a passkey. A token made for a
// primary user without a passkey login method makes one with email.
func (r *Recipe) recoverTx(ctx context.Context, tokenHash, userID, tenantID, email, rpID string, handle []byte, c *wa.Credential) error {
	return r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("token_hash = ?", tokenHash).Delete(&models.WebAuthnRecoverToken{})
		if res.Error != nil {
			return ginauth.DBError(res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrRecoverTokenInvalid
		}
		return r.putCredential(ctx, tx, userID, tenantID, email, rpID, handle, c)
	})
}
