package kit

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/dbutil"
)

// DBContext returns the context to give the database for ctx: the
// request's own context when ctx is a *gin.Context. Gin recycles its
// contexts once a handler returns, while database/sql may still look at a
// query's context a moment later, so a *gin.Context must not reach it.
// Every database call in ginauth and its recipes goes through it, so apps
// may pass c wherever a context.Context is asked for.
func DBContext(ctx context.Context) context.Context { return dbutil.Context(ctx) }

// DeleteByTenant returns a Registrar.OnTenantDelete function that deletes
// the rows of the given models whose tenant_id column is the tenant's.
func DeleteByTenant(models ...any) func(ctx context.Context, tx *gorm.DB, tenantID string) error {
	return func(ctx context.Context, tx *gorm.DB, tenantID string) error {
		for _, m := range models {
			if err := tx.WithContext(DBContext(ctx)).Where("tenant_id = ?", tenantID).Delete(m).Error; err != nil {
				return ginauth.DBError(err)
			}
		}
		return nil
	}
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// one of the databases GORM supports (SQLite, PostgreSQL, MySQL, SQL
// Server), without importing their drivers. Recipes use it to tell a row
// that a concurrent request created first from a database failure.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) { // with gorm.Config.TranslateError
		return true
	}
	var state interface{ SQLState() string } // pgx, lib/pq
	if errors.As(err, &state) && state.SQLState() == "23505" {
		return true
	}
	var coded interface{ Code() int } // modernc / glebarez SQLite
	if errors.As(err, &coded) {
		switch coded.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite drivers
		strings.Contains(msg, "SQLSTATE 23505") || // pgx text form
		strings.Contains(msg, "Duplicate entry") || // MySQL 1062
		strings.Contains(msg, "duplicate key") // Postgres, SQL Server
}

// IsRetryable reports whether err is a transaction the database gave up on
// because of other transactions, so that running it again may succeed: a
// deadlock or a serialization failure (PostgreSQL 40P01 and 40001, MySQL
// 1213), or MySQL's lock wait timeout (1205). InnoDB in particular takes gap
// locks under its default REPEATABLE READ, so concurrent delete-then-insert
// transactions on the same index range can deadlock where PostgreSQL and
// SQLite would simply wait.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		switch state.SQLState() {
		case "40P01", "40001":
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "Error 1213") || strings.Contains(msg, "Error 1205") ||
		strings.Contains(msg, "SQLSTATE 40P01") || strings.Contains(msg, "SQLSTATE 40001")
}

// retryTries bounds RetryTransaction. Ten parallel writers of one index
// range on MariaDB can deadlock more than three times in a row
// (TestConcurrentAssociationsOnePrimaryWins), hence more tries, each after
// a short random pause so that the survivors do not meet again at once.
const retryTries = 8

// RetryTransaction runs fn in a transaction of db, and runs it again (up to
// retryTries times in all, pausing a few random milliseconds between tries)
// when the database aborted it as a deadlock or a serialization failure
// (IsRetryable). fn must be safe to run again: it must not have effects
// outside the transaction.
//
// On MySQL and MariaDB the transaction runs at READ COMMITTED, PostgreSQL's
// default: the code takes row locks and then reads what it locked, and
// under InnoDB's REPEATABLE READ a plain read after a lock wait still sees
// the snapshot taken before the lock's holder committed (a link racing an
// unlink recomputed a group's account info from such a snapshot and left
// a removed member's address claimed, TestConcurrentLinkUnlinkCreatePrimary).
func RetryTransaction(db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var opts []*sql.TxOptions
	if db.Dialector != nil && db.Dialector.Name() == "mysql" {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	var err error
	for i := range retryTries {
		if err = db.Transaction(fn, opts...); !IsRetryable(err) {
			return err
		}
		if i < retryTries-1 {
			time.Sleep(rand.N(time.Duration(i+1) * 4 * time.Millisecond))
		}
	}
	return err
}
