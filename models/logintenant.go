package models

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TableLoginTenants maps each login account to the tenants it signs in to.
const TableLoginTenants = "ginauth_login_tenants"

// Login method kinds of LoginTenant.Method. A thirdparty account's kind
// carries its provider: LoginThirdParty + "google".
const (
	LoginEmailPassword     = "emailpassword"
	LoginPasswordlessEmail = "passwordless-email"
	LoginPasswordlessPhone = "passwordless-phone"
	LoginWebAuthn          = "webauthn"
	LoginThirdParty        = "thirdparty:"
)

// LoginTenant says that a login account (an e-mail and password, a
// provider account, a passwordless address or number, a passkey e-mail)
// signs its user in to a tenant. Sign-ins look accounts up through this
// table, not through the recipe's own row, whose TenantID only records the
// tenant the account was made in.
//
// The primary key (tenant, method, account) is the per-tenant uniqueness
// rule of the SuperTokens core's user_to_tenant tables: one account of a
// kind per tenant, whether the user signed up there or was associated with
// it later. Because the database enforces it, a sign-up and an association
// racing for one address in one tenant cannot both win.
//
// A row is added for the account's own tenant whenever a recipe row is
// created (the AfterCreate hooks below), for another tenant by
// multitenancy's AssociateUserToTenant, and removed by disassociation,
// tenant deletion and user deletion.
type LoginTenant struct {
	TenantID string `gorm:"column:tenant_id;primaryKey;size:64"`
	Method   string `gorm:"column:method;primaryKey;size:80"`
	Account  string `gorm:"column:account;primaryKey;size:256"`
	UserID   string `gorm:"column:user_id;not null;size:64;index"`
}

// TableName returns TableLoginTenants.
func (LoginTenant) TableName() string { return TableLoginTenants }

// LoginKey is one login account of a user: a LoginTenant row without its
// tenant.
type LoginKey struct{ Method, Account string }

// LoginUserIDs is a subquery of the ids of the users whose account
// (method, account) signs in to tenantID. Recipes look their rows up with
// Where("user_id IN (?)", LoginUserIDs(...)).
func LoginUserIDs(db *gorm.DB, tenantID, method, account string) *gorm.DB {
	return db.Session(&gorm.Session{NewDB: true}).Model(&LoginTenant{}).Select("user_id").
		Where("tenant_id = ? AND method = ? AND account = ?", tenantID, method, account)
}

// RekeyLogin changes a user's account of one method in every tenant it
// signs in to (an e-mail change). An account another user holds in one of
// those tenants fails the update with a unique violation. account "" removes
// the user's accounts of that method.
func RekeyLogin(tx *gorm.DB, userID, method, account string) error {
	q := tx.Where("user_id = ? AND method = ?", userID, method)
	if account == "" {
		return q.Delete(&LoginTenant{}).Error
	}
	return q.Model(&LoginTenant{}).Update("account", account).Error
}

// addLogins records the keys in tenantID for userID; called by the hooks
// when a recipe row is created, in the creating transaction, so that a
// unique violation here fails the recipe's insert as its own would.
func addLogins(tx *gorm.DB, tenantID, userID string, keys ...LoginKey) error {
	for _, k := range keys {
		if k.Account == "" {
			continue
		}
		row := LoginTenant{TenantID: tenantID, Method: k.Method, Account: k.Account, UserID: userID}
		// tx is a fresh statement on the creating transaction.
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// LoginKeys returns the account of the row.
func (u *EmailPasswordUser) LoginKeys() []LoginKey {
	return []LoginKey{{LoginEmailPassword, u.Email}}
}

// AfterCreate records the account in its tenant (see LoginTenant).
func (u *EmailPasswordUser) AfterCreate(tx *gorm.DB) error {
	return addLogins(tx, u.TenantID, u.UserID, u.LoginKeys()...)
}

// LoginKeys returns the account of the row.
func (u *ThirdPartyUser) LoginKeys() []LoginKey {
	return []LoginKey{{LoginThirdParty + u.ThirdPartyID, u.ThirdPartyUserID}}
}

// AfterCreate records the account in its tenant (see LoginTenant).
func (u *ThirdPartyUser) AfterCreate(tx *gorm.DB) error {
	return addLogins(tx, u.TenantID, u.UserID, u.LoginKeys()...)
}

// LoginKeys returns the row's address and number (either may be absent).
func (u *PasswordlessUser) LoginKeys() []LoginKey {
	var keys []LoginKey
	if u.Email != nil && *u.Email != "" {
		keys = append(keys, LoginKey{LoginPasswordlessEmail, *u.Email})
	}
	if u.PhoneNumber != nil && *u.PhoneNumber != "" {
		keys = append(keys, LoginKey{LoginPasswordlessPhone, *u.PhoneNumber})
	}
	return keys
}

// AfterCreate records the accounts in their tenant (see LoginTenant).
func (u *PasswordlessUser) AfterCreate(tx *gorm.DB) error {
	return addLogins(tx, u.TenantID, u.UserID, u.LoginKeys()...)
}

// LoginKeys returns the account of the row.
func (u *WebAuthnUser) LoginKeys() []LoginKey {
	return []LoginKey{{LoginWebAuthn, u.Email}}
}

// AfterCreate records the account in its tenant (see LoginTenant).
func (u *WebAuthnUser) AfterCreate(tx *gorm.DB) error {
	return addLogins(tx, u.TenantID, u.UserID, u.LoginKeys()...)
}

// loginRow is a recipe row that holds login accounts.
type loginRow interface {
	LoginKeys() []LoginKey
}

// BackfillLoginTenants adds the LoginTenant rows of accounts stored before
// the table existed: each recipe account in every tenant its user belongs
// to (ginauth_user_tenants, which holds the tenant it was made in unless
// the user was disassociated from it). It is idempotent, skips recipe
// tables that do not exist, and leaves an account out of a tenant where
// another user already holds the same one (the first holder keeps it).
// AutoMigrate runs it when it creates the table; an app with its own
// migration tool calls it once after creating ginauth_login_tenants.
func BackfillLoginTenants(db *gorm.DB) error {
	if err := backfill[EmailPasswordUser](db, func(r *EmailPasswordUser) string { return r.UserID }); err != nil {
		return err
	}
	if err := backfill[ThirdPartyUser](db, func(r *ThirdPartyUser) string { return r.UserID }); err != nil {
		return err
	}
	if err := backfill[PasswordlessUser](db, func(r *PasswordlessUser) string { return r.UserID }); err != nil {
		return err
	}
	return backfill[WebAuthnUser](db, func(r *WebAuthnUser) string { return r.UserID })
}

func backfill[T any, P interface {
	*T
	loginRow
}](db *gorm.DB, userOf func(*T) string) error {
	var zero T
	if !db.Migrator().HasTable(&zero) {
		return nil
	}
	var rows []T
	return db.Model(&zero).FindInBatches(&rows, 500, func(tx *gorm.DB, _ int) error {
		users := make([]string, len(rows))
		for i := range rows {
			users[i] = userOf(&rows[i])
		}
		var members []UserTenant
		if err := db.Session(&gorm.Session{NewDB: true}).Where("user_id IN ?", users).Find(&members).Error; err != nil {
			return err
		}
		tenants := map[string][]string{}
		for _, m := range members {
			tenants[m.UserID] = append(tenants[m.UserID], m.TenantID)
		}
		var out []LoginTenant
		for i := range rows {
			user := userOf(&rows[i])
			for _, k := range P(&rows[i]).LoginKeys() {
				if k.Account == "" {
					continue
				}
				for _, t := range tenants[user] {
					out = append(out, LoginTenant{TenantID: t, Method: k.Method, Account: k.Account, UserID: user})
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return db.Session(&gorm.Session{NewDB: true}).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(out, 200).Error
	}).Error
}

// RehomeAccounts moves, inside tx, the recipe accounts made in tenantID
// whose users still sign in to another tenant to one of those tenants
// (the first by id), so that deleting tenantID, which deletes the
// accounts made there, leaves associated users able to sign in where they
// were associated. Call it after removing tenantID's LoginTenant rows.
func RehomeAccounts(tx *gorm.DB, tenantID string) error {
	for _, m := range []any{&EmailPasswordUser{}, &ThirdPartyUser{}, &PasswordlessUser{}, &WebAuthnUser{}, &WebAuthnCredential{}} {
		if !tx.Migrator().HasTable(m) {
			continue
		}
		other := tx.Session(&gorm.Session{NewDB: true}).Model(&LoginTenant{}).Select("MIN(tenant_id)").
			Where("user_id = " + tableOf(m) + ".user_id")
		held := tx.Session(&gorm.Session{NewDB: true}).Model(&LoginTenant{}).Select("user_id")
		err := tx.Session(&gorm.Session{NewDB: true}).Model(m).
			Where("tenant_id = ? AND user_id IN (?)", tenantID, held).
			Update("tenant_id", other).Error
		if err != nil {
			return err
		}
	}
	return nil
}

func tableOf(m any) string { return m.(interface{ TableName() string }).TableName() }

// UserLoginKeys returns the login accounts the recipe rows of userID hold
// (the recipe user id), reading only the recipe tables that exist.
func UserLoginKeys(tx *gorm.DB, userID string) ([]LoginKey, error) {
	var keys []LoginKey
	read := func(m loginRow) error {
		if !tx.Migrator().HasTable(m) {
			return nil
		}
		res := tx.Session(&gorm.Session{NewDB: true}).Where("user_id = ?", userID).Limit(1).Find(m)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		keys = append(keys, m.LoginKeys()...)
		return nil
	}
	for _, m := range []loginRow{&EmailPasswordUser{}, &ThirdPartyUser{}, &PasswordlessUser{}, &WebAuthnUser{}} {
		if err := read(m); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// LoginTenantIDs returns the tenants where any of userID's accounts of the
// given methods signs in (its own tenant and those it was associated
// with, less those it left), sorted.
func LoginTenantIDs(tx *gorm.DB, userID string, methods ...string) ([]string, error) {
	var ids []string
	err := tx.Session(&gorm.Session{NewDB: true}).Model(&LoginTenant{}).Distinct("tenant_id").
		Where("user_id = ? AND method IN ?", userID, methods).Order("tenant_id").Pluck("tenant_id", &ids).Error
	return ids, err
}

// SetLogin makes userID's account of method be account in exactly the
// given tenants, inside tx: the rows of the old account go and the new
// ones are inserted, so that a tenant where another user holds account
// fails with a unique violation (and tx must roll back). account ""
// removes the user's account of that method. It is RekeyLogin for a
// method the user may not have had yet (a passwordless user adding a phone
// number).
func SetLogin(tx *gorm.DB, userID, method, account string, tenants []string) error {
	db := tx.Session(&gorm.Session{NewDB: true})
	if err := db.Where("user_id = ? AND method = ?", userID, method).Delete(&LoginTenant{}).Error; err != nil {
		return err
	}
	if account == "" || len(tenants) == 0 {
		return nil
	}
	rows := make([]LoginTenant, len(tenants))
	for i, t := range tenants {
		rows[i] = LoginTenant{TenantID: t, Method: method, Account: account, UserID: userID}
	}
	return db.Create(&rows).Error
}
