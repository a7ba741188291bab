// Package ginauth is authentication that lives inside a Gin application:
// sessions with rotating refresh tokens and theft detection, claims that
// guard routes, and recipes (e-mail and password, e-mail verification,
// roles, ...) whose tables are GORM models in the app's own database. It
// speaks SuperTokens' frontend protocol (FDI), so SuperTokens' official
// frontend SDKs work against it unmodified.
//
// # Quick start
//
//	db, _ := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	_ = db.AutoMigrate(append(models.All(), &Todo{})...) // auth tables beside the app's
//
//	err := ginauth.Init(ginauth.Config{
//		DB: db,
//		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001",
//			WebsiteDomain: "http://localhost:3000"},
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{})},
//	})
//
//	r := gin.New()
//	r.Use(cors.New(ginauth.CORSConfig()))
//	r.Use(ginauth.Middleware()) // serves /auth/*, passes the rest on
//	r.GET("/sessioninfo", ginauth.VerifySession(), func(c *gin.Context) {
//		s := ginauth.MustSession(c)
//		c.JSON(200, gin.H{"userId": s.UserID()})
//	})
//
// Package-level functions use a default instance set by Init, the way
// slog.Default works; New returns an *Auth with the same methods for tests
// and for apps with more than one setup. A request carries the instance
// that serves it (FromContext): package-level claims and recipe helpers
// use that one, never the default, so several apps can share a process
// (docs/multi-app.md). Close stops an instance and waits for its
// background work.
//
// # Sessions
//
// A session is a short-lived signed access token (a JWT, RS256 by default,
// verified without touching the database) and a long-lived opaque refresh
// token (256 random bits, stored only as a SHA-256 hash) that rotates on
// every refresh. Presenting a refresh token that has been superseded
// revokes the session: see docs/sessions.md for the rotation model.
//
// Tokens travel in cookies or headers, as the frontend's st-auth-mode
// header asks, with the front-token header the SDKs read.
//
// # Errors
//
// Every error matches one of the sentinel errors (ErrUnauthorised,
// ErrTryRefreshToken, ErrTokenTheft, ErrInvalidClaim, ErrBadRequest,
// ErrDatabase, ...) with errors.Is and is written to the client by one
// overridable ErrorHandler, in FDI's shapes.
package ginauth
