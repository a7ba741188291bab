package multitenancy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

func init() { gin.SetMode(gin.TestMode) }

// harness is an Auth with the multitenancy recipe (plus whatever recipes a
// test asks for) on a fresh database, behind a real gin engine.
type harness struct {
	t     *testing.T
	ctx   context.Context
	auth  *ginauth.Auth
	mt    *multitenancy.Recipe
	clock *ginauthtest.Clock
	r     *gin.Engine
}

type option func(*harnessConfig)

type harnessConfig struct {
	recipes        []ginauth.Recipe
	registerRoutes bool
	mt             multitenancy.Config
	recipe         *multitenancy.Recipe
}

// withRecipes adds recipes besides multitenancy.
func withRecipes(rs ...ginauth.Recipe) option {
	return func(c *harnessConfig) { c.recipes = append(c.recipes, rs...) }
}

// withRegisterRoutes serves the auth API as gin routes instead of through
// the middleware.
func withRegisterRoutes() option { return func(c *harnessConfig) { c.registerRoutes = true } }

func withConfig(cfg multitenancy.Config) option { return func(c *harnessConfig) { c.mt = cfg } }

// withRecipe uses mt as the multitenancy recipe (instead of a new one),
// for tests that wire it into another recipe first.
func withRecipe(mt *multitenancy.Recipe) option { return func(c *harnessConfig) { c.recipe = mt } }

// fastArgon2 keeps sign-ups quick.
var fastArgon2 = emailpassword.Argon2Params{Memory: 64, Iterations: 1, Parallelism: 1}

func newEmailPassword() *emailpassword.Recipe {
	return emailpassword.New(emailpassword.Config{Argon2: fastArgon2})
}

// staticProvider is a provider described entirely by data (no discovery),
// with one client per clientType given ("" for a single untyped client).
func staticProvider(id, name string, clientTypes ...string) thirdparty.Provider {
	p := thirdparty.Provider{ID: id, Name: name,
		AuthURL: "https://idp.invalid/" + id + "/auth", TokenURL: "https://idp.invalid/" + id + "/token",
		UserInfoURL: "https://idp.invalid/" + id + "/userinfo"}
	if len(clientTypes) == 0 {
		clientTypes = []string{""}
	}
	for _, ct := range clientTypes {
		p.Clients = append(p.Clients, thirdparty.Client{ClientType: ct, ClientID: id + "-" + ct + "-client", ClientSecret: "s"})
	}
	return p
}

func newThirdParty(ps ...thirdparty.Provider) *thirdparty.Recipe {
	if len(ps) == 0 {
		ps = []thirdparty.Provider{staticProvider("google", "Google")}
	}
	return thirdparty.New(thirdparty.Config{Providers: ps})
}

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	var hc harnessConfig
	for _, o := range opts {
		o(&hc)
	}
	db := ginauthtest.OpenDB(t)
	if hc.recipe == nil {
		hc.recipe = multitenancy.New(hc.mt)
	}
	h := &harness{t: t, ctx: context.Background(), mt: hc.recipe,
		clock: ginauthtest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)), r: gin.New()}
	a, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: append(hc.recipes, h.mt),
		Now:     h.clock.Now,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	if hc.registerRoutes {
		a.RegisterRoutes(h.r)
	} else {
		h.r.Use(a.Middleware())
	}
	// The test's own sign-in: a session for ?user= in ?tenant=, started
	// with ?factor=.
	h.r.POST("/login", recipetest.Login(a, ""))
	return h
}

// client keeps a frontend's tokens in header mode.
type client struct {
	h *harness
	c *ginauthtest.Client
}

type resp struct {
	code    int
	raw     string
	body    map[string]any
	payload map[string]any // the front-token's "up", when one was sent
}

func (cl *client) do(method, path, body string) resp {
	cl.h.t.Helper()
	w := cl.c.Do(method, path, body)
	r := resp{code: w.Code, raw: w.Body.String(), body: w.JSON}
	if ft := w.Header().Get("front-token"); ft != "" && ft != "remove" {
		r.payload = ginauthtest.DecodeFrontToken(cl.h.t, ft)
	}
	return r
}

func (h *harness) client() *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, RID: "anti-csrf"}}
}

// get is a one-off request without a session.
func (h *harness) get(path string) resp {
	h.t.Helper()
	return h.client().do("GET", path, "")
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// createTenant creates a tenant and fails the test on error.
func (h *harness) createTenant(id string, cfg multitenancy.TenantConfig) {
	h.t.Helper()
	if _, err := h.mt.CreateOrUpdateTenant(h.ctx, id, cfg); err != nil {
		h.t.Fatalf("CreateOrUpdateTenant(%s): %v", id, err)
	}
}

// newUser creates a bare user in tenant.
func (h *harness) newUser(tenant string) string {
	h.t.Helper()
	id, _, err := kit.Of(h.auth).CreateUser(h.ctx, kit.Of(h.auth).DB(), tenant)
	h.must(err)
	return id
}

func (h *harness) sessionCount(userID string) int {
	h.t.Helper()
	ss, err := h.auth.ListSessions(h.ctx, userID)
	h.must(err)
	return len(ss)
}

// isErr reports errors.Is(err, target).
func isErr(err, target error) bool { return errors.Is(err, target) }

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
