// Package userroles is the roles and permissions recipe: roles shared by all
// tenants, permissions granted to roles, roles given to users per tenant,
// and route guards that check them through the access token's st-role and
// st-perm claims (the keys SuperTokens' frontend SDKs read).
//
// Quick start:
//
//	roles := userroles.New()
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: info,
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), roles}})
//
//	ctx := context.Background()
//	_, _ = roles.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"todos:delete"})
//	_, _ = roles.AddRoleToUser(ctx, "public", userID, "admin")
//
//	r.DELETE("/todos/:id", ginauth.VerifySession(),
//		ginauth.RequireClaim(userroles.HasRole("admin")), deleteTodo)
//	r.GET("/reports", ginauth.VerifySession(),
//		ginauth.RequireClaim(userroles.HasPermission("reports:read")), reports)
//
// Every new session carries the user's roles and permissions (see
// Config to leave them out). A guard refetches them from the database when
// they are older than DefaultMaxAge (five minutes), so a granted or revoked
// role takes effect within that time. To make a change immediate, call
// RefreshRolesInSession from the user's own request, or
// UpdateRolesInSessions from an admin tool (clients then see it at their
// next session refresh); a guard built with claims.MaxAge(0) reads the
// database on every request. docs/roles.md walks through it all.
//
// The tables (models.Role, models.RolePermission, models.UserRole) come
// with models.AutoMigrate. Deleting a user (Auth.DeleteUser) deletes the
// user's roles.
package userroles
