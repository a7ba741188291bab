package userroles

import (
	"context"
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the id of the userroles recipe.
const RecipeID = "userroles"

// ErrUnknownRole is returned, inside a 400 *ginauth.Error, when an
// operation names a role that was never created (or was deleted). Check it
// with errors.Is.
var ErrUnknownRole = errors.New("userroles: unknown role")

// ErrNotSetUp is returned when a Recipe is used before ginauth.New has set
// it up, or when a package-level claim finds no set-up recipe.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// maxNameLen bounds role and permission names (the column size).
const maxNameLen = 255

// Config tunes the recipe. The zero value adds both claims to every new
// session.
type Config struct {
	// SkipAddingRolesToAccessToken leaves st-role out of new sessions. A
	// validator such as HasRole still fetches it on first use.
	SkipAddingRolesToAccessToken bool
	// SkipAddingPermissionsToAccessToken leaves st-perm out of new
	// sessions. A validator such as HasPermission still fetches it on first
	// use.
	SkipAddingPermissionsToAccessToken bool
}

// Recipe stores roles, their permissions and users' roles, and puts them in
// access tokens as the st-role and st-perm claims. Create it with New and
// pass it in ginauth.Config.Recipes; its methods work once ginauth.New has
// returned.
type Recipe struct {
	cfg       Config
	db        *gorm.DB
	roleClaim *claims.PrimitiveArray[string]
	permClaim *claims.PrimitiveArray[string]
}

// New returns the recipe. At most one Config is read. A Recipe belongs to
// the one Auth that sets it up: build another for another Auth.
func New(cfg ...Config) *Recipe {
	r := &Recipe{}
	if len(cfg) > 0 {
		r.cfg = cfg[0]
	}
	// The package-level claims find this recipe through the instance that
	// asks (ginauth.FromContext), so every recipe can share them.
	r.roleClaim = RoleClaim
	r.permClaim = PermissionClaim
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the recipe's tables, claims and user-deletion hook.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	r.db = kit.From(reg).DB()
	reg.RequireTables(models.UserRolesTables()...)
	if !r.cfg.SkipAddingRolesToAccessToken {
		reg.AddClaim(r.roleClaim)
	}
	if !r.cfg.SkipAddingPermissionsToAccessToken {
		reg.AddClaim(r.permClaim)
	}
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		return dbErr(tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.UserRole{}).Error)
	})
	reg.OnTenantDelete(kit.DeleteByTenant(&models.UserRole{}))
	return nil
}

// RoleClaim returns the st-role claim this recipe adds to sessions (the
// package-level RoleClaim).
func (r *Recipe) RoleClaim() *claims.PrimitiveArray[string] { return r.roleClaim }

// PermissionClaim returns this recipe's st-perm claim (see RoleClaim).
func (r *Recipe) PermissionClaim() *claims.PrimitiveArray[string] { return r.permClaim }

func (r *Recipe) conn(ctx context.Context) (*gorm.DB, error) {
	if r.db == nil {
		return nil, ErrNotSetUp
	}
	return r.db.WithContext(kit.DBContext(ctx)), nil
}

func dbErr(err error) error { return ginauth.DBError(err) }

func unknownRole(role string) error {
	e := ginauth.BadRequest("unknown role %q", role)
	e.Err = ErrUnknownRole
	return e
}

func checkName(kind, s string) error {
	if strings.TrimSpace(s) == "" {
		return ginauth.BadRequest("the %s must not be empty", kind)
	}
	if len(s) > maxNameLen {
		return ginauth.BadRequest("the %s is longer than %d bytes", kind, maxNameLen)
	}
	return nil
}

func uniq(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// roleExists reports whether role was created.
func roleExists(db *gorm.DB, role string) (bool, error) {
	var n int64
	if err := db.Model(&models.Role{}).Where("role = ?", role).Limit(1).Count(&n).Error; err != nil {
		return false, dbErr(err)
	}
	return n > 0, nil
}

// requireRole returns an ErrUnknownRole error unless role was created.
func requireRole(db *gorm.DB, role string) error {
	ok, err := roleExists(db, role)
	if err != nil {
		return err
	}
	if !ok {
		return unknownRole(role)
	}
	return nil
}

// pluckSorted returns column of the rows q selects, sorted by it.
func pluckSorted(q *gorm.DB, column string) ([]string, error) {
	out := []string{}
	if err := q.Order(column).Pluck(column, &out).Error; err != nil {
		return nil, dbErr(err)
	}
	return out, nil
}

// CreateNewRoleOrAddPermissions creates role if it does not exist and gives
// it perms (permissions it already has are kept). It reports whether the
// role was created. Safe to call concurrently and repeatedly.
func (r *Recipe) CreateNewRoleOrAddPermissions(ctx context.Context, role string, perms []string) (createdNewRole bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	if err := checkName("role", role); err != nil {
		return false, err
	}
	perms = uniq(perms)
	rows := make([]models.RolePermission, 0, len(perms))
	for _, p := range perms {
		if err := checkName("permission", p); err != nil {
			return false, err
		}
		rows = append(rows, models.RolePermission{Role: role, Permission: p})
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		// The insert comes first so that SQLite takes its write lock before
		// any read in the transaction.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.Role{Role: role})
		if res.Error != nil {
			return res.Error
		}
		createdNewRole = res.RowsAffected > 0
		if len(rows) == 0 {
			return nil
		}
		return tx.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	})
	if err != nil {
		return false, dbErr(err)
	}
	return createdNewRole, nil
}

// RemovePermissionsFromRole takes perms away from role. Permissions the
// role does not have are ignored; an unknown role is ErrUnknownRole.
func (r *Recipe) RemovePermissionsFromRole(ctx context.Context, role string, perms []string) error {
	db, err := r.conn(ctx)
	if err != nil {
		return err
	}
	if err := requireRole(db, role); err != nil {
		return err
	}
	if len(perms) == 0 {
		return nil
	}
	return dbErr(db.Where("role = ? AND permission IN ?", role, uniq(perms)).Delete(&models.RolePermission{}).Error)
}

// DeleteRole deletes role, its permissions and every user's assignment of
// it, in one transaction. It reports whether the role existed.
func (r *Recipe) DeleteRole(ctx context.Context, role string) (didRoleExist bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("role = ?", role).Delete(&models.Role{})
		if res.Error != nil {
			return res.Error
		}
		didRoleExist = res.RowsAffected > 0
		if err := tx.Where("role = ?", role).Delete(&models.UserRole{}).Error; err != nil {
			return err
		}
		return tx.Where("role = ?", role).Delete(&models.RolePermission{}).Error
	})
	if err != nil {
		return false, dbErr(err)
	}
	return didRoleExist, nil
}

// GetAllRoles returns every role, sorted.
func (r *Recipe) GetAllRoles(ctx context.Context) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	return pluckSorted(db.Model(&models.Role{}), "role")
}

// AddRoleToUser gives role to a user in a tenant ("" means "public"). It
// reports whether the user already had it; an unknown role is
// ErrUnknownRole. Concurrent calls for the same assignment store it once.
// The user's sessions see the change at their next claim refetch (see
// RefreshRolesInSession and UpdateRolesInSessions to hurry it).
func (r *Recipe) AddRoleToUser(ctx context.Context, tenantID, userID, role string) (didUserAlreadyHaveRole bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	if userID == "" {
		return false, ginauth.BadRequest("the user id must not be empty")
	}
	if err := requireRole(db, role); err != nil {
		return false, err
	}
	// One statement: the primary key makes concurrent inserts of the same
	// assignment collapse into one row, without a read-then-write race.
	res := db.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&models.UserRole{UserID: userID, TenantID: kit.TenantOr(tenantID), Role: role})
	if res.Error != nil {
		// A foreign-key failure here means the role was deleted meanwhile.
		if ok, err := roleExists(db, role); err == nil && !ok {
			return false, unknownRole(role)
		}
		return false, dbErr(res.Error)
	}
	return res.RowsAffected == 0, nil
}

// RemoveUserRole takes role away from a user in a tenant ("" means
// "public"). It reports whether the user had it; an unknown role is
// ErrUnknownRole.
func (r *Recipe) RemoveUserRole(ctx context.Context, tenantID, userID, role string) (didUserHaveRole bool, err error) {
	db, err := r.conn(ctx)
	if err != nil {
		return false, err
	}
	if err := requireRole(db, role); err != nil {
		return false, err
	}
	res := db.Where("user_id = ? AND tenant_id = ? AND role = ?", userID, kit.TenantOr(tenantID), role).Delete(&models.UserRole{})
	if res.Error != nil {
		return false, dbErr(res.Error)
	}
	return res.RowsAffected > 0, nil
}

// GetRolesForUser returns a user's roles in a tenant ("" means "public"),
// sorted.
func (r *Recipe) GetRolesForUser(ctx context.Context, tenantID, userID string) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	return pluckSorted(db.Model(&models.UserRole{}).Where("user_id = ? AND tenant_id = ?", userID, kit.TenantOr(tenantID)), "role")
}

// GetUsersThatHaveRole returns the ids of the users having role in a tenant
// ("" means "public"), sorted; an unknown role is ErrUnknownRole.
func (r *Recipe) GetUsersThatHaveRole(ctx context.Context, tenantID, role string) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireRole(db, role); err != nil {
		return nil, err
	}
	return pluckSorted(db.Model(&models.UserRole{}).Where("role = ? AND tenant_id = ?", role, kit.TenantOr(tenantID)), "user_id")
}

// GetPermissionsForRole returns role's permissions, sorted; an unknown role
// is ErrUnknownRole.
func (r *Recipe) GetPermissionsForRole(ctx context.Context, role string) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireRole(db, role); err != nil {
		return nil, err
	}
	return pluckSorted(db.Model(&models.RolePermission{}).Where("role = ?", role), "permission")
}

// GetRolesThatHavePermission returns the roles granting perm, sorted.
func (r *Recipe) GetRolesThatHavePermission(ctx context.Context, perm string) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	return pluckSorted(db.Model(&models.RolePermission{}).Where("permission = ?", perm), "role")
}

// GetPermissionsForUser returns the union of the permissions of a user's
// roles in a tenant ("" means "public"), sorted: the st-perm claim's value.
func (r *Recipe) GetPermissionsForUser(ctx context.Context, tenantID, userID string) ([]string, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	sub := db.Model(&models.UserRole{}).Select("role").Where("user_id = ? AND tenant_id = ?", userID, kit.TenantOr(tenantID))
	return pluckSorted(db.Model(&models.RolePermission{}).Distinct("permission").Where("role IN (?)", sub), "permission")
}

func (r *Recipe) fetchRoles(ctx context.Context, userID, tenantID string) ([]string, bool, error) {
	roles, err := r.GetRolesForUser(ctx, tenantID, userID)
	return roles, err == nil, err
}

func (r *Recipe) fetchPermissions(ctx context.Context, userID, tenantID string) ([]string, bool, error) {
	perms, err := r.GetPermissionsForUser(ctx, tenantID, userID)
	return perms, err == nil, err
}
