package ginauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
)

// openDB opens an in-memory SQLite database with the ginauth tables, as an
// app would open its own database and run its migrations.
func openDB() *gorm.DB {
	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1) // one connection: one in-memory database
	if err := models.AutoMigrate(db); err != nil {
		panic(err)
	}
	return db
}

// call sends a request through the engine, with the given access token.
func call(r http.Handler, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func ExampleInit() {
	gin.SetMode(gin.TestMode)
	err := ginauth.Init(ginauth.Config{
		DB: openDB(),
		AppInfo: ginauth.AppInfo{
			AppName:       "Todos",
			APIDomain:     "http://localhost:3001",
			WebsiteDomain: "http://localhost:3000",
		},
		Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA"},
	})
	fmt.Println("init:", err)
	fmt.Println("base path:", ginauth.Default().AppInfo().APIBasePath)
	// Output:
	// init: <nil>
	// base path: /auth
}

func ExampleMiddleware() {
	gin.SetMode(gin.TestMode)
	if err := ginauth.Init(ginauth.Config{DB: openDB(), Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA"},
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}}); err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(ginauth.Middleware()) // serves /auth/*, passes everything else on
	r.GET("/hello", func(c *gin.Context) { c.String(200, "hello") })

	fmt.Println(call(r, "GET", "/hello", "").Body.String())
	w := call(r, "POST", "/auth/session/refresh", "")
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// hello
	// 401 {"message":"unauthorised"}
}

func ExampleVerifySession() {
	gin.SetMode(gin.TestMode)
	if err := ginauth.Init(ginauth.Config{DB: openDB(), Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA"},
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}}); err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(ginauth.Middleware())
	r.GET("/sessioninfo", ginauth.VerifySession(), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(200, gin.H{"userId": s.UserID()})
	})

	// A recipe creates sessions on sign-in; here we make one directly.
	_, tokens, _ := ginauth.Default().CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "alice"})

	fmt.Println(call(r, "GET", "/sessioninfo", tokens.AccessToken).Body.String())
	fmt.Println(call(r, "GET", "/sessioninfo", "").Body.String())
	// A token that is not shaped like an access token counts as none; one
	// that is but does not verify (here: a cut signature) asks the frontend
	// to refresh.
	fmt.Println(call(r, "GET", "/sessioninfo", "garbage").Body.String())
	fmt.Println(call(r, "GET", "/sessioninfo", tokens.AccessToken[:len(tokens.AccessToken)-4]).Body.String())
	// Output:
	// {"userId":"alice"}
	// {"message":"unauthorised"}
	// {"message":"unauthorised"}
	// {"message":"try refresh token"}
}

func ExampleRequireClaim() {
	gin.SetMode(gin.TestMode)
	// A claim the app computes: is the user on a paid plan?
	paid := claims.NewBoolean("paid", func(ctx context.Context, userID, tenantID string) (bool, bool, error) {
		return userID == "alice", true, nil
	})
	if err := ginauth.Init(ginauth.Config{DB: openDB(),
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA", Claims: []claims.Claim{paid}}}); err != nil {
		panic(err)
	}
	r := gin.New()
	r.GET("/reports", ginauth.VerifySession(), ginauth.RequireClaim(paid.IsTrue()), func(c *gin.Context) {
		c.String(200, "the reports")
	})

	_, alice, _ := ginauth.Default().CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "alice"})
	_, bob, _ := ginauth.Default().CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "bob"})
	fmt.Println(call(r, "GET", "/reports", alice.AccessToken).Body.String())
	w := call(r, "GET", "/reports", bob.AccessToken)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// the reports
	// 403 {"claimValidationErrors":[{"id":"paid","reason":{"actualValue":false,"expectedValue":true,"message":"wrong value"}}],"message":"invalid claim"}
}

// The second-factor pattern SuperTokens documents: a "2fa-completed"
// claim that is false when a session is created, required on every route,
// and set to true by the one route that checks the second factor.
func Example_secondFactorClaim() {
	gin.SetMode(gin.TestMode)
	secondFactor := claims.NewBoolean("2fa-completed", func(ctx context.Context, userID, tenantID string) (bool, bool, error) {
		return false, true, nil // every new session starts without it
	})
	auth, err := ginauth.New(ginauth.Config{DB: openDB(),
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Session: ginauth.SessionConfig{
			SigningAlgorithm: "EdDSA",
			Claims:           []claims.Claim{secondFactor},
			GlobalValidators: []claims.Validator{secondFactor.IsTrue()},
		}})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(auth.Middleware())
	r.GET("/account", auth.VerifySession(), func(c *gin.Context) { c.String(200, "account page") })
	// The second-factor route is exempt from the claim it sets.
	exempt := ginauth.VerifyOptions{OverrideGlobalClaimValidators: func([]claims.Validator, *gin.Context) []claims.Validator { return nil }}
	r.POST("/verify-otp", auth.VerifySession(exempt), func(c *gin.Context) {
		if c.Query("code") != "123456" { // check the real second factor here
			c.String(200, "wrong code")
			return
		}
		s := ginauth.MustSession(c)
		if err := s.SetClaimValue(c, secondFactor.Update(true, time.Now())); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.String(200, "verified")
	})

	_, tokens, _ := auth.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "alice"})
	fmt.Println(call(r, "GET", "/account", tokens.AccessToken).Code)
	w := call(r, "POST", "/verify-otp?code=123456", tokens.AccessToken)
	fmt.Println(w.Body.String())
	upgraded := w.Header().Get("st-access-token") // the session's new access token
	fmt.Println(call(r, "GET", "/account", upgraded).Body.String())
	// Output:
	// 403
	// verified
	// account page
}
