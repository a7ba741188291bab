package main

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/userroles"
)

// registerRoutes adds the app's own API. ginauth.Middleware already serves
// /auth/*.
func registerRoutes(r *gin.Engine, cfg config, auth *demoAuth, log *slog.Logger) {
	r.GET("/", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"app": "ginauth demo API", "website": cfg.WebsiteDomain})
	})

	// What the website should offer: the social sign-in buttons and the
	// "Set up 2FA" section. (The demo does not use the multitenancy recipe,
	// whose GET /auth/loginmethods would list the providers; and nothing in
	// the FDI says whether TOTP is on. This small route answers both.)
	r.GET("/features", func(c *gin.Context) {
		providers := []thirdparty.ProviderInfo{}
		if auth.thirdParty != nil {
			providers = auth.thirdParty.Providers()
		}
		c.JSON(http.StatusOK, gin.H{"thirdPartyProviders": providers, "totp": auth.totp != nil})
	})

	// The signed-in user, with its login methods (emailpassword,
	// thirdparty), as the SDKs' user object.
	r.GET("/me", ginauth.VerifySession(), func(c *gin.Context) {
		u, err := ginauth.Default().GetUser(c.Request.Context(), ginauth.MustSession(c).UserID())
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": u})
	})

	// Any signed-in user. A 401 here makes the frontend SDK refresh the
	// session and retry on its own.
	r.GET("/sessioninfo", ginauth.VerifySession(), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(http.StatusOK, gin.H{
			"sessionHandle":      s.Handle(),
			"userId":             s.UserID(),
			"accessTokenPayload": s.AccessTokenPayload(),
		})
	})

	// Admins only: a session without the role gets 403 "invalid claim",
	// which the SDK reports as an API_INVALID_CLAIM event.
	r.GET("/admin", ginauth.VerifySession(), ginauth.RequireClaim(userroles.HasRole(adminRole)), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(http.StatusOK, gin.H{"message": "welcome, admin", "userId": s.UserID()})
	})

	// The user's metadata (usermetadata recipe), which sign-up fills in.
	r.GET("/metadata", ginauth.VerifySession(), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		m, err := auth.metadata.GetUserMetadata(c.Request.Context(), s.UserID())
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"metadata": m})
	})

	if cfg.DevRoutes {
		log.Warn("demo: DEMO_DEV_ROUTES=1: POST /dev/make-admin lets any signed-in user make themselves admin; never enable this in production")
		r.POST("/dev/make-admin", ginauth.VerifySession(), auth.makeAdmin)
	}
}

// makeAdmin (dev only) gives the signed-in user the admin role, and puts
// the new roles in the current session at once: the response carries a new
// access token (and front-token), so the next GET /admin passes. Without
// RefreshRolesInSession the guard would notice the role within
// userroles.DefaultMaxAge.
func (d *demoAuth) makeAdmin(c *gin.Context) {
	ctx, s := c.Request.Context(), ginauth.MustSession(c)
	if _, err := d.roles.AddRoleToUser(ctx, s.TenantID(), s.UserID(), adminRole); err != nil {
		fail(c, err)
		return
	}
	if err := userroles.RefreshRolesInSession(ctx, s); err != nil {
		fail(c, err)
		return
	}
	roles, _ := d.roles.GetRolesForUser(ctx, s.TenantID(), s.UserID())
	c.JSON(http.StatusOK, gin.H{"status": "OK", "roles": roles})
}

// fail answers an error the way ginauth answers its own (JSON, logged,
// nothing internal in the body).
func fail(c *gin.Context, err error) {
	kit.Of(ginauth.Default()).WriteError(c, err)
}
