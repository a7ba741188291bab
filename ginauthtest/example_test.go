package ginauthtest_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
)

// An app's test drives its own gin engine with a Client: sign up, call a
// protected route, let the access token expire on the test clock, refresh,
// and sign out, as the frontend SDK would.
func Example() {
	// In a test, db := ginauthtest.OpenDB(t) gives a fresh database (and
	// PostgreSQL or MySQL when GINAUTH_TEST_DATABASE_URL is set). An
	// Example has no t, so it opens one by hand.
	dir, _ := os.MkdirTemp("", "ginauthtest-example")
	defer os.RemoveAll(dir)
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	_ = models.AutoMigrate(db)

	clock := ginauthtest.NewClock(time.Time{})
	auth, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{})},
		Now:     clock.Now,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	_ = r.SetTrustedProxies(nil) // as in production: c.ClientIP() is the peer
	r.Use(auth.Middleware())
	r.GET("/todos", auth.VerifySession(), func(c *gin.Context) { c.JSON(200, []string{}) })

	c := &ginauthtest.Client{Handler: r} // or BaseURL: a running server
	fmt.Println("sign-up:", c.SignUp("ada@example.com", "correct-horse-1").Status())
	fmt.Println("todos:", c.Do("GET", "/todos", nil).Code)
	clock.Advance(2 * time.Hour) // the access token expires
	fmt.Println("todos, expired:", c.Do("GET", "/todos", nil).Code)
	fmt.Println("refresh:", c.RefreshSession().Code)
	fmt.Println("todos, refreshed:", c.Do("GET", "/todos", nil).Code)
	fmt.Println("sign-out:", c.SignOut().Status(), "front token kept:", c.Front != "")
	// Output:
	// sign-up: OK
	// todos: 200
	// todos, expired: 401
	// refresh: 200
	// todos, refreshed: 200
	// sign-out: OK front token kept: false
}
