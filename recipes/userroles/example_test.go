package userroles_test

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
	"github.com/ginauth/ginauth/recipes/userroles"
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

// Create a role with permissions, give it to a user and read it back.
func Example() {
	roles := userroles.New()
	_, done := exampleAuth(roles)
	defer done()
	ctx := context.Background()

	created, _ := roles.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"todos:read", "todos:delete"})
	fmt.Println("created admin:", created)
	had, _ := roles.AddRoleToUser(ctx, "public", "user-1", "admin")
	fmt.Println("user-1 already had it:", had)

	userRoles, _ := roles.GetRolesForUser(ctx, "public", "user-1")
	perms, _ := roles.GetPermissionsForUser(ctx, "public", "user-1")
	fmt.Println("roles:", userRoles)
	fmt.Println("permissions:", perms)

	_, err := roles.AddRoleToUser(ctx, "public", "user-1", "root")
	fmt.Println(err)
	// Output:
	// created admin: true
	// user-1 already had it: false
	// roles: [admin]
	// permissions: [todos:delete todos:read]
	// ginauth: bad request: unknown role "root": userroles: unknown role
}

// Guard a route with a role: users without it get 403 "invalid claim".
func ExampleHasRole() {
	gin.SetMode(gin.TestMode)
	roles := userroles.New()
	auth, done := exampleAuth(roles)
	defer done()
	ctx := context.Background()
	roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil)
	roles.AddRoleToUser(ctx, "public", "alice", "admin")

	r := gin.New()
	r.DELETE("/todos/:id", auth.VerifySession(), auth.RequireClaim(userroles.HasRole("admin")), func(c *gin.Context) {
		c.JSON(200, gin.H{"deleted": c.Param("id")})
	})

	for _, user := range []string{"alice", "bob"} {
		_, tokens, _ := auth.CreateSessionTokens(ctx, ginauth.NewSession{UserID: user})
		req := httptest.NewRequest("DELETE", "/todos/7", nil)
		req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(user, w.Code, w.Body.String())
	}
	// Output:
	// alice 200 {"deleted":"7"}
	// bob 403 {"claimValidationErrors":[{"id":"st-role","reason":{"actualValue":[],"expectedToInclude":"admin","message":"wrong value"}}],"message":"invalid claim"}
}
