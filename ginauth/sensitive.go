package ginauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

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
// routes call it first in the transaction that writes the change. It is a
// write (an update of the row to itself), so that SQLite takes its write
// lock at once and Postgres locks the row.
func (s *Session) LockTx(ctx context.Context, tx *gorm.DB) error {
	if s.revoked {
		return revokedError()
	}
	res := tx.WithContext(DBContext(ctx)).Model(&models.Session{}).
		Where("handle = ? AND expires_at > ?", s.tok.handle, s.auth.now()).
		UpdateColumn("handle", gorm.Expr("handle"))
	if res.Error != nil {
		return DBError(res.Error)
	}
	if res.RowsAffected == 0 {
		return revokedError()
	}
	return nil
}

// revokedError is the answer to a session that is no longer in the
// database: 401 "unauthorised", tokens cleared.
func revokedError() *Error {
	return &Error{Kind: ErrUnauthorised, Status: http.StatusUnauthorized, Message: "unauthorised", ClearTokens: true,
		Err: errors.New("session revoked")}
}
