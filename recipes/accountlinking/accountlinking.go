// Package accountlinking is the account-linking recipe: several login
// methods (e-mail and password, a provider account, a passwordless
// address, ...) of one person as one user.
//
// Every login method still belongs to its own "recipe user"
// (models.User). A primary user stands for itself and the recipe users
// linked to it: GetUser of any of them returns the primary with all their
// login methods, sessions of a linked login method carry the primary's id
// as their user id, and ListUsers lists primaries. Linking happens
// automatically, when the app's ShouldDoAutomaticAccountLinking says so,
// at sign-up, sign-in and e-mail verification; or by hand through
// CreatePrimaryUser, LinkAccounts and UnlinkAccount (and the dashboard).
//
// The rules are the reference backend's (supertokens-node's accountlinking
// recipe and the core's linking checks), including its protections against
// pre-account takeover: with RequireVerification, nothing is linked to or
// through an e-mail address that is not verified, and sign-ups and
// sign-ins that could lead there are refused. See docs/accountlinking.md.
package accountlinking

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the recipe's id.
const RecipeID = kit.LinkingRecipeID

// AccountInfo is what a login method is known by.
type AccountInfo = kit.AccountInfo

// Decision is the app's answer for one login method and one user.
type Decision struct {
	// Link: link the login method to the user (or, when there is no
	// user, make it a primary user that later ones can link to).
	Link bool
	// RequireVerification: only when the login method's e-mail, and the
	// user's, are verified. Without it anyone who signs up with someone
	// else's address before them could end up in their account.
	RequireVerification bool
}

// Config configures the recipe.
type Config struct {
	// ShouldDoAutomaticAccountLinking decides whether newAccountInfo (a
	// login method being created, signed in with or verified) is linked
	// to user, the primary user with the same e-mail or phone number (nil
	// when there is none yet), or, for a sign-up or sign-in made inside a
	// session, to the session's user. session is the request's session
	// when there is one (nil otherwise, and in the Go APIs). Without the
	// callback nothing is linked automatically, and no sign-up or sign-in
	// is linked to a session user.
	ShouldDoAutomaticAccountLinking func(ctx context.Context, newAccountInfo AccountInfo, user *ginauth.User, session *ginauth.Session, tenantID string) (Decision, error)
}

// ErrNotSetUp is returned by the Go API of a recipe that was never set up
// by ginauth.New.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// ErrUnlinkPrimary is UnlinkAccount's answer for a primary user that
// other users are still linked to: unlink those first (the reference
// deletes the primary's own login method instead; ginauth keeps it, since
// the primary's id is what the app's data and the linked users refer to).
var ErrUnlinkPrimary = errors.New("accountlinking: a primary user with linked users cannot be unlinked; unlink the others first")

// Statuses of the Go API, the reference core's.
const (
	StatusOK                               = "OK"
	StatusRecipeUserLinkedToPrimary        = "RECIPE_USER_ID_ALREADY_LINKED_WITH_PRIMARY_USER_ID_ERROR"
	StatusRecipeUserLinkedToAnotherPrimary = "RECIPE_USER_ID_ALREADY_LINKED_WITH_ANOTHER_PRIMARY_USER_ID_ERROR"
	StatusAccountInfoTaken                 = "ACCOUNT_INFO_ALREADY_ASSOCIATED_WITH_ANOTHER_PRIMARY_USER_ID_ERROR"
	StatusNotAPrimaryUser                  = "INPUT_USER_IS_NOT_A_PRIMARY_USER"
)

// Result is the outcome of CreatePrimaryUser, LinkAccounts and their Can*
// checks.
type Result struct {
	// Status is StatusOK or one of the conflict statuses.
	Status string
	// PrimaryUserID names the primary user of a conflict, or the primary
	// user on StatusOK.
	PrimaryUserID string
	// Already is true when nothing had to change: the user was already
	// primary, or the accounts already linked.
	Already bool
	// Description explains a conflict.
	Description string
	// User is the primary user after CreatePrimaryUser or LinkAccounts
	// returned StatusOK (nil for the Can* checks).
	User *ginauth.User
}

// Recipe is the account-linking recipe.
type Recipe struct {
	cfg Config
	k   *kit.Kit
}

// New returns the recipe.
func New(cfg Config) *Recipe { return &Recipe{cfg: cfg} }

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the recipe's table, turns on the sessions' resolution
// of linked users, and deletes a deleted user's account info.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	r.k = kit.From(reg)
	reg.RequireTables(models.AccountLinkingTables()...)
	reg.EnableAccountLinking()
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).
			Where("primary_user_id = ? OR recipe_user_id = ?", userID, userID).Delete(&models.AccountInfo{}).Error)
	})
	// A deleted tenant's claims go with it: a tenant made again under the
	// same id starts with none.
	reg.OnTenantDelete(func(ctx context.Context, tx *gorm.DB, tenantID string) error {
		return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).Where("tenant_id = ?", tenantID).Delete(&models.AccountInfo{}).Error)
	})
	return nil
}

func (r *Recipe) ready() error {
	if r == nil || r.k == nil {
		return ErrNotSetUp
	}
	return nil
}

// decide asks the app; no callback means no automatic linking. The
// request's session, when the sign-in recipe put one in ctx
// (kit.WithSession), goes with the question.
func (r *Recipe) decide(ctx context.Context, info AccountInfo, user *ginauth.User, tenantID string) (Decision, error) {
	if r.cfg.ShouldDoAutomaticAccountLinking == nil {
		return Decision{}, nil
	}
	return r.cfg.ShouldDoAutomaticAccountLinking(ctx, info, user, kit.SessionFrom(ctx), tenantID)
}
