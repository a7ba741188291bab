package ginauth

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/models"
)

// ThirdPartyInfo names a provider account.
type ThirdPartyInfo struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
}

// WebAuthnInfo is present in FDI ≥ 4.1 user objects and login methods:
// the ids (base64url) of the user's passkeys (recipes/webauthn).
type WebAuthnInfo struct {
	CredentialIDs []string `json:"credentialIds"`
}

// LoginMethod is one way a user signs in, in FDI's shape.
type LoginMethod struct {
	RecipeID     string          `json:"recipeId"`
	RecipeUserID string          `json:"recipeUserId"`
	TenantIDs    []string        `json:"tenantIds"`
	TimeJoined   int64           `json:"timeJoined"`
	Verified     bool            `json:"verified"`
	Email        string          `json:"email,omitempty"`
	PhoneNumber  string          `json:"phoneNumber,omitempty"`
	ThirdParty   *ThirdPartyInfo `json:"thirdParty,omitempty"`
	WebAuthn     *WebAuthnInfo   `json:"webauthn,omitempty"`
}

// User is the FDI user object (fdi-protocol.md §3.0).
type User struct {
	ID            string           `json:"id"`
	IsPrimaryUser bool             `json:"isPrimaryUser"`
	TenantIDs     []string         `json:"tenantIds"`
	TimeJoined    int64            `json:"timeJoined"`
	Emails        []string         `json:"emails"`
	PhoneNumbers  []string         `json:"phoneNumbers"`
	ThirdParty    []ThirdPartyInfo `json:"thirdParty"`
	WebAuthn      WebAuthnInfo     `json:"webauthn"`
	LoginMethods  []LoginMethod    `json:"loginMethods"`
}

// NormaliseEmail is how every recipe stores and compares e-mail
// addresses: trimmed and lower-cased in full. Lower-casing the local part
// goes beyond RFC 5321, which lets it be case-sensitive, but no mail
// provider in use treats it so, and one account per mailbox matters more:
// "Ann@x.io" and "ann@x.io" are the same account. Recipes that match
// addresses across each other (e-mail verification, ListUsers' filter) rely
// on all of them using this one function.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// createUser (kit.Kit.CreateUser) inserts a new user in tenantID and returns its id. Recipes
// call it inside the transaction that stores their own row; pass that
// transaction as db.
func (a *Auth) createUser(ctx context.Context, db *gorm.DB, tenantID string) (string, time.Time, error) {
	if tenantID == "" {
		tenantID = DefaultTenant
	}
	id := random.UUID()
	now := a.now()
	if err := db.WithContext(dbContext(ctx)).Create(&models.User{ID: id, TimeJoined: now}).Error; err != nil {
		return "", time.Time{}, DBError(err)
	}
	if err := db.WithContext(dbContext(ctx)).Create(&models.UserTenant{UserID: id, TenantID: tenantID}).Error; err != nil {
		return "", time.Time{}, DBError(err)
	}
	return id, now, nil
}

// GetUser returns a user in FDI's shape, with the login methods every
// recipe holds, or an ErrNotFound error.
func (a *Auth) GetUser(ctx context.Context, userID string) (*User, error) {
	return a.getUser(ctx, a.db, userID)
}

// getUser reads through db, which may be a transaction (kit.Kit.GetUserTx).
// userID may be a primary user or any user linked to one: the answer is
// the primary with the login methods of every user linked to it
// (recipes/accountlinking), as the reference's getUser.
func (a *Auth) getUser(ctx context.Context, db *gorm.DB, userID string) (*User, error) {
	db = db.WithContext(dbContext(ctx))
	var row models.User
	err := db.Where("id = ?", userID).Take(&row).Error
	if err == nil && row.PrimaryUserID != "" {
		// A fresh struct: GORM would add the filled one's key to the query.
		var primary models.User
		err = db.Where("id = ?", row.PrimaryUserID).Take(&primary).Error
		row = primary
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, NewError(ErrNotFound, errors.New("no such user"))
	}
	if err != nil {
		return nil, DBError(err)
	}
	members := []models.User{row}
	if row.IsPrimary {
		var linked []models.User
		if err := db.Where("primary_user_id = ?", row.ID).Order("time_joined").Order("id").Find(&linked).Error; err != nil {
			return nil, DBError(err)
		}
		members = append(members, linked...)
	}
	ids := make([]string, len(members))
	joined := row.TimeJoined
	for i, m := range members {
		ids[i] = m.ID
		if m.TimeJoined.Before(joined) {
			joined = m.TimeJoined
		}
	}
	var memberships []models.UserTenant
	if err := db.Where("user_id IN ?", ids).Order("tenant_id").Find(&memberships).Error; err != nil {
		return nil, DBError(err)
	}
	tenantsOf := map[string][]string{}
	var tenants []string
	for _, m := range memberships {
		tenantsOf[m.UserID] = append(tenantsOf[m.UserID], m.TenantID)
		if !contains(tenants, m.TenantID) {
			tenants = append(tenants, m.TenantID)
		}
	}
	sort.Strings(tenants)
	u := &User{ID: row.ID, IsPrimaryUser: row.IsPrimary, TenantIDs: tenants, TimeJoined: joined.UnixMilli(),
		Emails: []string{}, PhoneNumbers: []string{}, ThirdParty: []ThirdPartyInfo{},
		WebAuthn: WebAuthnInfo{CredentialIDs: []string{}}, LoginMethods: []LoginMethod{}}
	for _, id := range ids {
		for _, fn := range a.loginMethods {
			ms, err := fn(ctx, db, id)
			if err != nil {
				return nil, err
			}
			u.LoginMethods = append(u.LoginMethods, ms...)
		}
	}
	for _, fn := range a.loginDecorators {
		if err := fn(ctx, db, u.LoginMethods); err != nil {
			return nil, err
		}
	}
	if err := loginMethodTenants(ctx, db, u.LoginMethods); err != nil {
		return nil, err
	}
	sort.SliceStable(u.LoginMethods, func(i, j int) bool { return u.LoginMethods[i].TimeJoined < u.LoginMethods[j].TimeJoined })
	for i := range u.LoginMethods {
		m := &u.LoginMethods[i]
		if m.TenantIDs == nil {
			m.TenantIDs = tenantsOf[m.RecipeUserID]
		}
		if m.Email != "" && !containsFold(u.Emails, m.Email) {
			u.Emails = append(u.Emails, m.Email)
		}
		if m.PhoneNumber != "" && !contains(u.PhoneNumbers, m.PhoneNumber) {
			u.PhoneNumbers = append(u.PhoneNumbers, m.PhoneNumber)
		}
		if m.ThirdParty != nil {
			u.ThirdParty = append(u.ThirdParty, *m.ThirdParty)
		}
		if m.WebAuthn != nil {
			u.WebAuthn.CredentialIDs = append(u.WebAuthn.CredentialIDs, m.WebAuthn.CredentialIDs...)
		}
	}
	return u, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// DeleteUser deletes a user, every recipe's rows for it and all its
// sessions, in one transaction. It reports whether the user existed. A
// primary user is deleted with every user linked to it, and so is a linked
// one (the reference's deleteUser with removeAllLinkedAccounts, its
// default); unlink first (accountlinking.UnlinkAccount) to delete one
// login method alone.
func (a *Auth) DeleteUser(ctx context.Context, userID string) (bool, error) {
	var existed bool
	err := a.db.WithContext(dbContext(ctx)).Transaction(func(tx *gorm.DB) error {
		ids, err := a.linkedGroup(tx, userID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			for _, fn := range a.userDeleters {
				if err := fn(ctx, tx, id); err != nil {
					return err
				}
			}
			if _, err := a.revokeAllSessions(ctx, tx, id, ""); err != nil {
				return err
			}
			if err := tx.Where("user_id = ?", id).Delete(&models.UserTenant{}).Error; err != nil {
				return DBError(err)
			}
		}
		if err := tx.Where("user_id IN ?", ids).Delete(&models.LoginTenant{}).Error; err != nil {
			return DBError(err)
		}
		res := tx.Where("id IN ?", ids).Delete(&models.User{})
		if res.Error != nil {
			return DBError(res.Error)
		}
		existed = res.RowsAffected > 0
		return nil
	})
	if err != nil {
		return false, DBError(err)
	}
	return existed, nil
}

// linkedGroup returns the ids of userID's primary user and of every user
// linked to it, primary first; just userID when it is not linked (also when
// it does not exist).
func (a *Auth) linkedGroup(db *gorm.DB, userID string) ([]string, error) {
	var row models.User
	err := db.Where("id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return []string{userID}, nil
	}
	if err != nil {
		return nil, DBError(err)
	}
	primary := row.ID
	if row.PrimaryUserID != "" {
		primary = row.PrimaryUserID
	} else if !row.IsPrimary {
		return []string{userID}, nil
	}
	var linked []string
	if err := db.Model(&models.User{}).Where("primary_user_id = ?", primary).Order("id").Pluck("id", &linked).Error; err != nil {
		return nil, DBError(err)
	}
	return append([]string{primary}, linked...), nil
}
