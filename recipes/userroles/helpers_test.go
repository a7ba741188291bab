package userroles_test

import (
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
)

func init() { gin.SetMode(gin.TestMode) }

// harness is an Auth with the userroles and usermetadata recipes on a fresh
// database, behind a real gin engine. The package-level claims read from
// the recipe set up last, so tests in this package do not run in parallel.
type harness struct {
	t     *testing.T
	auth  *ginauth.Auth
	roles *userroles.Recipe
	meta  *usermetadata.Recipe
	clock *ginauthtest.Clock
	r     *gin.Engine
}

func newHarness(t *testing.T, cfg ...userroles.Config) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	h := &harness{t: t, roles: userroles.New(cfg...), meta: usermetadata.New(),
		clock: ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), r: gin.New()}
	a, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{h.roles, h.meta},
		Now:     h.clock.Now,
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r.Use(a.Middleware())
	// The test's own sign-in: a session for ?user=.
	h.r.POST("/login", recipetest.Login(a, ""))
	return h
}

// client keeps a frontend's tokens in header mode.
type client struct {
	h *harness
	c *ginauthtest.Client
}

type resp struct {
	code int
	raw  string
	body map[string]any
}

func (cl *client) do(method, path string) resp {
	cl.h.t.Helper()
	w := cl.c.Do(method, path, "")
	return resp{code: w.Code, raw: w.Body.String(), body: w.JSON}
}

// client returns a frontend without a session.
func (h *harness) client() *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, RID: "anti-csrf"}}
}

func (h *harness) login(user string) *client {
	h.t.Helper()
	cl := h.client()
	if r := cl.do("POST", "/login?user="+user); r.code != 200 {
		h.t.Fatalf("login: %d %s", r.code, r.raw)
	}
	return cl
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}
