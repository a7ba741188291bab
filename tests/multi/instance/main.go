// Command instance is one API process of the multi-instance suite
// (tests/multi): ginauth with e-mail and password sign-in on the database
// named by DATABASE_URL, listening on 127.0.0.1 at a port of the kernel's
// choosing, which it prints on stdout as "LISTENING <addr>".
//
//	DATABASE_URL   PostgreSQL URL (required; the tables must exist)
//	INSTANCE       a name, sent back in the X-Instance header of every answer
//	KEY_ROTATION   KeyRotationInterval (a Go duration; default ginauth's)
//	LOW_ARGON2=1   cheap password hashes, for load runs
//
// Routes besides /auth/*: GET /sessioninfo (VerifySession), GET
// /sessioninfo-db (VerifySession with CheckDatabase).
package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emailpassword"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "instance:", err)
		os.Exit(1)
	}
}

func run() error {
	name := os.Getenv("INSTANCE")
	db, err := gorm.Open(postgres.Open(os.Getenv("DATABASE_URL")), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	sqlDB.SetMaxOpenConns(16)

	var sess ginauth.SessionConfig
	if v := os.Getenv("KEY_ROTATION"); v != "" {
		if sess.KeyRotationInterval, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("KEY_ROTATION: %w", err)
		}
	}
	var ep emailpassword.Config
	if os.Getenv("LOW_ARGON2") == "1" {
		ep.Argon2 = emailpassword.Argon2Params{Memory: 256, Iterations: 1, Parallelism: 1}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", name)
	auth, err := ginauth.New(ginauth.Config{
		DB: db,
		AppInfo: ginauth.AppInfo{AppName: "multi", APIDomain: "http://127.0.0.1:3001",
			WebsiteDomain: "http://127.0.0.1:3000"},
		Recipes: []ginauth.Recipe{emailpassword.New(ep)},
		Session: sess,
		Logger:  log,
	})
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// The suite's proxy is on loopback and sets X-Forwarded-For.
	if err := r.SetTrustedProxies([]string{"127.0.0.1"}); err != nil {
		return err
	}
	r.Use(func(c *gin.Context) { c.Header("X-Instance", name) })
	r.Use(auth.Middleware())
	info := func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(http.StatusOK, gin.H{"userId": s.UserID(), "sessionHandle": s.Handle()})
	}
	r.GET("/sessioninfo", auth.VerifySession(), info)
	r.GET("/sessioninfo-db", auth.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), info)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
