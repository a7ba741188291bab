package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/userroles"
)

// Mount the dashboard with an API key and sign in to it.
func Example() {
	dir, _ := os.MkdirTemp("", "ginauth-example")
	defer os.RemoveAll(dir)
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err := models.AutoMigrate(db); err != nil { // includes ginauth_dashboard_sessions
		panic(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{
			emailpassword.New(emailpassword.Config{}),
			userroles.New(),
			// In an app: os.Getenv("DASHBOARD_API_KEY"), a long random string.
			dashboard.New(dashboard.Config{APIKeys: []string{"example-key-change-me-0123456789"}}),
		},
	})
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(auth.Middleware()) // serves /auth/dashboard with the rest of /auth

	get := httptest.NewRecorder()
	r.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/auth/dashboard", nil))
	fmt.Println(get.Code, get.Header().Get("Location"))

	form := url.Values{"key": {"example-key-change-me-0123456789"}}
	req := httptest.NewRequest(http.MethodPost, "/auth/dashboard/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signin := httptest.NewRecorder()
	r.ServeHTTP(signin, req)
	fmt.Println(signin.Code, signin.Header().Get("Location"))

	req = httptest.NewRequest(http.MethodGet, "/auth/dashboard", nil)
	for _, c := range signin.Result().Cookies() {
		req.AddCookie(c)
	}
	list := httptest.NewRecorder()
	r.ServeHTTP(list, req)
	fmt.Println(list.Code, strings.Contains(list.Body.String(), "No users found."))
	// Output:
	// 303 /auth/dashboard/signin
	// 303 /auth/dashboard
	// 200 true
}
