package ginauth

import (
	"errors"
	"strings"

	"gorm.io/gorm"
)

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
