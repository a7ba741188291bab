package multitenancy_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

// exampleAuth opens a throwaway SQLite database, migrates it and builds an
// Auth with the given recipes.
func exampleAuth(recipes ...ginauth.Recipe) (*ginauth.Auth, func()) {
	dir, err := os.MkdirTemp("", "ginauth-example")
	if err != nil {
		panic(err)
	}
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}
	if err := models.AutoMigrate(db); err != nil {
		panic(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: recipes,
	})
	if err != nil {
		panic(err)
	}
	return auth, func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
		os.RemoveAll(dir)
	}
}

// Create a tenant that signs in with Google only, and ask GET
// /loginmethods about it and about the default tenant, as the frontend
// does.
func Example() {
	gin.SetMode(gin.TestMode)
	google := thirdparty.Google(thirdparty.Client{ClientID: "id", ClientSecret: "secret"})
	mt := multitenancy.New()
	auth, done := exampleAuth(emailpassword.New(emailpassword.Config{}), thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{google}}), mt)
	defer done()
	ctx := context.Background()

	created, err := mt.CreateOrUpdateTenant(ctx, "acme", multitenancy.TenantConfig{
		FirstFactors:   []string{"thirdparty"},
		AllowedDomains: []string{"acme.example.com"},
	})
	fmt.Println("created acme:", created, err)

	r := gin.New()
	r.Use(auth.Middleware())
	for _, path := range []string{"/auth/acme/loginmethods", "/auth/loginmethods", "/auth/nope/loginmethods"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, w.Code, w.Body.String())
	}

	_, err = mt.DeleteTenant(ctx, "public")
	fmt.Println(err)
	// Output:
	// created acme: true <nil>
	// /auth/acme/loginmethods 200 {"status":"OK","emailPassword":{"enabled":false},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["thirdparty"]}
	// /auth/loginmethods 200 {"status":"OK","emailPassword":{"enabled":true},"thirdParty":{"enabled":true,"providers":[{"id":"google","name":"Google"}]},"passwordless":{"enabled":false},"webauthn":{"enabled":false},"firstFactors":["emailpassword","thirdparty"]}
	// /auth/nope/loginmethods 404 {"message":"tenant not found"}
	// ginauth: bad request: the public tenant cannot be deleted: multitenancy: the public tenant cannot be deleted or disabled
}

// Sessions of a tenant with allowed domains carry them in the st-t-dmns
// claim; AllowedDomain checks it on the backend.
func ExampleAllowedDomain() {
	gin.SetMode(gin.TestMode)
	mt := multitenancy.New()
	auth, done := exampleAuth(mt)
	defer done()
	ctx := context.Background()
	_, _ = mt.CreateOrUpdateTenant(ctx, "acme", multitenancy.TenantConfig{AllowedDomains: []string{"acme.example.com"}})

	sess, _, err := auth.CreateSessionTokens(ctx, ginauth.NewSession{UserID: "user-1", TenantID: "acme"})
	if err != nil {
		panic(err)
	}
	domains, _ := multitenancy.AllowedDomainsClaim.Get(sess.AccessTokenPayload())
	fmt.Println("st-t-dmns:", domains)
	fmt.Println("acme.example.com allowed:", sess.AssertClaims(ctx, multitenancy.AllowedDomain("acme.example.com")) == nil)
	fmt.Println("evil.example.com allowed:", sess.AssertClaims(ctx, multitenancy.AllowedDomain("evil.example.com")) == nil)
	// Output:
	// st-t-dmns: [acme.example.com]
	// acme.example.com allowed: true
	// evil.example.com allowed: false
}
