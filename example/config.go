package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdlog "log"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/dashboard"
)

// config is the demo's settings, all from the environment (see README.md).
type config struct {
	Host          string // HOST, default "" (every interface)
	Port          string // PORT, default 3001
	APIDomain     string // API_DOMAIN, default http://localhost:3001
	WebsiteDomain string // WEBSITE_DOMAIN, default http://localhost:3000
	// WebsiteOrigins (WEBSITE_ORIGINS, comma-separated) are further
	// frontends of this API, e.g. a staging site or a mobile app's scheme:
	// ginauth.AppInfo.WebsiteOrigins, checked at start-up.
	WebsiteOrigins []string

	DatabaseURL string // DATABASE_URL: PostgreSQL when set
	SQLitePath  string // SQLITE_PATH, default ./ginauth-demo.db (when DATABASE_URL is empty)

	// AccessTokenValidity (ACCESS_TOKEN_VALIDITY_SECONDS) shortens access
	// tokens so that refreshes can be watched; 0 keeps the default hour.
	AccessTokenValidity time.Duration

	// SMTP (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM): when
	// SMTP_HOST is empty, e-mails are logged instead of sent.
	SMTP smtpConfig

	// DevRoutes (DEMO_DEV_ROUTES=1) enables POST /dev/make-admin, and a
	// fixed TOTP key when TOTP_SECRET_KEY is not set. Never in production.
	DevRoutes bool

	// DevOIDC (DEMO_OIDC=1) starts the local OpenID Connect provider
	// (example/devoidc) on DevOIDCAddr (DEMO_OIDC_ADDR, default
	// 127.0.0.1:3002) and offers it as the "dev-oidc" social sign-in.
	// DevOIDCEmail (DEMO_OIDC_EMAIL, default dev@example.com) is the user
	// it approves. Never in production.
	DevOIDC      bool
	DevOIDCAddr  string
	DevOIDCEmail string

	// Real providers, each on when its client id is set:
	// GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET, GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET.
	Google, GitHub oauthClient

	// TOTPKey (TOTP_SECRET_KEY, 32 bytes as hex or base64) seals the TOTP
	// secrets. Empty: TOTP and MFA are off, unless DevRoutes supplies the
	// fixed development key (TOTPDevKey is then true).
	TOTPKey    []byte
	TOTPDevKey bool

	// SecretKey (GINAUTH_SECRET_KEY, 32 bytes as hex or base64) is
	// ginauth.Config.SecretKey. Empty: ginauth's generated fallback, with
	// its warning.
	SecretKey []byte

	// TrustedProxies (TRUSTED_PROXIES, comma-separated addresses or CIDRs)
	// are the reverse proxies whose X-Forwarded-For the API believes.
	// Empty: none, so a client cannot dodge the per-address rate limits by
	// sending that header.
	TrustedProxies []string

	// DashboardAPIKey (DASHBOARD_API_KEY, at least
	// dashboard.MinAPIKeyLength characters) turns on the user-management
	// dashboard at <API_DOMAIN>/auth/dashboard, signed in to with this key.
	// Empty: no dashboard.
	DashboardAPIKey string

	// Debug (GIN_MODE=debug) keeps gin's debug mode.
	Debug bool
}

type oauthClient struct {
	ID, Secret string
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
		DevRoutes:    os.Getenv("DEMO_DEV_ROUTES") == "1",
		DevOIDC:      os.Getenv("DEMO_OIDC") == "1",
		DevOIDCAddr:  env("DEMO_OIDC_ADDR", "127.0.0.1:3002"),
		DevOIDCEmail: env("DEMO_OIDC_EMAIL", "dev@example.com"),
		Google:       oauthClient{ID: os.Getenv("GOOGLE_CLIENT_ID"), Secret: os.Getenv("GOOGLE_CLIENT_SECRET")},
		GitHub:       oauthClient{ID: os.Getenv("GITHUB_CLIENT_ID"), Secret: os.Getenv("GITHUB_CLIENT_SECRET")},
		Debug:        os.Getenv("GIN_MODE") == "debug",

		DashboardAPIKey: strings.TrimSpace(os.Getenv("DASHBOARD_API_KEY")),
	}
	if n := len(c.DashboardAPIKey); n > 0 && n < dashboard.MinAPIKeyLength {
		return c, fmt.Errorf("DASHBOARD_API_KEY is %d characters: it must be at least %d; make one with `openssl rand -base64 24`, or unset it to run without the dashboard",
			n, dashboard.MinAPIKeyLength)
	}
	if v := strings.TrimSpace(os.Getenv("WEBSITE_ORIGINS")); v != "" {
		for i, o := range strings.Split(v, ",") {
			n, err := ginauth.NormaliseOrigin(o)
			if err != nil {
				return c, fmt.Errorf("WEBSITE_ORIGINS: entry %d %q: %v; want a comma-separated list of origins such as https://staging.example.com,com.example.app://", i+1, strings.TrimSpace(o), err)
			}
			c.WebsiteOrigins = append(c.WebsiteOrigins, n)
		}
	}
	if v := strings.TrimSpace(os.Getenv("TRUSTED_PROXIES")); v != "" {
		for _, p := range strings.Split(v, ",") {
			c.TrustedProxies = append(c.TrustedProxies, strings.TrimSpace(p))
		}
	}
	if v := strings.TrimSpace(os.Getenv("TOTP_SECRET_KEY")); v != "" {
		key, err := parseKey(v)
		if err != nil {
			return c, fmt.Errorf("TOTP_SECRET_KEY: %w", err)
		}
		c.TOTPKey = key
	} else if c.DevRoutes {
		sum := sha256.Sum256([]byte("ginauth demo: development TOTP key, not a secret"))
		c.TOTPKey, c.TOTPDevKey = sum[:], true
	}
	if v := strings.TrimSpace(os.Getenv("GINAUTH_SECRET_KEY")); v != "" {
		key, err := parseKey(v)
		if err != nil {
			return c, fmt.Errorf("GINAUTH_SECRET_KEY: %w", err)
		}
		c.SecretKey = key
	}
	if _, _, err := net.SplitHostPort(c.DevOIDCAddr); c.DevOIDC && err != nil {
		return c, fmt.Errorf("DEMO_OIDC_ADDR=%q: want host:port", c.DevOIDCAddr)
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

// parseKey reads 32 bytes written as hex (64 digits) or base64 (standard or
// URL alphabet, padded or not), e.g. the output of `openssl rand -base64 32`.
func parseKey(v string) ([]byte, error) {
	if len(v) == 64 {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("want 32 bytes, got %d (make one with `openssl rand -base64 32`)", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("want 32 bytes as hex or base64 (make one with `openssl rand -base64 32`)")
}

func env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// openDB opens PostgreSQL when DATABASE_URL is set, otherwise an embedded
// SQLite file (pure Go, no cgo). gormLog receives GORM's warnings once the
// database is open; a failure to open is returned, never also logged, so
// that it is printed once.
func openDB(c config, gormLog io.Writer) (*gorm.DB, error) {
	// Silent while opening: GORM would log the same error we return.
	gcfg := &gorm.Config{Logger: logger.Discard}
	queryLog := logger.New(stdlog.New(gormLog, "gorm: ", stdlog.LstdFlags), logger.Config{
		SlowThreshold: time.Second, LogLevel: logger.Warn, IgnoreRecordNotFoundError: true,
	})
	if c.DatabaseURL != "" {
		db, err := gorm.Open(postgres.Open(c.DatabaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("cannot connect to PostgreSQL at %s (is it running, and is DATABASE_URL right?): %w",
				c.dbDescription(), err)
		}
		db.Logger = queryLog
		return db, nil
	}
	if err := createPrivateFile(c.SQLitePath); err != nil {
		return nil, err
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
	db.Logger = queryLog
	return db, nil
}

// createPrivateFile makes sure the SQLite file exists and only its owner
// can read it: it holds the signing keys and every session. SQLite gives
// its -wal and -shm files the main file's permissions. A missing folder is
// named here: SQLite itself only says "out of memory (14)".
func createPrivateFile(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("SQLITE_PATH=%q: the folder %q does not exist: create it (mkdir -p %s) or set SQLITE_PATH to a file in an existing folder",
			path, dir, dir)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("SQLITE_PATH=%q: %w", path, err)
	}
	defer f.Close()
	// An older, world-readable file from before this check is narrowed too.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("SQLITE_PATH=%q: %w", path, err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+side, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("SQLITE_PATH=%q: %w", path+side, err)
		}
	}
	return nil
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
