package models

// TableAccountInfo is the table of the accountlinking recipe.
const TableAccountInfo = "ginauth_account_info"

func init() { register(&AccountInfo{}) }

// AccountLinkingTables lists the tables the accountlinking recipe needs.
func AccountLinkingTables() []string { return []string{TableAccountInfo} }

// AccountInfo claims one piece of account information (an e-mail address,
// a phone number or a provider account) in a tenant for one primary user.
// Its primary key is what makes "no two primary users share an e-mail in a
// tenant" hold under concurrent sign-ups: the second primary user's insert
// finds the row taken and its linking is retried, as the reference core's
// primary-user account-info table does.
type AccountInfo struct {
	TenantID string `gorm:"column:tenant_id;primaryKey;size:64"`
	// Kind is "email", "phone" or "thirdparty".
	Kind string `gorm:"column:kind;primaryKey;size:16"`
	// Value is the normalised e-mail, the phone number, or
	// "<providerId>:<provider's user id>".
	Value         string `gorm:"column:value;primaryKey;size:512"`
	PrimaryUserID string `gorm:"column:primary_user_id;not null;size:64;index"`
	// RecipeUserID is the login method's user that brought the value.
	RecipeUserID string `gorm:"column:recipe_user_id;not null;size:64;index"`
}

// TableName returns TableAccountInfo.
func (AccountInfo) TableName() string { return TableAccountInfo }
