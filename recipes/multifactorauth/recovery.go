package multifactorauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Recovery codes are 80 random bits written as 16 characters of Crockford's
// base32 alphabet (no i, l, o, u), grouped "xxxx-xxxx-xxxx-xxxx". 80 bits
// make an offline search of a leaked hash hopeless, so the stored value is
// a plain SHA-256 (of the user id and the code): a slow hash such as
// argon2 protects low-entropy secrets like passwords and would add only
// cost here.
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryBytes    = 10
	recoveryLen      = 16
)

var recoveryEncoding = base32.NewEncoding(recoveryAlphabet).WithPadding(base32.NoPadding)

func newRecoveryCode() string {
	b := make([]byte, recoveryBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	s := recoveryEncoding.EncodeToString(b)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// normaliseRecoveryCode lowercases a code, drops separators and maps the
// letters people misread for digits, as Crockford's base32 does. It
// returns "" for anything that cannot be a code.
func normaliseRecoveryCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	var b strings.Builder
	for _, ch := range strings.ToLower(code) {
		switch {
		case ch == '-' || ch == ' ' || ch == '\t':
			continue
		case ch == 'i' || ch == 'l':
			ch = '1'
		case ch == 'o':
			ch = '0'
		}
		if !strings.ContainsRune(recoveryAlphabet, ch) {
			return ""
		}
		b.WriteRune(ch)
	}
	if b.Len() != recoveryLen {
		return ""
	}
	return b.String()
}

func recoveryHash(userID, normalised string) string {
	sum := sha256.Sum256([]byte("ginauth-recovery-code\x00" + userID + "\x00" + normalised))
	return hex.EncodeToString(sum[:])
}

// GenerateRecoveryCodes makes a fresh set of recovery codes for a user
// (Config.RecoveryCodes.Count, default 10) and returns them; show them to
// the user once, they are stored only as hashes. The new set replaces any
// old one, in one transaction. Each code works once.
func (r *Recipe) GenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	return r.generateRecoveryCodes(ctx, nil, userID)
}

// generateRecoveryCodes is GenerateRecoveryCodes; a non-nil s is the
// session of the request, confirmed live in the transaction that replaces
// the codes.
func (r *Recipe) generateRecoveryCodes(ctx context.Context, s *ginauth.Session, userID string) ([]string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, ginauth.BadRequest("the user id is empty")
	}
	now := r.auth.Now()
	codes := make([]string, r.cfg.RecoveryCodes.Count)
	rows := make([]models.RecoveryCode, len(codes))
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = models.RecoveryCode{UserID: userID, CodeHash: recoveryHash(userID, normaliseRecoveryCode(codes[i])), CreatedAt: now}
	}
	err := r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s != nil {
			if err := s.LockTx(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error; err != nil {
			return ginauth.DBError(err)
		}
		return ginauth.DBError(tx.Create(&rows).Error)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RemainingRecoveryCodes returns how many unused recovery codes a user has.
func (r *Recipe) RemainingRecoveryCodes(ctx context.Context, userID string) (int, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return 0, err
	}
	var n int64
	err := r.db.WithContext(kit.DBContext(ctx)).Model(&models.RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return int(n), ginauth.DBError(err)
}

// ConsumeRecoveryCode checks a user's recovery code and marks it used,
// without touching any session. Wrong codes count towards a lockout like
// TOTP's: it returns nil, an *InvalidCodeError or a *LimitReachedError (or
// a database error).
func (r *Recipe) ConsumeRecoveryCode(ctx context.Context, userID, code string) error {
	return r.consumeRecoveryCode(ctx, nil, userID, code, nil)
}

// consumeRecoveryCode is ConsumeRecoveryCode; a non-nil s is the session
// of the request, confirmed live in the transaction that uses the code,
// and a non-nil onOK runs in that transaction once the code was used.
func (r *Recipe) consumeRecoveryCode(ctx context.Context, s *ginauth.Session, userID, code string, onOK func(tx *gorm.DB) error) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	norm := normaliseRecoveryCode(code)
	now := r.auth.Now()
	tenantID := ginauth.DefaultTenant
	if s != nil {
		tenantID = s.TenantID()
	}
	return r.limiter.Attempt(ctx, r.auth, tenantID, userID, func() (ok bool, err error) {
		err = r.db.WithContext(kit.DBContext(ctx)).Transaction(func(tx *gorm.DB) error {
			ok, err = r.useRecoveryCode(ctx, tx, s, userID, norm, now, onOK)
			return err
		})
		return ok, ginauth.DBError(err)
	})
}

// useRecoveryCode marks userID's code used in tx and reports whether it
// was an unused one of theirs.
func (r *Recipe) useRecoveryCode(ctx context.Context, tx *gorm.DB, s *ginauth.Session, userID, norm string, now time.Time, onOK func(tx *gorm.DB) error) (bool, error) {
	if s != nil {
		if err := s.LockTx(ctx, tx); err != nil {
			return false, err
		}
	}
	if norm == "" {
		return false, nil
	}
	res := tx.Model(&models.RecoveryCode{}).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, recoveryHash(userID, norm)).
		Update("used_at", now)
	if res.Error != nil {
		return false, ginauth.DBError(res.Error)
	}
	if res.RowsAffected != 1 {
		return false, nil
	}
	if onOK != nil {
		if err := onOK(tx); err != nil {
			return false, err
		}
	}
	return true, nil
}

// UseRecoveryCode consumes a recovery code of the session's user and marks
// the "recovery-code" factor completed in the session, which meets any
// requirement on the factors in Config.RecoveryCodes.Satisfies (TOTP by
// default). Errors are ConsumeRecoveryCode's, and 401 "unauthorised"
// (nothing consumed) when the session was revoked.
func (r *Recipe) UseRecoveryCode(ctx context.Context, s *ginauth.Session, code string) error {
	update, err := r.CompletionUpdate(ctx, s, FactorRecoveryCode)
	if err != nil {
		return err
	}
	// The code is used up and the factor completed in one transaction.
	var send func() error
	err = r.consumeRecoveryCode(ctx, s, s.UserID(), code, func(tx *gorm.DB) error {
		var err error
		send, err = s.MergeIntoAccessTokenPayloadTx(ctx, tx, update)
		return err
	})
	if err != nil {
		return err
	}
	return send()
}

// GenerateRecoveryCodes is Recipe.GenerateRecoveryCodes on the recipe of
// the instance serving ctx (ginauth.AuthFrom).
func GenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	r, err := current(ctx)
	if err != nil {
		return nil, err
	}
	return r.GenerateRecoveryCodes(ctx, userID)
}

// UseRecoveryCode is Recipe.UseRecoveryCode on the recipe of the default
// instance.
func UseRecoveryCode(ctx context.Context, s *ginauth.Session, code string) error {
	r, ok := FromAuth(s.Auth())
	if !ok {
		return ErrNotSetUp
	}
	return r.UseRecoveryCode(ctx, s, code)
}
