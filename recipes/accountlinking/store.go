package accountlinking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Account-info kinds in models.AccountInfo.
const (
	kindEmail      = "email"
	kindPhone      = "phone"
	kindThirdParty = "thirdparty"
)

// errRollback ends a transaction whose outcome is in its Result: a
// conflict, or a Can* check that must change nothing.
var errRollback = errors.New("accountlinking: rollback")

func thirdPartyValue(tp *ginauth.ThirdPartyInfo) string { return tp.ID + ":" + tp.UserID }

// infoRows returns the account info of every login method of u, in every
// tenant of u, claimed for u (a primary user). The reference core keeps
// the same set: no two primary users may share any of it in a tenant.
func infoRows(u *ginauth.User) []models.AccountInfo {
	var rows []models.AccountInfo
	seen := map[[3]string]bool{}
	add := func(tenant, kind, value, recipeUser string) {
		key := [3]string{tenant, kind, value}
		if value == "" || seen[key] {
			return
		}
		seen[key] = true
		rows = append(rows, models.AccountInfo{TenantID: tenant, Kind: kind, Value: value, PrimaryUserID: u.ID, RecipeUserID: recipeUser})
	}
	for _, t := range u.TenantIDs {
		for _, m := range u.LoginMethods {
			add(t, kindEmail, ginauth.NormaliseEmail(m.Email), m.RecipeUserID)
			add(t, kindPhone, m.PhoneNumber, m.RecipeUserID)
			if m.ThirdParty != nil {
				add(t, kindThirdParty, thirdPartyValue(m.ThirdParty), m.RecipeUserID)
			}
		}
	}
	return rows
}

// claim records u's account info for u inside tx. When another primary
// user holds a piece of it, it returns that user's id and what is shared.
// The insert that does nothing on a taken key waits, on PostgreSQL, for a
// concurrent transaction holding the same key, and then sees its row: two
// concurrent new primary users with one e-mail cannot both commit.
func claim(tx *gorm.DB, u *ginauth.User) (owner, what string, err error) {
	return claimRows(tx, u.ID, infoRows(u))
}

// claimRows is claim for some of a primary user's rows.
func claimRows(tx *gorm.DB, primaryID string, rows []models.AccountInfo) (owner, what string, err error) {
	for _, row := range rows {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return "", "", ginauth.DBError(res.Error)
		}
		if res.RowsAffected == 1 {
			continue
		}
		// A locking read sees the latest committed row: MySQL's repeatable
		// read would otherwise answer from the transaction's snapshot, taken
		// before the concurrent owner committed, and find nothing.
		var held models.AccountInfo
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("tenant_id = ? AND kind = ? AND value = ?", row.TenantID, row.Kind, row.Value).Take(&held).Error; err != nil {
			return "", "", ginauth.DBError(err)
		}
		if held.PrimaryUserID != primaryID {
			return held.PrimaryUserID, fmt.Sprintf("the %s %q in tenant %q belongs to another primary user", row.Kind, row.Value, row.TenantID), nil
		}
	}
	return "", "", nil
}

// lockUser takes the row lock of a user (a write that changes nothing, so
// that it works alike on every database and takes SQLite's write lock
// before any read) and returns the row.
func lockUser(tx *gorm.DB, id string) (*models.User, error) {
	// No user has such an id, and PostgreSQL would refuse the query with
	// an encoding error (a 503) instead of finding nothing.
	if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return nil, ginauth.NewError(ginauth.ErrNotFound, fmt.Errorf("accountlinking: no user %q", id))
	}
	if err := tx.Model(&models.User{}).Where("id = ?", id).Update("is_primary", gorm.Expr("is_primary")).Error; err != nil {
		return nil, ginauth.DBError(err)
	}
	var row models.User
	err := tx.Where("id = ?", id).Take(&row).Error
	if err == nil && row.ID != id {
		// MySQL's collations match an id in another case or in full-width
		// look-alike characters; an id names a user only exactly, as on
		// the other databases.
		err = gorm.ErrRecordNotFound
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ginauth.NewError(ginauth.ErrNotFound, fmt.Errorf("accountlinking: no user %q", id))
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return &row, nil
}

// run runs fn in a transaction (retried on deadlocks) and returns its
// Result; fn ends with errRollback to undo its writes and still answer.
func (r *Recipe) run(ctx context.Context, fn func(tx *gorm.DB, res *Result) error) (*Result, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	var res Result
	err := kit.RetryTransaction(r.k.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		res = Result{}
		return fn(tx, &res)
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	return &res, nil
}

// CreatePrimaryUser makes recipeUserID a primary user, which other login
// methods can then be linked to; as the core's createPrimaryUser:
// StatusRecipeUserLinkedToPrimary when it is linked to one already,
// StatusAccountInfoTaken when another primary user has its e-mail (or
// phone number or provider account) in one of its tenants.
func (r *Recipe) CreatePrimaryUser(ctx context.Context, recipeUserID string) (*Result, error) {
	return r.createPrimary(ctx, recipeUserID, false)
}

// CanCreatePrimaryUser answers as CreatePrimaryUser without changing
// anything.
func (r *Recipe) CanCreatePrimaryUser(ctx context.Context, recipeUserID string) (*Result, error) {
	return r.createPrimary(ctx, recipeUserID, true)
}

func (r *Recipe) createPrimary(ctx context.Context, id string, dry bool) (*Result, error) {
	return r.run(ctx, func(tx *gorm.DB, res *Result) error {
		row, err := lockUser(tx, id)
		if err != nil {
			return err
		}
		switch {
		case row.PrimaryUserID != "":
			*res = Result{Status: StatusRecipeUserLinkedToPrimary, PrimaryUserID: row.PrimaryUserID,
				Description: "the user is already linked to another primary user"}
			return errRollback
		case row.IsPrimary:
			return r.settle(tx, id, dry, res, Result{Status: StatusOK, PrimaryUserID: id, Already: true})
		}
		if err := tx.Model(&models.User{}).Where("id = ?", id).Update("is_primary", true).Error; err != nil {
			return ginauth.DBError(err)
		}
		return r.settle(tx, id, dry, res, Result{Status: StatusOK, PrimaryUserID: id})
	})
}

// settle ends a change to primaryID's group inside tx: it reads the group,
// claims its account info, and answers ok with the group, unless another
// primary user holds a piece of that info (StatusAccountInfoTaken, rolled
// back). A dry run answers ok and rolls back.
func (r *Recipe) settle(tx *gorm.DB, primaryID string, dry bool, res *Result, ok Result) error {
	u, err := r.k.GetUserTx(tx.Statement.Context, tx, primaryID)
	if err != nil {
		return err
	}
	owner, what, err := claim(tx, u)
	if err != nil {
		return err
	}
	if owner != "" {
		*res = Result{Status: StatusAccountInfoTaken, PrimaryUserID: owner, Description: what}
		return errRollback
	}
	*res = ok
	if dry {
		return errRollback
	}
	res.User = u
	return nil
}

// LinkAccounts links recipeUserID to primaryUserID (or to the primary user
// primaryUserID is linked to); as the core's linkAccounts:
// StatusNotAPrimaryUser when primaryUserID is no primary user,
// StatusRecipeUserLinkedToAnotherPrimary when recipeUserID is linked to,
// or is, another primary user, StatusAccountInfoTaken when its account
// info belongs to a third primary user. Linking does not check e-mail
// verification: that is automatic linking's rule, and an admin linking by
// hand decides themselves.
func (r *Recipe) LinkAccounts(ctx context.Context, recipeUserID, primaryUserID string) (*Result, error) {
	return r.link(ctx, recipeUserID, primaryUserID, false)
}

// CanLinkAccounts answers as LinkAccounts without changing anything.
func (r *Recipe) CanLinkAccounts(ctx context.Context, recipeUserID, primaryUserID string) (*Result, error) {
	return r.link(ctx, recipeUserID, primaryUserID, true)
}

func (r *Recipe) link(ctx context.Context, recipeUserID, primaryUserID string, dry bool) (*Result, error) {
	return r.run(ctx, func(tx *gorm.DB, res *Result) error {
		// The recipe user is locked before the primary, in the order
		// UnlinkAccount and the tenant claims (groupOf) lock a member and
		// its primary: the opposite order deadlocked a link racing an
		// unlink of the same pair on PostgreSQL, a second each, until the
		// retries ran out (TestConcurrentAssociationsAndLinks). Its error
		// waits until the primary's checks, which answer first.
		rec, recErr := lockUser(tx, recipeUserID)
		p, err := lockUser(tx, primaryUserID)
		if err != nil {
			return err
		}
		if p.PrimaryUserID != "" {
			if p, err = lockUser(tx, p.PrimaryUserID); err != nil {
				return err
			}
		}
		if !p.IsPrimary {
			*res = Result{Status: StatusNotAPrimaryUser, Description: "the user to link to is not a primary user"}
			return errRollback
		}
		if recErr != nil {
			return recErr
		}
		switch {
		case rec.ID == p.ID || rec.PrimaryUserID == p.ID:
			*res = Result{Status: StatusOK, PrimaryUserID: p.ID, Already: true}
			if dry {
				return errRollback
			}
			res.User, err = r.k.GetUserTx(tx.Statement.Context, tx, p.ID)
			return err
		case rec.PrimaryUserID != "":
			*res = Result{Status: StatusRecipeUserLinkedToAnotherPrimary, PrimaryUserID: rec.PrimaryUserID,
				Description: "the recipe user is already linked to another primary user"}
			return errRollback
		case rec.IsPrimary:
			*res = Result{Status: StatusRecipeUserLinkedToAnotherPrimary, PrimaryUserID: rec.ID,
				Description: "the recipe user is itself a primary user"}
			return errRollback
		}
		if err := tx.Model(&models.User{}).Where("id = ?", rec.ID).Update("primary_user_id", p.ID).Error; err != nil {
			return ginauth.DBError(err)
		}
		return r.settle(tx, p.ID, dry, res, Result{Status: StatusOK, PrimaryUserID: p.ID})
	})
}

// Unlinked is UnlinkAccount's outcome.
type Unlinked struct {
	// WasLinked is false when the user was neither linked nor primary.
	WasLinked bool
	// WasRecipeUserDeleted is always false: see ErrUnlinkPrimary.
	WasRecipeUserDeleted bool
}

// UnlinkAccount detaches recipeUserID from its primary user: it becomes a
// user of its own again, and its sessions (those of the primary user made
// through this login method) are revoked, as the reference's
// unlinkAccount. A primary user alone stops being primary; one that others
// are linked to is ErrUnlinkPrimary.
func (r *Recipe) UnlinkAccount(ctx context.Context, recipeUserID string) (*Unlinked, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	var out Unlinked
	err := kit.RetryTransaction(r.k.DB().WithContext(kit.DBContext(ctx)), func(tx *gorm.DB) error {
		out = Unlinked{}
		rec, err := lockUser(tx, recipeUserID)
		if err != nil {
			return err
		}
		switch {
		case rec.IsPrimary:
			var n int64
			if err := tx.Model(&models.User{}).Where("primary_user_id = ?", rec.ID).Count(&n).Error; err != nil {
				return ginauth.DBError(err)
			}
			if n > 0 {
				return ginauth.NewError(ginauth.ErrBadRequest, ErrUnlinkPrimary)
			}
			if err := tx.Model(&models.User{}).Where("id = ?", rec.ID).Update("is_primary", false).Error; err != nil {
				return ginauth.DBError(err)
			}
			if err := tx.Where("primary_user_id = ?", rec.ID).Delete(&models.AccountInfo{}).Error; err != nil {
				return ginauth.DBError(err)
			}
		case rec.PrimaryUserID != "":
			if _, err := lockUser(tx, rec.PrimaryUserID); err != nil {
				return err
			}
			if err := tx.Model(&models.User{}).Where("id = ?", rec.ID).Update("primary_user_id", "").Error; err != nil {
				return ginauth.DBError(err)
			}
			// Re-claim what the primary still has: a value the unlinked
			// user brought may be the primary's too.
			if err := tx.Where("primary_user_id = ?", rec.PrimaryUserID).Delete(&models.AccountInfo{}).Error; err != nil {
				return ginauth.DBError(err)
			}
			u, err := r.k.GetUserTx(tx.Statement.Context, tx, rec.PrimaryUserID)
			if err != nil {
				return err
			}
			if _, _, err := claim(tx, u); err != nil {
				return err
			}
			if err := tx.Where("recipe_user_id = ? AND user_id <> ?", rec.ID, rec.ID).Delete(&models.Session{}).Error; err != nil {
				return ginauth.DBError(err)
			}
		default:
			return nil
		}
		out.WasLinked = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// primaryFor returns the primary user holding info in tenantID, or "":
// by its e-mail, then its phone number (a passwordless login method may
// have both), then its provider account.
func (r *Recipe) primaryFor(ctx context.Context, tenantID string, info AccountInfo) (string, error) {
	keys := [][2]string{{kindEmail, ginauth.NormaliseEmail(info.Email)}, {kindPhone, info.PhoneNumber}}
	if info.ThirdParty != nil {
		keys = append(keys, [2]string{kindThirdParty, thirdPartyValue(info.ThirdParty)})
	}
	for _, k := range keys {
		if k[1] == "" {
			continue
		}
		var ids []string
		err := r.k.DB().WithContext(kit.DBContext(ctx)).Model(&models.AccountInfo{}).
			Where("tenant_id = ? AND kind = ? AND value = ?", tenantID, k[0], k[1]).Limit(1).Pluck("primary_user_id", &ids).Error
		if err != nil {
			return "", ginauth.DBError(err)
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
	}
	return "", nil
}
