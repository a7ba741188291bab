// Package testdb gives each test a fresh, empty database.
//
// By default every call to Open returns a new SQLite database in a file under
// t.TempDir(). When the environment variable GINAUTH_TEST_DATABASE_URL holds a
// PostgreSQL URL (see scripts/pg.sh), Open instead creates a uniquely named
// schema in that database and returns a *gorm.DB whose every connection uses
// it; when it holds a mysql:// URL (MariaDB or MySQL, see scripts/mysql.sh),
// Open creates a uniquely named database on that server. Tests stay isolated
// and may run in parallel on every backend.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// EnvURL is the environment variable that selects PostgreSQL: when it is set
// to a connection URL, Open creates per-test schemas in that database.
const EnvURL = "GINAUTH_TEST_DATABASE_URL"

// Dialect names returned by Dialect.
const (
	DialectPostgres = "postgres"
	DialectMySQL    = "mysql"
	DialectSQLite   = "sqlite"
)

// Postgres pool limits per Open. The throwaway server allows 200 connections
// and `go test ./...` runs several test binaries at once, so stay modest.
const (
	pgMaxOpen = 20
	pgMaxIdle = 4
)

// DBTimeout is the ginauth.Config.DBTimeout of the tests' apps that send
// bursts of requests. A burst of 50 writers queues for SQLite's one write
// lock, and under -race on a loaded 2-core machine (the CI box, with other
// test binaries running) the last of them waits well past ginauth's
// 10-second default and would get a 503: the tests are about what the
// requests do, not how fast, so they wait this long. Tests of the deadline
// itself set their own.
const DBTimeout = 2 * time.Minute

// sqlitePragmas are applied to every SQLite connection. The busy timeout
// (in ms) is DBTimeout: a writer queued behind a burst of others waits for
// the lock as long as its request may, and SQLite's polling busy handler
// does not serve waiters in order, so one of 50 can wait for most of them.
var sqlitePragmas = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)",
	DBTimeout.Milliseconds())

// Dialect reports which backend Open uses: "mysql" when
// GINAUTH_TEST_DATABASE_URL is a mysql:// URL, "postgres" when it is any
// other URL, otherwise "sqlite".
func Dialect() string {
	u := os.Getenv(EnvURL)
	switch {
	case u == "":
		return DialectSQLite
	case strings.HasPrefix(u, "mysql://"):
		return DialectMySQL
	}
	return DialectPostgres
}

// MySQL reports whether Open returns MySQL (MariaDB) databases in this run.
func MySQL(t testing.TB) bool {
	t.Helper()
	return Dialect() == DialectMySQL
}

// Postgres reports whether Open returns PostgreSQL databases in this run.
// Tests use it to adjust dialect-specific expectations.
func Postgres(t testing.TB) bool {
	t.Helper()
	return Dialect() == DialectPostgres
}

// Open returns a fresh, empty database for the calling test. The database
// (SQLite file or PostgreSQL schema) is removed and its pool closed when the
// test ends. Gorm's logger is silenced.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	switch Dialect() {
	case DialectMySQL:
		return openMySQL(t, os.Getenv(EnvURL))
	case DialectPostgres:
		return openPostgres(t, os.Getenv(EnvURL))
	}
	return openSQLite(t)
}

// PostgresURL creates a fresh schema, as Open does, and returns a connection
// URL whose every connection uses it, for a test that hands the database to
// other processes. The schema is dropped when the test ends. It skips the
// test when GINAUTH_TEST_DATABASE_URL is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if Dialect() != DialectPostgres {
		t.Skipf("needs PostgreSQL: set %s (scripts/pg.sh)", EnvURL)
	}
	return newSchema(t, os.Getenv(EnvURL))
}

// newSchema creates a uniquely named schema, dropped when the test ends, and
// returns rawURL with its search_path set to it.
func newSchema(t testing.TB, rawURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm, err := adminDB(rawURL)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", EnvURL, err)
	}
	schema := "t_" + randomHex(t, 8)
	if _, err := adm.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testdb: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adm.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(rawURL, schema)
	if err != nil {
		t.Fatalf("testdb: bad %s: %v", EnvURL, err)
	}
	return dsn
}

var mysqlAdmin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// mysqlDSN turns mysql://user[:password]@host:port/db into the driver's
// user:password@tcp(host:port)/db?... form, for database name db.
func mysqlDSN(rawURL, db string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	pw, _ := u.User.Password()
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?parseTime=true&loc=UTC&charset=utf8mb4&collation=utf8mb4_unicode_ci",
		u.User.Username(), pw, u.Host, db), nil
}

func openMySQL(t testing.TB, rawURL string) *gorm.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mysqlAdmin.once.Do(func() {
		dsn, err := mysqlDSN(rawURL, "")
		if err != nil {
			mysqlAdmin.err = err
			return
		}
		db, err := gorm.Open(mysql.Open(dsn), gormConfig())
		if err != nil {
			mysqlAdmin.err = err
			return
		}
		mysqlAdmin.db, mysqlAdmin.err = db.DB()
		if mysqlAdmin.err == nil {
			mysqlAdmin.db.SetMaxOpenConns(2)
		}
	})
	if mysqlAdmin.err != nil {
		t.Fatalf("testdb: connect to %s: %v", EnvURL, mysqlAdmin.err)
	}
	name := "t_" + randomHex(t, 8)
	if _, err := mysqlAdmin.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := mysqlAdmin.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	dsn, err := mysqlDSN(rawURL, name)
	if err != nil {
		t.Fatalf("testdb: bad %s: %v", EnvURL, err)
	}
	db, err := gorm.Open(mysql.Open(dsn), gormConfig())
	if err != nil {
		t.Fatalf("testdb: open mysql database %s: %v", name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("testdb: mysql pool: %v", err)
	}
	sqlDB.SetMaxOpenConns(pgMaxOpen)
	sqlDB.SetMaxIdleConns(pgMaxIdle)
	// Registered after the drop, so it runs first: close the pool, then drop.
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

func gormConfig() *gorm.Config {
	return &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)}
}

func openSQLite(t testing.TB) *gorm.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := gorm.Open(sqlite.Open("file:"+path+"?"+sqlitePragmas), gormConfig())
	if err != nil {
		t.Fatalf("testdb: open sqlite %s: %v", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("testdb: sqlite pool: %v", err)
	}
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// adminDB returns a small pool shared by all tests in this binary, used to
// create and drop schemas.
func adminDB(rawURL string) (*sql.DB, error) {
	admin.once.Do(func() {
		db, err := gorm.Open(postgres.Open(rawURL), gormConfig())
		if err != nil {
			admin.err = err
			return
		}
		admin.db, admin.err = db.DB()
		if admin.err == nil {
			admin.db.SetMaxOpenConns(2)
			admin.db.SetMaxIdleConns(1)
		}
	})
	return admin.db, admin.err
}

func openPostgres(t testing.TB, rawURL string) *gorm.DB {
	t.Helper()
	dsn := newSchema(t, rawURL)
	db, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		t.Fatalf("testdb: open postgres %s: %v", dsn, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("testdb: postgres pool: %v", err)
	}
	sqlDB.SetMaxOpenConns(pgMaxOpen)
	sqlDB.SetMaxIdleConns(pgMaxIdle)
	// Registered after the drop, so it runs first: close the pool, then drop.
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

// withSearchPath adds search_path to a connection string (postgres:// URL or
// key=value form); pgx sends it as a startup parameter, so every pooled
// connection gets it.
func withSearchPath(rawURL, schema string) (string, error) {
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return rawURL + " search_path=" + schema, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testdb: random: %v", err)
	}
	return hex.EncodeToString(b)
}
