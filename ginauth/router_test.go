package ginauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
)

// pathRecipe serves GET /shared (and, with dup, a second time), answering
// its own id.
type pathRecipe struct {
	id     string
	shared bool
	dup    bool
}

func (p pathRecipe) ID() string { return p.id }

func (p pathRecipe) Setup(r *Registrar) error {
	rt := Route{Method: http.MethodGet, Path: "/shared", Shared: p.shared,
		Handler: func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"recipe": p.id, "tenant": TenantID(c)}) }}
	if err := r.Handle(rt); err != nil {
		return err
	}
	if p.dup {
		return r.Handle(rt)
	}
	return nil
}

// A path two recipes both register Shared is served by the one the rid
// header names, else by the first configured, under Middleware and
// RegisterRoutes, with and without a tenant prefix. Mirrors the rid
// branch and handleWithoutRid of supertokens-node's SuperTokens.middleware.
// Registering a path twice is still a configuration error unless both
// registrations are Shared and come from different recipes.
func TestSharedRouteRIDDispatch(t *testing.T) {
	for _, serve := range []string{"middleware", "register-routes"} {
		t.Run(serve, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Recipes = append(c.Recipes, pathRecipe{id: "emailpassword", shared: true}, pathRecipe{id: "passwordless", shared: true})
			})
			r := h.r
			if serve == "register-routes" {
				r = gin.New()
				h.auth.RegisterRoutes(r)
			}
			for rid, want := range map[string]string{
				"emailpassword": "emailpassword", "thirdpartyemailpassword": "emailpassword",
				"passwordless": "passwordless", "thirdpartypasswordless": "passwordless",
				"": "emailpassword", "anti-csrf": "emailpassword", "thirdparty": "emailpassword",
			} {
				for _, path := range []string{"/auth/shared", "/auth/public/shared"} {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					if rid != "" {
						req.Header.Set("rid", rid)
					}
					w := httptest.NewRecorder()
					r.ServeHTTP(w, req)
					if w.Code != http.StatusOK || !jsonHas(w.Body.Bytes(), "recipe", want) {
						t.Errorf("%s rid %q: %d %s, want %s", path, rid, w.Code, w.Body, want)
					}
				}
			}
		})
	}
	for name, recipes := range map[string][]Recipe{
		"one not shared": {pathRecipe{id: "a", shared: true}, pathRecipe{id: "b"}},
		"same recipe":    {pathRecipe{id: "a", shared: true, dup: true}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig(t, ginauthtest.NewClock(time.Time{}))
			cfg.Recipes = recipes
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("New: %v, want a config error", err)
			}
		})
	}
}

// jsonHas reports whether a JSON object body has key set to the string want.
func jsonHas(body []byte, key, want string) bool {
	var m map[string]any
	return json.Unmarshal(body, &m) == nil && m[key] == want
}
