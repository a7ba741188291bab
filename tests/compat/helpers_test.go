package compat

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/passwordless"
	"github.com/ginauth/ginauth/tests/internal/everyrecipe"
)

func init() { gin.SetMode(gin.TestMode) }

// app is ginauth with every recipe, served through Middleware or
// RegisterRoutes.
type app struct {
	auth *ginauth.Auth
	ep   *emailpassword.Recipe
	pl   *passwordless.Recipe
	mt   *multitenancy.Recipe
	r    *gin.Engine
}

type options struct {
	registerRoutes bool // RegisterRoutes instead of Middleware
	plFirst        bool // passwordless before emailpassword in Config.Recipes
}

func newApp(t *testing.T, o options) *app {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	rs := everyrecipe.New(everyrecipe.Options{PasswordlessFirst: o.plFirst})
	a := &app{ep: rs.EmailPassword, pl: rs.Passwordless, mt: rs.Multitenancy}
	auth, err := ginauth.New(ginauth.Config{
		DB: db,
		AppInfo: ginauth.AppInfo{AppName: "Compat", APIDomain: "http://localhost:3001",
			WebsiteDomain: "http://localhost:3000"},
		Recipes: rs.All,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.auth = auth
	if _, err := a.mt.CreateOrUpdateTenant(context.Background(), "t1", multitenancy.TenantConfig{}); err != nil {
		t.Fatal(err)
	}
	a.r = gin.New()
	if o.registerRoutes {
		auth.RegisterRoutes(a.r)
	} else {
		a.r.Use(auth.Middleware())
	}
	return a
}

// do sends a stateless header-mode request with header name, value pairs.
func (a *app) do(method, path, body string, headers ...string) *ginauthtest.Response {
	return (&ginauthtest.Client{Handler: a.r}).Do(method, path, body, headers...)
}

// signIn makes an emailpassword user and signs in in header mode,
// returning the access and refresh tokens.
func (a *app) signIn(t *testing.T, email string) (access, refresh string) {
	t.Helper()
	if _, err := a.ep.SignUp(context.Background(), "public", email, "compat-pass-123"); err != nil {
		t.Fatal(err)
	}
	r := a.do("POST", "/auth/signin", ginauthtest.Form("email", email, "password", "compat-pass-123"))
	if r.Code != http.StatusOK || r.Status() != "OK" {
		t.Fatalf("sign-in: %d %s", r.Code, r.Body)
	}
	access, refresh = r.Header().Get("st-access-token"), r.Header().Get("st-refresh-token")
	if access == "" || refresh == "" {
		t.Fatalf("sign-in set no tokens: %v", r.Header())
	}
	return access, refresh
}

// both runs a test against Middleware and against RegisterRoutes.
func both(t *testing.T, fn func(t *testing.T, registerRoutes bool)) {
	for _, rr := range []bool{false, true} {
		name := "Middleware"
		if rr {
			name = "RegisterRoutes"
		}
		t.Run(name, func(t *testing.T) { fn(t, rr) })
	}
}
