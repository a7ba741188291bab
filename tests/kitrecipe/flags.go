// Package kitrecipe is a recipe written the way a third-party one would be,
// outside the module's recipes and with nothing but the app API (package
// ginauth), the claims package and the recipe kit (recipes/kit). Its test
// proves the kit is enough: a route, a table, a claim, a rate limit, the
// user- and tenant-delete hooks and the "not set up" scaffolding.
package kitrecipe

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe's id.
const RecipeID = "featureflags"

// ActionSetFlag is the recipe's rate-limited action; an app sets its rule
// in ginauth.RateLimitConfig.Limits.
const ActionSetFlag ginauth.Action = "featureflags-set"

// ErrNotSetUp is returned by the Go API before ginauth.New has set the
// recipe up.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// Flag is one feature flag turned on for a user, in the recipe's own table.
type Flag struct {
	UserID   string `gorm:"primaryKey;size:64"`
	Name     string `gorm:"primaryKey;size:64"`
	TenantID string `gorm:"size:64;index;not null"`
}

// TableName is the recipe's table.
func (Flag) TableName() string { return "kitrecipe_flags" }

// Recipe turns named features on per user and puts the user's flags in the
// access token (claim "flags").
type Recipe struct {
	auth  *kit.Kit
	Claim *claims.PrimitiveArray[string]
}

// New returns the recipe.
func New() *Recipe {
	r := &Recipe{}
	r.Claim = claims.NewPrimitiveArray[string]("flags", func(ctx context.Context, userID, _ string) ([]string, bool, error) {
		flags, err := r.Flags(ctx, userID)
		return flags, true, err
	})
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the table, the claim, the route and the delete hooks.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	r.auth = kit.From(reg)
	reg.RequireTables(Flag{}.TableName())
	reg.AddClaim(r.Claim)
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&Flag{}).Error)
	})
	reg.OnTenantDelete(kit.DeleteByTenant(&Flag{}))
	if err := reg.RateLimitAction(ActionSetFlag, ginauth.Limit{PerAccount: ginauth.Rule{Max: 30, Window: time.Minute}}); err != nil {
		return err
	}
	return reg.Handle(ginauth.Route{Method: http.MethodPost, Path: "/flags", Handler: r.handleSet})
}

// handleSet turns on the flag {"name": ...} for the session's user.
func (r *Recipe) handleSet(c *gin.Context) {
	s, err := r.auth.GetSession(c, ginauth.VerifyOptions{})
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if err := r.auth.CheckRateLimit(c, ActionSetFlag, s.UserID()); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	body, err := kit.ReadJSONObject(c, 0, false)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	name, err := kit.StringField(body, "name", 64, true)
	if err != nil {
		r.auth.WriteError(c, err)
		return
	}
	if err := r.Set(c, s.UserID(), s.TenantID(), name); err != nil {
		r.auth.WriteError(c, err)
		return
	}
	r.auth.EmitRequest(c, ginauth.Event{Type: "featureflag-set", UserID: s.UserID(), Detail: name})
	c.JSON(http.StatusOK, gin.H{"status": "OK", "at": r.auth.Now().Format(time.RFC3339)})
}

// Set turns flag name on for a user; setting it twice is not an error.
func (r *Recipe) Set(ctx context.Context, userID, tenantID, name string) error {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return err
	}
	if err := kit.CheckString("the flag name", name, 64); err != nil {
		return err
	}
	row := Flag{UserID: userID, Name: name, TenantID: kit.TenantOr(tenantID)}
	return ginauth.DBError(r.auth.DB().WithContext(kit.DBContext(ctx)).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error)
}

// Flags returns a user's flags, sorted.
func (r *Recipe) Flags(ctx context.Context, userID string) ([]string, error) {
	if err := r.auth.Ready(ErrNotSetUp); err != nil {
		return nil, err
	}
	var names []string
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Model(&Flag{}).Where("user_id = ?", userID).Order("name").Pluck("name", &names).Error
	return names, ginauth.DBError(err)
}
