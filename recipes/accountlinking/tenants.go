package accountlinking

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
)

// groupOf locks userID and, when it belongs to a linked group, its primary
// user, and returns the primary's id ("" for a user of its own).
func groupOf(tx *gorm.DB, userID string) (string, error) {
	row, err := lockUser(tx, userID)
	if err != nil {
		return "", err
	}
	switch {
	case row.PrimaryUserID != "":
		if _, err := lockUser(tx, row.PrimaryUserID); err != nil {
			return "", err
		}
		return row.PrimaryUserID, nil
	case row.IsPrimary:
		return row.ID, nil
	}
	return "", nil
}

// tenantRows returns u's account-info rows in tenantID.
func tenantRows(u *ginauth.User, tenantID string) []models.AccountInfo {
	rows := infoRows(u)
	return slices.DeleteFunc(rows, func(r models.AccountInfo) bool { return r.TenantID != tenantID })
}

// ClaimTenantTx implements kit.AccountLinker. It is the core's check
// behind associateUserToTenant's ASSOCIATION_NOT_ALLOWED_ERROR (reached
// through supertokens-node's Multitenancy.associateUserToTenant): the user's
// group, now a member of tenantID, must not share any account info with
// another primary user there. The rows' key decides a race between two
// primaries associated at once.
func (r *Recipe) ClaimTenantTx(ctx context.Context, tx *gorm.DB, tenantID, userID string) (string, error) {
	if err := r.ready(); err != nil {
		return "", err
	}
	primaryID, err := groupOf(tx, userID)
	if err != nil || primaryID == "" {
		return "", err
	}
	u, err := r.k.GetUserTx(ctx, tx, primaryID)
	if err != nil {
		return "", err
	}
	owner, what, err := claimRows(tx, u.ID, tenantRows(u, tenantID))
	if err != nil || owner == "" {
		return "", err
	}
	return what, nil
}

// ReleaseTenantTx implements kit.AccountLinker: after userID left
// tenantID, the group's claims there are dropped, and claimed again only
// when another member of the group is still in tenantID; a freed address
// can then be another primary user's.
func (r *Recipe) ReleaseTenantTx(ctx context.Context, tx *gorm.DB, tenantID, userID string) error {
	if err := r.ready(); err != nil {
		return err
	}
	primaryID, err := groupOf(tx, userID)
	if err != nil || primaryID == "" {
		return err
	}
	if err := tx.Where("primary_user_id = ? AND tenant_id = ?", primaryID, tenantID).Delete(&models.AccountInfo{}).Error; err != nil {
		return ginauth.DBError(err)
	}
	u, err := r.k.GetUserTx(ctx, tx, primaryID)
	if err != nil {
		return err
	}
	// The rows were the group's until now and stay locked by this
	// transaction: claiming them again cannot clash.
	_, _, err = claimRows(tx, u.ID, tenantRows(u, tenantID))
	return err
}

// RefreshAccountInfoTx implements kit.AccountInfoRefresher: the core's
// check behind a contact change's EMAIL_CHANGE_NOT_ALLOWED_ERROR and
// PHONE_NUMBER_CHANGE_NOT_ALLOWED_ERROR (supertokens-node's passwordless
// updateUser answers them from the core's PUT /recipe/user). The group's
// claims are dropped and made again from its login methods as tx now sees
// them, so that an old address no member still has is freed and a new one
// is claimed; the rows' key decides a race with another primary user.
func (r *Recipe) RefreshAccountInfoTx(ctx context.Context, tx *gorm.DB, recipeUserID string) (string, error) {
	if err := r.ready(); err != nil {
		return "", err
	}
	primaryID, err := groupOf(tx, recipeUserID)
	if err != nil || primaryID == "" {
		return "", err
	}
	if err := tx.Where("primary_user_id = ?", primaryID).Delete(&models.AccountInfo{}).Error; err != nil {
		return "", ginauth.DBError(err)
	}
	u, err := r.k.GetUserTx(ctx, tx, primaryID)
	if err != nil {
		return "", err
	}
	for _, row := range infoRows(u) {
		owner, _, err := claimRows(tx, u.ID, []models.AccountInfo{row})
		if err != nil {
			return "", err
		}
		if owner != "" {
			return row.Kind, nil
		}
	}
	return "", nil
}
