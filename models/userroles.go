package models

// Tables of the userroles recipe.
const (
	TableRoles           = "ginauth_roles"
	TableRolePermissions = "ginauth_role_permissions"
	TableUserRoles       = "ginauth_user_roles"
)

func init() { register(&Role{}, &RolePermission{}, &UserRole{}) }

// UserRolesTables lists the tables the userroles recipe needs.
func UserRolesTables() []string { return []string{TableRoles, TableRolePermissions, TableUserRoles} }

// Role is a role known to the app ("admin", "editor", ...). Roles are shared
// by all tenants; assignments to users are per tenant.
type Role struct {
	Role string `gorm:"column:role;primaryKey;size:255"`

	// Permissions and Users only declare the foreign keys (deleting a role
	// cascades to its rows where the database enforces them); ginauth never
	// loads them.
	Permissions []RolePermission `gorm:"foreignKey:Role;references:Role;constraint:OnDelete:CASCADE" json:"-"`
	Users       []UserRole       `gorm:"foreignKey:Role;references:Role;constraint:OnDelete:CASCADE" json:"-"`
}

// TableName returns TableRoles.
func (Role) TableName() string { return TableRoles }

// RolePermission grants a permission to a role.
type RolePermission struct {
	Role       string `gorm:"column:role;primaryKey;size:255"`
	Permission string `gorm:"column:permission;primaryKey;size:255;index"`
}

// TableName returns TableRolePermissions.
func (RolePermission) TableName() string { return TableRolePermissions }

// UserRole gives a role to a user in one tenant. The primary key (user,
// tenant, role) makes assignments idempotent under concurrency; the index
// on (role, tenant) serves "who has this role".
type UserRole struct {
	UserID   string `gorm:"column:user_id;primaryKey;size:64"`
	TenantID string `gorm:"column:tenant_id;primaryKey;size:64;index:idx_ginauth_user_roles_role,priority:2"`
	Role     string `gorm:"column:role;primaryKey;size:255;index:idx_ginauth_user_roles_role,priority:1"`
}

// TableName returns TableUserRoles.
func (UserRole) TableName() string { return TableUserRoles }
