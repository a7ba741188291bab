package ginauth

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/models"
)

// Sensitive routes (Route.Sensitive) change a user's credentials or
// factors. A revoked session's access token stays valid until it expires,
// and the verified-token cache never consults the database, so on these
// routes every session check also looks the session up (as
// VerifyOptions.CheckDatabase does), and their writes confirm the session
// again inside their own transaction (Session.LockTx).

type sensitiveKey struct{}

// markSensitive wraps the handler of a sensitive route.
func markSensitive(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(sensitiveKey{}, true)
		h(c)
	}
}

// IsSensitive reports whether c is a request to a route registered with
// Route.Sensitive, on which every session check reads the database.
func IsSensitive(c *gin.Context) bool {
	if c == nil {
		return false
	}
	_, ok := c.Get(sensitiveKey{})
	return ok
}

// LockTx confirms, inside the caller's transaction tx, that the session is
// still live, and holds its row until tx ends: a concurrent revocation
// then either commits first (LockTx answers 401 "unauthorised" and the
// caller rolls back, writing nothing) or waits for tx to commit. Sensitive
// routes call it first in the transaction that writes the change. On
// PostgreSQL and MySQL it reads the row FOR UPDATE; on SQLite it writes the
// row to itself, so that SQLite takes its write lock at once.
func (s *Session) LockTx(ctx context.Context, tx *gorm.DB) error {
	if s.revoked {
		return revokedError()
	}
	db := tx.WithContext(dbContext(ctx))
	live := db.Model(&models.Session{}).Where("handle = ? AND expires_at > ?", s.tok.handle, s.auth.now())
	if db.Dialector.Name() != "sqlite" {
		// SELECT ... FOR UPDATE locks the row on PostgreSQL and MySQL. (An
		// update of the row to itself would not do on MySQL, which counts
		// only rows it changed and so would report a live session as gone.)
		var n int64
		if err := live.Clauses(clause.Locking{Strength: "UPDATE"}).Select("1").Limit(1).Scan(&n).Error; err != nil {
			return DBError(err)
		}
		if n == 0 {
			return revokedError()
		}
		return nil
	}
	// SQLite has no row locks: a write takes the database's write lock.
	res := live.UpdateColumn("handle", gorm.Expr("handle"))
	if res.Error != nil {
		return DBError(res.Error)
	}
	if res.RowsAffected == 0 {
		return revokedError()
	}
	return nil
}

// MergeIntoAccessTokenPayloadTx is MergeIntoAccessTokenPayload inside the
// caller's transaction tx, for a claim that must change together with
// what tx writes (a factor completed with the code tx uses up). It stores
// the payload only while the session is live (else 401, as LockTx) and
// holds its row until tx ends. The new access token is not sent yet: call
// send once tx has committed (never after a rollback, or the client would
// hold a token for a change that did not happen).
func (s *Session) MergeIntoAccessTokenPayloadTx(ctx context.Context, tx *gorm.DB, update claims.Payload) (send func() error, err error) {
	if s.revoked {
		return nil, revokedError()
	}
	custom := customPayload(s.tok.payload)
	claims.Merge(custom, stripProtected(update))
	b, err := json.Marshal(custom)
	if err != nil {
		return nil, BadRequest("the access-token payload cannot be encoded as JSON: %v", err)
	}
	res := tx.WithContext(dbContext(ctx)).Model(&models.Session{}).
		Where("handle = ? AND expires_at > ?", s.tok.handle, s.auth.now()).
		Updates(map[string]any{"access_token_payload": string(b), "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return nil, DBError(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, revokedError()
	}
	return func() error { return s.reissue(ctx, custom) }, nil
}

// revokedError is the answer to a session that is no longer in the
// database: 401 "unauthorised", tokens cleared.
func revokedError() *Error {
	return Unauthorised(errors.New("session revoked"), true)
}
