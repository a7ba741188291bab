package main

import (
	"fmt"
	stdlog "log"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// config is the demo's settings, all from the environment (see README.md).
type config struct {
	Host          string // HOST, default "" (every interface)
	Port          string // PORT, default 3001
	APIDomain     string // API_DOMAIN, default http://localhost:3001
	WebsiteDomain string // WEBSITE_DOMAIN, default http://localhost:3000

	DatabaseURL string // DATABASE_URL: PostgreSQL when set
	SQLitePath  string // SQLITE_PATH, default ./ginauth-demo.db (when DATABASE_URL is empty)

	// AccessTokenValidity (ACCESS_TOKEN_VALIDITY_SECONDS) shortens access
	// tokens so that refreshes can be watched; 0 keeps the default hour.
	AccessTokenValidity time.Duration

	// SMTP (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM): when
	// SMTP_HOST is empty, e-mails are logged instead of sent.
	SMTP smtpConfig

	// DevRoutes (DEMO_DEV_ROUTES=1) enables POST /dev/make-admin. Never in
	// production.
	DevRoutes bool

	// Debug (GIN_MODE=debug) keeps gin's debug mode.
	Debug bool
}

type smtpConfig struct {
	Host, Port, User, Password, From string
}

func loadConfig() (config, error) {
	c := config{
		Host:          os.Getenv("HOST"),
		Port:          env("PORT", "3001"),
		APIDomain:     env("API_DOMAIN", "http://localhost:3001"),
		WebsiteDomain: env("WEBSITE_DOMAIN", "http://localhost:3000"),
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		SQLitePath:    env("SQLITE_PATH", "./ginauth-demo.db"),
		SMTP: smtpConfig{
			Host:     os.Getenv("SMTP_HOST"),
			Port:     env("SMTP_PORT", "587"),
			User:     os.Getenv("SMTP_USER"),
			Password: os.Getenv("SMTP_PASSWORD"),
			From:     env("SMTP_FROM", "ginauth demo <no-reply@localhost>"),
		},
		DevRoutes: os.Getenv("DEMO_DEV_ROUTES") == "1",
		Debug:     os.Getenv("GIN_MODE") == "debug",
	}
	if v := os.Getenv("ACCESS_TOKEN_VALIDITY_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("ACCESS_TOKEN_VALIDITY_SECONDS=%q: want a positive number of seconds", v)
		}
		c.AccessTokenValidity = time.Duration(n) * time.Second
	}
	if _, err := strconv.Atoi(c.Port); err != nil {
		return c, fmt.Errorf("PORT=%q: want a port number", c.Port)
	}
	return c, nil
}

func env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// openDB opens PostgreSQL when DATABASE_URL is set, otherwise an embedded
// SQLite file (pure Go, no cgo).
func openDB(c config) (*gorm.DB, error) {
	gcfg := &gorm.Config{Logger: logger.New(stdlog.New(os.Stdout, "gorm: ", stdlog.LstdFlags), logger.Config{
		SlowThreshold: time.Second, LogLevel: logger.Warn, IgnoreRecordNotFoundError: true,
	})}
	if c.DatabaseURL != "" {
		db, err := gorm.Open(postgres.Open(c.DatabaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("opening DATABASE_URL: %w", err)
		}
		return db, nil
	}
	// WAL lets readers run beside the writer; busy_timeout makes a writer
	// wait for the lock instead of failing; _txlock=immediate takes the
	// write lock when a transaction begins, so two read-then-write
	// transactions cannot deadlock on the upgrade.
	dsn := "file:" + c.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite %s: %w", c.SQLitePath, err)
	}
	return db, nil
}

// dbDescription names the database for the start-up log line, without
// the password.
func (c config) dbDescription() string {
	if c.DatabaseURL == "" {
		return "sqlite:" + c.SQLitePath
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return "postgres"
	}
	return "postgres://" + u.Host + u.Path
}
