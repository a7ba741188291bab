package ginauthtest

import (
	"testing"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

// EnvDatabaseURL is the environment variable that moves OpenDB off SQLite:
// a postgres:// URL makes each test a schema of its own in that database, a
// mysql:// URL (MySQL or MariaDB) a database of its own on that server.
const EnvDatabaseURL = testdb.EnvURL

// OpenDB returns a fresh database with ginauth's tables for the calling
// test, removed when the test ends: by default a SQLite file in the test's
// temporary directory, or a schema (PostgreSQL) or database (MySQL) of its
// own on the server GINAUTH_TEST_DATABASE_URL names. Tests that use it may
// run in parallel.
func OpenDB(t testing.TB) *gorm.DB {
	t.Helper()
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatalf("ginauthtest: migrate: %v", err)
	}
	return db
}

// Dialect names the backend OpenDB uses in this run: "sqlite", "postgres"
// or "mysql", for tests whose expectations differ by database.
func Dialect() string { return testdb.Dialect() }
