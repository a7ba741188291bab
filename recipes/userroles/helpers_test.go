package userroles_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
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
	clock *recipetest.Clock
	r     *gin.Engine
}

func newHarness(t *testing.T, cfg ...userroles.Config) *harness {
	t.Helper()
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, roles: userroles.New(cfg...), meta: usermetadata.New(),
		clock: recipetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), r: gin.New()}
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
	h.r.POST("/login", func(c *gin.Context) {
		if _, err := a.CreateSession(c, ginauth.NewSession{UserID: c.Query("user"), TenantID: c.Query("tenant")}); err != nil {
			a.WriteError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	})
	return h
}

// client keeps a frontend's tokens in header mode.
type client struct {
	h       *harness
	access  string
	refresh string
}

type resp struct {
	code int
	raw  string
	body map[string]any
}

func (cl *client) do(method, path string) resp {
	cl.h.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("st-auth-mode", "header")
	req.Header.Set("rid", "anti-csrf")
	tok := cl.access
	if path == "/auth/session/refresh" {
		tok = cl.refresh
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	cl.h.r.ServeHTTP(w, req)
	if v, ok := w.Header()["St-Access-Token"]; ok {
		cl.access = v[0]
	}
	if v, ok := w.Header()["St-Refresh-Token"]; ok {
		cl.refresh = v[0]
	}
	r := resp{code: w.Code, raw: w.Body.String()}
	_ = json.Unmarshal(w.Body.Bytes(), &r.body)
	return r
}

func (h *harness) login(user string) *client {
	h.t.Helper()
	cl := &client{h: h}
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
