package emailverification

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/kit"
)

// The Go API. User ids are recipe user ids; without account linking they
// are the users' ids.

// GetEmail returns the address to verify for a user (Config.GetEmail, or
// the first login method's e-mail). ok is false when the user has none; an
// unknown user gives an error matching ginauth.ErrNotFound.
func (r *Recipe) GetEmail(ctx context.Context, userID string) (email string, ok bool, err error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return "", false, err
	}
	return r.getEmail(ctx, userID)
}

func (r *Recipe) getEmail(ctx context.Context, userID string) (string, bool, error) {
	if r.cfg.GetEmail != nil {
		return r.cfg.GetEmail(ctx, userID)
	}
	u, err := r.auth.GetUser(ctx, userID)
	if err != nil {
		return "", false, err
	}
	for _, m := range u.LoginMethods {
		if m.Email != "" && m.RecipeUserID == userID {
			return m.Email, true, nil
		}
	}
	if u.IsPrimaryUser {
		// A linked login method without an address has none to verify,
		// as in the reference: another method's is not its own.
		return "", false, nil
	}
	for _, m := range u.LoginMethods {
		if m.Email != "" {
			return m.Email, true, nil
		}
	}
	return "", false, nil
}

// IsVerified reports whether userID has verified email.
func (r *Recipe) IsVerified(ctx context.Context, userID, email string) (bool, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return false, err
	}
	var n int64
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Model(&models.VerifiedEmail{}).
		Where("user_id = ? AND email = ?", userID, ginauth.NormaliseEmail(email)).Limit(1).Count(&n).Error
	if err != nil {
		return false, ginauth.DBError(err)
	}
	return n > 0, nil
}

// CreateVerificationToken makes a single-use token that verifies email for
// userID in tenantID ("" means the default tenant) and returns it; only its
// hash is stored. It returns ErrEmailAlreadyVerified when there is nothing
// to verify. At most a few unexpired tokens are kept per address: making
// another drops the oldest.
func (r *Recipe) CreateVerificationToken(ctx context.Context, tenantID, userID, email string) (string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return "", err
	}
	email = ginauth.NormaliseEmail(email)
	if userID == "" || email == "" {
		return "", ginauth.BadRequest("a verification token needs a user id and an e-mail address")
	}
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	verified, err := r.IsVerified(ctx, userID, email)
	if err != nil {
		return "", err
	}
	if verified {
		return "", ErrEmailAlreadyVerified
	}
	token := kit.Token(32)
	now := r.auth.Now()
	row := models.EmailVerificationToken{TokenHash: kit.HashToken(token), UserID: userID, Email: email, TenantID: tenantID,
		CreatedAt: now, ExpiresAt: now.Add(r.cfg.TokenLifetime)}
	// Parallel sends for one user take turns on the user's row, where the
	// database has row locks: without it, MySQL's gap locks on the delete
	// below deadlock them. A deadlock that happens anyway is run again.
	err = kit.RetryTransaction(r.auth.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		if tx.Dialector.Name() != "sqlite" {
			var id string
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Table(models.TableUsers).
				Where("id = ?", userID).Select("id").Scan(&id).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("user_id = ? AND email = ? AND expires_at <= ?", userID, email, now).
			Delete(&models.EmailVerificationToken{}).Error; err != nil {
			return err
		}
		var live []string
		if err := tx.Model(&models.EmailVerificationToken{}).Where("user_id = ? AND email = ?", userID, email).
			Order("created_at DESC").Pluck("token_hash", &live).Error; err != nil {
			return err
		}
		if len(live) >= maxLiveTokens {
			if err := tx.Where("token_hash IN ?", live[maxLiveTokens-1:]).Delete(&models.EmailVerificationToken{}).Error; err != nil {
				return err
			}
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return "", ginauth.DBError(err)
	}
	return token, nil
}

// VerifyUsingToken consumes a token made for tenantID ("" means the
// default tenant) and marks its address verified, in one transaction. It
// returns the user and address, or ErrInvalidToken when the token is
// unknown, already used, expired or made for another tenant.
func (r *Recipe) VerifyUsingToken(ctx context.Context, tenantID, token string) (userID, email string, err error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return "", "", err
	}
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	if token == "" || len(token) > 256 {
		return "", "", ErrInvalidToken
	}
	hash := kit.HashToken(token)
	now := r.auth.Now()
	var row models.EmailVerificationToken
	expired := false
	// Retried: on MariaDB, verifications of one address racing (its
	// tokens deleted together by markVerified) deadlock on the tokens'
	// index (TestConcurrentVerificationOfTwoMethods in accountlinking).
	err = kit.RetryTransaction(r.auth.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		expired = false
		// A write that changes nothing comes first, so that SQLite takes
		// its write lock before the read (a read lock upgraded later is
		// SQLITE_BUSY at once under concurrent verifications) and the
		// other databases lock the token's row.
		if err := tx.Model(&models.EmailVerificationToken{}).Where("token_hash = ?", hash).
			Update("token_hash", gorm.Expr("token_hash")).Error; err != nil {
			return err
		}
		err := tx.Where("token_hash = ? AND tenant_id = ?", hash, tenantID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrInvalidToken
		}
		if err != nil {
			return err
		}
		res := tx.Where("token_hash = ?", hash).Delete(&models.EmailVerificationToken{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 { // a concurrent request used it first
			return ErrInvalidToken
		}
		if !row.ExpiresAt.After(now) {
			expired = true // commit the deletion, then refuse
			return nil
		}
		return markVerified(tx, row.UserID, row.Email, now)
	})
	if errors.Is(err, ErrInvalidToken) {
		return "", "", err
	}
	if err != nil {
		return "", "", ginauth.DBError(err)
	}
	if expired {
		return "", "", ErrInvalidToken
	}
	if r.cfg.AfterVerify != nil {
		if err := r.cfg.AfterVerify(ctx, row.UserID, row.Email); err != nil {
			r.auth.Logger().WarnContext(ctx, "emailverification: AfterVerify failed", "userId", row.UserID, "error", err)
		}
	}
	// A newly verified address may now link the user to the primary user
	// with the same verified address, or make it one (the reference's
	// verifyEmailPOST linking step). The verification stands if linking
	// fails: the next sign-in tries again.
	if l := r.auth.Linker(); l != nil {
		if _, err := l.LinkOrCreatePrimary(ctx, tenantID, row.UserID); err != nil {
			r.auth.Logger().WarnContext(ctx, "emailverification: account linking after verification failed", "userId", row.UserID, "error", err)
		}
	}
	return row.UserID, row.Email, nil
}

// markVerified records the address as verified and drops its pending
// tokens.
func markVerified(tx *gorm.DB, userID, email string, now time.Time) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&models.VerifiedEmail{UserID: userID, Email: email, VerifiedAt: now}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ? AND email = ?", userID, email).Delete(&models.EmailVerificationToken{}).Error
}

// MarkVerified records that userID has verified email, without a token
// (for imports, admin tools, or addresses a trusted provider vouched for),
// and updates the st-ev claim stored with the user's sessions, which their
// clients see at the next refresh.
func (r *Recipe) MarkVerified(ctx context.Context, userID, email string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	email = ginauth.NormaliseEmail(email)
	if userID == "" || email == "" {
		return ginauth.BadRequest("marking an address verified needs a user id and an e-mail address")
	}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		return markVerified(tx, userID, email, r.auth.Now())
	})
	if err != nil {
		return ginauth.DBError(err)
	}
	return r.syncSessions(ctx, userID)
}

// MarkUnverified records that userID has not verified email (say, after
// the address changed hands), and updates the st-ev claim stored with the
// user's sessions so that a required verification applies again from
// their next refresh at the latest.
func (r *Recipe) MarkUnverified(ctx context.Context, userID, email string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("user_id = ? AND email = ?", userID, ginauth.NormaliseEmail(email)).
		Delete(&models.VerifiedEmail{}).Error
	if err != nil {
		return ginauth.DBError(err)
	}
	return r.syncSessions(ctx, userID)
}

// RevokeVerificationTokens deletes the user's unused tokens for email, so
// that links already sent stop working.
func (r *Recipe) RevokeVerificationTokens(ctx context.Context, userID, email string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("user_id = ? AND email = ?", userID, ginauth.NormaliseEmail(email)).
		Delete(&models.EmailVerificationToken{}).Error
	return ginauth.DBError(err)
}

// syncSessions stores the claim's current value with every live session of
// the user.
func (r *Recipe) syncSessions(ctx context.Context, userID string) error {
	v, ok, err := r.fetchClaim(ctx, userID, "")
	if err != nil || !ok {
		return err
	}
	sessions, err := r.auth.ListSessions(ctx, userID)
	if err != nil {
		return err
	}
	update := r.claim.Update(v, r.auth.Now())
	for _, s := range sessions {
		// With account linking the list has the group's sessions; st-ev
		// is each session's login method's own.
		if s.RecipeUserID != "" && s.RecipeUserID != userID {
			continue
		}
		err := r.auth.MergeIntoAccessTokenPayload(ctx, s.Handle, update)
		if err != nil && !errors.Is(err, ginauth.ErrNotFound) && !errors.Is(err, ginauth.ErrUnauthorised) {
			return err // a session that ended meanwhile is no failure
		}
	}
	return nil
}

// SendVerificationEmail makes a token for email (the user's address from
// GetEmail when email is empty) and sends the verification link with the
// configured templates and sender. tenantID ("" means the default tenant)
// is the tenant the token works in. It returns ErrEmailAlreadyVerified when
// there is nothing to verify, and an error matching ErrSendFailed when the
// e-mail could not be rendered or sent.
func (r *Recipe) SendVerificationEmail(ctx context.Context, tenantID, userID, email string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	if tenantID == "" {
		tenantID = ginauth.DefaultTenant
	}
	if email == "" {
		e, ok, err := r.getEmail(ctx, userID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrEmailAlreadyVerified // no address: nothing to verify
		}
		email = e
	}
	token, err := r.CreateVerificationToken(ctx, tenantID, userID, email)
	if err != nil {
		return err
	}
	info := r.auth.AppInfo()
	link := r.auth.WebsiteOrigin(ctx) + info.WebsiteBasePath + "/verify-email?token=" + url.QueryEscape(token) +
		"&tenantId=" + url.QueryEscape(tenantID)
	mail, err := emaildelivery.Compose(r.cfg.Templates, emaildelivery.KindEmailVerification, email, emaildelivery.TemplateData{
		AppName: info.AppName, Link: link, Email: email, ExpiresIn: r.cfg.TokenLifetime,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSendFailed, err)
	}
	if err := r.cfg.EmailSender.Send(ctx, mail); err != nil {
		return fmt.Errorf("%w: %w", ErrSendFailed, err)
	}
	return nil
}

// DeleteExpiredTokens deletes every expired token and returns how many
// went. Expired tokens never work; a user's are also dropped when they ask
// for a new link. Call it from a periodic job to keep the table small.
func (r *Recipe) DeleteExpiredTokens(ctx context.Context) (int64, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return 0, err
	}
	res := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("expires_at <= ?", r.auth.Now()).Delete(&models.EmailVerificationToken{})
	return res.RowsAffected, ginauth.DBError(res.Error)
}
