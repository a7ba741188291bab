package ginauth

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
)

func TestGlobalClaimAddedAtCreationAndRefetched(t *testing.T) {
	var plan atomic.Value
	plan.Store("free")
	var fetches atomic.Int32
	planClaim := claims.NewPrimitive("plan", func(ctx context.Context, userID, tenantID string) (string, bool, error) {
		fetches.Add(1)
		return plan.Load().(string), true, nil
	})
	h := newHarness(t, func(c *Config) {
		c.Session.Claims = []claims.Claim{planClaim}
		c.Session.GlobalValidators = []claims.Validator{planClaim.HasValue("pro", claims.MaxAge(time.Minute))}
	})
	h.r.GET("/open", h.auth.VerifySession(VerifyOptions{OverrideGlobalClaimValidators: func(g []claims.Validator, c *gin.Context) []claims.Validator {
		return nil
	}}), func(c *gin.Context) { c.JSON(200, gin.H{}) })
	h.r.GET("/skip", h.auth.VerifySession(VerifyOptions{SkipClaims: true}), func(c *gin.Context) { c.JSON(200, gin.H{}) })

	cl := h.client("cookie")
	cl.login("u1")
	if v, ok := planClaim.Get(cl.frontPayload()["up"].(map[string]any)); !ok || v != "free" {
		t.Fatalf("claim at creation = %q, %v", v, ok)
	}
	r := cl.do("GET", "/me", "")
	expect(t, r, 403, "invalid claim")
	errs, _ := r.body["claimValidationErrors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["id"] != "plan" {
		t.Fatalf("claimValidationErrors %s", r.Body)
	}
	reason := errs[0].(map[string]any)["reason"].(map[string]any)
	if reason["message"] != "wrong value" || reason["expectedValue"] != "pro" || reason["actualValue"] != "free" {
		t.Fatalf("reason %v", reason)
	}
	expect(t, cl.do("GET", "/open", ""), 200, "")
	expect(t, cl.do("GET", "/skip", ""), 200, "")

	// The value changes; within max age the token still says "free".
	plan.Store("pro")
	before := fetches.Load()
	expect(t, cl.do("GET", "/me", ""), 403, "invalid claim")
	if fetches.Load() != before {
		t.Fatal("refetched before max age")
	}
	// Past max age the guard refetches, stores and sends a new token.
	h.clock.Advance(61 * time.Second)
	oldFront := cl.Front
	r = cl.do("GET", "/me", "")
	expect(t, r, 200, "")
	if cl.Front == oldFront || r.Header().Get("front-token") == "" {
		t.Fatal("refetch did not send a new front-token")
	}
	// The new value survives a refresh (it is stored with the session).
	expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
	if v, _ := planClaim.Get(cl.frontPayload()["up"].(map[string]any)); v != "pro" {
		t.Fatalf("after refresh the claim is %q", v)
	}
}

func TestRequireClaim(t *testing.T) {
	admin := claims.NewPrimitiveArray("roles", func(ctx context.Context, userID, tenantID string) ([]string, bool, error) {
		if userID == "boss" {
			return []string{"admin"}, true, nil
		}
		return []string{}, true, nil
	})
	h := newHarness(t, func(c *Config) { c.Session.Claims = []claims.Claim{admin} })
	h.r.DELETE("/todos/:id", h.auth.VerifySession(), h.auth.RequireClaim(admin.Includes("admin")), func(c *gin.Context) {
		c.JSON(200, gin.H{"deleted": c.Param("id")})
	})
	h.r.GET("/noverify", h.auth.RequireClaim(admin.Includes("admin")), func(c *gin.Context) { c.JSON(200, gin.H{}) })

	boss := h.client("header")
	boss.login("boss")
	expect(t, boss.do("DELETE", "/todos/7", ""), 200, "")

	user := h.client("header")
	user.login("joe")
	r := user.do("DELETE", "/todos/7", "")
	expect(t, r, 403, "invalid claim")
	reason := r.body["claimValidationErrors"].([]any)[0].(map[string]any)["reason"].(map[string]any)
	if reason["expectedToInclude"] != "admin" {
		t.Fatalf("reason %v", reason)
	}
	expect(t, h.client("header").do("DELETE", "/todos/7", ""), 401, "unauthorised")
	expect(t, user.do("GET", "/noverify", ""), 401, "unauthorised")
}

func TestSessionAPI(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	h.r.POST("/merge", h.auth.VerifySession(), func(c *gin.Context) {
		s := MustSession(c)
		if err := s.MergeIntoAccessTokenPayload(c, claims.Payload{"theme": "dark", "sub": "evil", "gone": nil}); err != nil {
			h.auth.writeError(c, err)
			return
		}
		if err := s.UpdateSessionData(c, map[string]any{"cart": 3.0}); err != nil {
			h.auth.writeError(c, err)
			return
		}
		data, err := s.GetSessionData(c)
		if err != nil {
			h.auth.writeError(c, err)
			return
		}
		c.JSON(200, gin.H{"theme": s.Payload()["theme"], "data": data})
	})
	h.r.GET("/ctx", h.auth.VerifySession(), func(c *gin.Context) {
		s, ok := SessionFromContext(c.Request.Context())
		s2, ok2 := SessionFromContext(c)
		c.JSON(200, gin.H{"ok": ok && ok2 && s == s2, "user": s.UserID()})
	})

	cl := h.client("cookie")
	cl.login("u1")
	oldFront := cl.Front
	r := cl.do("POST", "/merge", "")
	expect(t, r, 200, "")
	if cl.Front == oldFront || r.body["theme"] != "dark" || r.body["data"].(map[string]any)["cart"] != 3.0 {
		t.Fatalf("merge: %s", r.Body)
	}
	up := cl.frontPayload()["up"].(map[string]any)
	if up["theme"] != "dark" || up["sub"] != "u1" {
		t.Fatalf("payload after merge: %v", up)
	}
	if r := cl.do("GET", "/ctx", ""); r.body["ok"] != true || r.body["user"] != "u1" {
		t.Fatalf("SessionFromContext: %s", r.Body)
	}
	expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
	if cl.frontPayload()["up"].(map[string]any)["theme"] != "dark" {
		t.Fatal("merged payload lost on refresh")
	}

	// Offline API.
	offline, tok, err := h.auth.CreateSessionTokens(ctx, NewSession{UserID: "u1", AccessTokenPayload: claims.Payload{"k": "v"}, SessionData: map[string]any{"a": "b"}})
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.FrontToken == "" {
		t.Fatalf("CreateSessionTokens: %+v, %v", tok, err)
	}
	list, err := h.auth.ListSessions(ctx, "u1")
	if err != nil || len(list) != 2 {
		t.Fatalf("ListSessions: %d, %v", len(list), err)
	}
	// Both sessions were created at the same instant of the test clock, so
	// their order is the database's: put the offline one second.
	if list[0].Handle == offline.Handle() {
		list[0], list[1] = list[1], list[0]
	}
	info, err := h.auth.GetSessionInfo(ctx, list[1].Handle)
	if err != nil || info.SessionData["a"] != "b" || info.AccessTokenPayload["k"] != "v" {
		t.Fatalf("GetSessionInfo: %+v, %v", info, err)
	}
	if err := h.auth.MergeIntoAccessTokenPayload(ctx, list[1].Handle, claims.Payload{"k": nil, "n": 1}); err != nil {
		t.Fatal(err)
	}
	info, _ = h.auth.GetSessionInfo(ctx, list[1].Handle)
	if _, has := info.AccessTokenPayload["k"]; has || info.AccessTokenPayload["n"] != 1.0 {
		t.Fatalf("offline merge: %v", info.AccessTokenPayload)
	}
	if n, err := h.auth.RevokeOtherSessions(ctx, "u1", list[0].Handle); err != nil || n != 1 {
		t.Fatalf("RevokeOtherSessions = %d, %v", n, err)
	}
	if ok, err := h.auth.RevokeSession(ctx, list[0].Handle); !ok || err != nil {
		t.Fatalf("RevokeSession = %v, %v", ok, err)
	}
	if ok, _ := h.auth.RevokeSession(ctx, list[0].Handle); ok {
		t.Fatal("revoking twice reported a session")
	}
	if _, err := h.auth.GetSessionInfo(ctx, list[0].Handle); !isKind(err, ErrNotFound) {
		t.Fatalf("GetSessionInfo after revoke: %v", err)
	}
	if _, _, err := h.auth.CreateSessionTokens(ctx, NewSession{}); !isKind(err, ErrBadRequest) {
		t.Fatalf("session without user: %v", err)
	}
}

func TestBeforeSessionCreateHook(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Hooks.BeforeSessionCreate = func(ctx context.Context, s *NewSession) error {
			if s.UserID == "banned" {
				return BadRequest("user is banned")
			}
			s.AccessTokenPayload["org"] = "acme"
			s.AccessTokenPayload["exp"] = 1 // protected: ignored
			return nil
		}
	})
	cl := h.client("header")
	cl.login("u1")
	up := cl.frontPayload()["up"].(map[string]any)
	if up["org"] != "acme" || up["exp"].(float64) < 1000 {
		t.Fatalf("payload %v", up)
	}
	expect(t, h.client("header").do("POST", "/login?user=banned", ""), 400, "user is banned")
	n, _ := h.auth.ListSessions(t.Context(), "banned")
	if len(n) != 0 {
		t.Fatal("vetoed session was stored")
	}
}

func isKind(err, kind error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == kind
}
