// Command example is the ginauth demo: a Gin API whose auth (sign-up,
// sign-in, social sign-in, sessions, e-mail verification, TOTP two-factor
// auth, roles, metadata) is served by ginauth from the app's own database,
// for SuperTokens' frontend SDKs.
//
//	go run ./example                 # API on http://localhost:3001
//	make web                         # the demo website on http://localhost:3000
//
// See example/README.md for every setting.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

func main() {
	// Log lines (including the links of e-mails in dev mode) go to stdout.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	if err := run(log); err != nil {
		log.Error("demo: exiting", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}

	// 1. The app's own database.
	db, err := openDB(cfg, os.Stdout)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	defer sqlDB.Close()

	// 2. Migrations are the app's job: ginauth never migrates behind its
	// back. Here the demo simply auto-migrates the auth tables next to its
	// own (it has none); an app with a migration tool runs its migrations
	// instead.
	if err := models.AutoMigrate(db); err != nil {
		return err
	}

	// 3. ginauth, with the recipes the demo uses (see recipes.go), and the
	// social sign-ins (social.go): real providers from the environment, and
	// in development a local OpenID Connect provider.
	providers := realProviders(cfg)
	if cfg.DevOIDC {
		idp, dev, err := startDevOIDC(cfg, log)
		if err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = idp.Close(ctx)
		}()
		providers = append([]thirdparty.Provider{dev}, providers...)
	}
	auth, err := newDemoAuth(cfg, log, providers)
	if err != nil {
		return err
	}
	err = ginauth.Init(ginauth.Config{
		DB: db,
		AppInfo: ginauth.AppInfo{
			AppName:        "ginauth demo",
			APIDomain:      cfg.APIDomain,
			WebsiteDomain:  cfg.WebsiteDomain,
			WebsiteOrigins: cfg.WebsiteOrigins,
			APIBasePath:    "/auth",
		},
		Recipes:   auth.recipes,
		Session:   ginauth.SessionConfig{AccessTokenValidity: cfg.AccessTokenValidity},
		Logger:    log,
		SecretKey: cfg.SecretKey,
	})
	if err != nil {
		return err
	}
	if err := auth.setUp(context.Background(), cfg.APIDomain); err != nil {
		return err
	}

	// 4. The Gin app: CORS for the website's origin, then ginauth's
	// middleware (serves /auth/*), then the app's own routes.
	if !cfg.Debug {
		gin.SetMode(gin.ReleaseMode)
	}
	r := gin.New()
	// Rate limits key on the client's address: believe X-Forwarded-For only
	// from the proxies named in TRUSTED_PROXIES (gin trusts every peer by
	// default).
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	r.Use(gin.Recovery(), requestLog(log))
	r.Use(cors.New(ginauth.CORSConfig()))
	r.Use(ginauth.Middleware())
	registerRoutes(r, cfg, auth, log)

	// 5. Serve until SIGINT/SIGTERM, then drain in-flight requests.
	srv := &http.Server{
		Addr:              net.JoinHostPort(cfg.Host, cfg.Port),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bind first, so that "API listening" is only logged once it is true
	// and a port in use is reported as such.
	ln, err := listen(srv.Addr, "PORT")
	if err != nil {
		return err
	}
	log.Info("demo: API listening", "addr", ln.Addr().String(), "apiDomain", cfg.APIDomain,
		"websiteDomain", cfg.WebsiteDomain, "websiteOrigins", cfg.WebsiteOrigins, "database", cfg.dbDescription())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop()
	log.Info("demo: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Waits for background work (password-reset e-mails still on their
	// way, a cleanup sweep); requests arriving now would get a 503.
	if err := ginauth.Default().Close(shutdownCtx); err != nil {
		return err
	}
	log.Info("demo: stopped")
	return nil
}

// listen binds addr. When the port is taken it says which one and which
// setting (envVar) chooses another, instead of the bare "bind: address
// already in use".
func listen(addr, envVar string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		_, port, _ := net.SplitHostPort(addr)
		return nil, fmt.Errorf("port %s is already in use (%s): stop the program using it, or set %s to another value: %w",
			port, addr, envVar, err)
	}
	return nil, fmt.Errorf("listening on %s (%s): %w", addr, envVar, err)
}

// requestLog logs one line per request (no bodies, no tokens).
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.Info("http", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "took", time.Since(start).Round(time.Microsecond))
	}
}
