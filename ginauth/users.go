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
func (a *Auth) getUser(ctx context.Context, db *gorm.DB, userID string) (*User, error) {
	var row models.User
	err := db.WithContext(dbContext(ctx)).Where("id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, NewError(ErrNotFound, errors.New("no such user"))
	}
	if err != nil {
		return nil, DBError(err)
	}
	var tenants []string
	if err := db.WithContext(dbContext(ctx)).Model(&models.UserTenant{}).Where("user_id = ?", userID).Order("tenant_id").Pluck("tenant_id", &tenants).Error; err != nil {
		return nil, DBError(err)
	}
	u := &User{ID: row.ID, TenantIDs: tenants, TimeJoined: row.TimeJoined.UnixMilli(),
		Emails: []string{}, PhoneNumbers: []string{}, ThirdParty: []ThirdPartyInfo{},
		WebAuthn: WebAuthnInfo{CredentialIDs: []string{}}, LoginMethods: []LoginMethod{}}
	for _, fn := range a.loginMethods {
		ms, err := fn(ctx, db, userID)
		if err != nil {
			return nil, err
		}
		u.LoginMethods = append(u.LoginMethods, ms...)
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
			m.TenantIDs = tenants
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
// sessions, in one transaction. It reports whether the user existed.
func (a *Auth) DeleteUser(ctx context.Context, userID string) (bool, error) {
	var existed bool
	err := a.db.WithContext(dbContext(ctx)).Transaction(func(tx *gorm.DB) error {
		for _, fn := range a.userDeleters {
			if err := fn(ctx, tx, userID); err != nil {
				return err
			}
		}
		if _, err := a.revokeAllSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.UserTenant{}).Error; err != nil {
			return DBError(err)
		}
		if err := tx.Where("user_id = ?", userID).Delete(&models.LoginTenant{}).Error; err != nil {
			return DBError(err)
		}
		res := tx.Where("id = ?", userID).Delete(&models.User{})
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
