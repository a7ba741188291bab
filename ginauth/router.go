package ginauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DefaultTenant is the tenant of requests that carry no tenant prefix.
const DefaultTenant = "public"

type tenantKey struct{}

// TenantID returns the tenant an auth API request was addressed to: the
// "/<tenantId>" path prefix, or DefaultTenant.
func TenantID(c *gin.Context) string {
	if v, ok := c.Get(tenantKey{}); ok {
		return v.(string)
	}
	return DefaultTenant
}

// validTenantID mirrors SuperTokens' [a-zA-Z0-9-]+.
func validTenantID(s string) bool {
	if s == "" || len(s) > maxTenantIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// match finds the route for method and a path relative to the base path,
// preferring an exact match over a tenant-prefixed one, as SuperTokens
// does.
func (a *Auth) match(method, rel string) (*route, string, bool) {
	if r, ok := a.routeIndex[method+" "+rel]; ok {
		return r, DefaultTenant, true
	}
	if len(rel) < 2 {
		return nil, "", false
	}
	i := strings.IndexByte(rel[1:], '/')
	if i < 0 {
		return nil, "", false
	}
	tenant, rest := rel[1:i+1], rel[i+1:]
	if !validTenantID(tenant) {
		return nil, "", false
	}
	if r, ok := a.routeIndex[method+" "+rest]; ok && !r.NoTenant {
		return r, tenant, true
	}
	return nil, "", false
}

// ridMatches reports whether a request's rid header names recipe, the
// combined recipe ids of older SDKs naming both of their parts.
func ridMatches(rid, recipe string) bool {
	switch rid {
	case recipe:
		return true
	case "thirdpartyemailpassword":
		return recipe == "thirdparty" || recipe == "emailpassword"
	case "thirdpartypasswordless":
		return recipe == "thirdparty" || recipe == "passwordless"
	}
	return false
}

// pick chooses among the recipes serving a Shared path the one the rid
// header names, else the first configured (as SuperTokens' middleware
// does when no rid-matched recipe handles the path).
func (r *route) pick(c *gin.Context) *route {
	if r.alt == nil {
		return r
	}
	rid := c.GetHeader(HeaderRID)
	for x := r; x != nil; x = x.alt {
		if ridMatches(rid, x.recipe) {
			return x
		}
	}
	return r
}

// boundRequest marks an auth request as served by a (for FromContext, in
// c and in its request context), gives that context the request's website
// origin (origin.go) and the DBTimeout deadline, and returns the function
// that releases the deadline. It returns false, having answered 503, when
// a is closed.
func (a *Auth) boundRequest(c *gin.Context) (context.CancelFunc, bool) {
	if a.refuseClosed(c) {
		return nil, false
	}
	c.Set(authKey{}, a)
	a.withOrigin(c)
	ctx := a.withAuth(c.Request.Context())
	cancel := context.CancelFunc(func() {})
	if a.s.dbTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, a.s.dbTimeout)
	}
	c.Request = c.Request.WithContext(ctx)
	return cancel, true
}

// setTenant resolves the request's tenant through the tenant policy and
// records its canonical id; an unknown tenant is answered with a 404.
func (a *Auth) setTenant(c *gin.Context, tenant string) bool {
	if tenant != DefaultTenant {
		t, err := a.resolveTenant(c.Request.Context(), tenant)
		if err != nil {
			a.writeError(c, err)
			return false
		}
		tenant = t
	}
	c.Set(tenantKey{}, tenant)
	return true
}

// Middleware returns a handler that serves the auth API under the API base
// path and passes every other request on untouched. Use it with
// router.Use, after the CORS middleware.
func (a *Auth) Middleware() gin.HandlerFunc {
	base := a.s.apiBasePath
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if !strings.HasPrefix(p, base) || (len(p) > len(base) && p[len(base)] != '/') {
			c.Next()
			return
		}
		r, tenant, ok := a.match(c.Request.Method, p[len(base):])
		if !ok {
			if r, err := a.checkUnmatchedPath(c.Request.Method, p[len(base):]); err != nil {
				a.rejectInput(c, r, err)
				return
			}
			c.Next()
			return
		}
		release, ok := a.boundRequest(c)
		if !ok {
			return
		}
		defer release()
		if !a.checkInput(c, r) {
			return
		}
		if !a.setTenant(c, tenant) {
			return
		}
		r.pick(c).Handler(c)
		c.Abort()
	}
}

// RegisterRoutes registers the auth API as real gin routes on r, under the
// API base path (r may be a group carrying the app's own middleware). The
// routes behave as Middleware's do and show in engine.Routes(). Use one of
// the two, not both.
func (a *Auth) RegisterRoutes(r gin.IRouter) {
	base := a.s.apiBasePath
	for _, rt := range a.routes {
		if a.routeIndex[rt.Method+" "+rt.Path] != rt {
			continue // served by the first recipe's handler, which picks
		}
		h := func(c *gin.Context) { rt.pick(c).Handler(c) }
		r.Handle(rt.Method, base+rt.Path, func(c *gin.Context) {
			release, ok := a.boundRequest(c)
			if !ok {
				return
			}
			defer release()
			if !a.checkInput(c, rt) {
				return
			}
			c.Set(tenantKey{}, DefaultTenant)
			h(c)
		})
		if rt.NoTenant {
			continue
		}
		r.Handle(rt.Method, base+"/:tenantId"+rt.Path, func(c *gin.Context) {
			release, ok := a.boundRequest(c)
			if !ok {
				return
			}
			defer release()
			if !a.checkInput(c, rt) {
				return
			}
			t := c.Param("tenantId")
			if !validTenantID(t) {
				a.writeError(c, NewError(ErrNotFound, nil))
				return
			}
			if !a.setTenant(c, t) {
				return
			}
			h(c)
		})
	}
}

// addCoreRoutes registers the session endpoints every setup has.
func (a *Auth) addCoreRoutes() {
	a.addRoute("session", Route{Method: http.MethodPost, Path: "/session/refresh", Handler: a.handleRefresh})
	a.addRoute("session", Route{Method: http.MethodPost, Path: "/signout", Handler: a.handleSignOut})
	a.addRoute("jwt", Route{Method: http.MethodGet, Path: "/jwt/jwks.json", Handler: a.handleJWKS})
	a.addRoute("openid", Route{Method: http.MethodGet, Path: "/.well-known/openid-configuration", Handler: a.handleOpenIDConfig})
}

func (a *Auth) handleJWKS(c *gin.Context) {
	keys := a.keys.all()
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.jwk())
	}
	c.Header("Cache-Control", "max-age=60, must-revalidate")
	c.Header("Access-Control-Allow-Origin", "*")
	c.JSON(http.StatusOK, gin.H{"keys": out})
}

func (a *Auth) handleOpenIDConfig(c *gin.Context) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.JSON(http.StatusOK, gin.H{
		"issuer":                                a.s.issuer,
		"jwks_uri":                              a.s.issuer + "/jwt/jwks.json",
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{a.s.alg},
		"response_types_supported":              []string{"code", "id_token", "id_token token"},
	})
}
