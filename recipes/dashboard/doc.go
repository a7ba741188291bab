// Package dashboard is a user-management dashboard for ginauth: the pages
// SuperTokens sells as its dashboard, served by the app itself as plain
// server-rendered HTML (html/template, one small embedded style sheet, no
// script, nothing loaded from elsewhere).
//
// It shows the users (newest or oldest first, searched by e-mail address,
// filtered and counted by tenant) and, for one user, the login methods,
// tenants, e-mail verification, roles, metadata and sessions, with the
// changes an admin needs: add or remove a role, edit the metadata, revoke
// one or all sessions, create a password-reset link, mark an address
// verified or unverified, delete the user. It uses whichever of the
// userroles, usermetadata, emailverification, emailpassword and
// multitenancy recipes are configured, and leaves out the rest.
//
// Quick start: add the recipe with one or more API keys (long random
// strings, kept out of the source) and open <APIBasePath>/dashboard, e.g.
// http://localhost:3001/auth/dashboard:
//
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: info, Recipes: []ginauth.Recipe{
//		emailpassword.New(emailpassword.Config{}), userroles.New(), usermetadata.New(),
//		dashboard.New(dashboard.Config{APIKeys: []string{os.Getenv("DASHBOARD_API_KEY")}}),
//	}})
//	r.Use(ginauth.Middleware()) // serves /auth/dashboard with the rest of /auth
//
// Run models.AutoMigrate first: API-key sign-ins are kept in the table
// ginauth_dashboard_sessions (models.DashboardSession).
//
// # Protection
//
// Every page needs an admin. With Config.APIKeys an admin signs in at
// <base>/dashboard/signin; the key is compared in constant time, attempts
// are rate-limited per IP address (ginauth.ActionDashboardSignIn) and a wrong key
// is an EventSignInFailed event. A sign-in starts an admin session of its
// own, separate from the app's user sessions: a random token in an
// HttpOnly, SameSite=Strict cookie (Secure over https) scoped to
// <base>/dashboard, stored only as a hash, ending after
// Config.SessionLifetime (8 hours by default), at sign-out, or when its key
// leaves Config.APIKeys.
//
// Config.Authorize lets the app admit admins its own way instead, or as
// well, for example signed-in users with the "admin" role. The dashboard
// has its own CSRF protection, so skip ginauth's anti-CSRF check there:
//
//	var auth *ginauth.Auth
//	dash := dashboard.New(dashboard.Config{Authorize: func(c *gin.Context) bool {
//		no := false
//		s, err := auth.GetSession(c, ginauth.VerifyOptions{AntiCSRF: &no, CheckDatabase: true})
//		return err == nil && s.AssertClaims(c, userroles.HasRole("admin")) == nil
//	}})
//	auth, err = ginauth.New(ginauth.Config{ /* ... */ Recipes: []ginauth.Recipe{ /* ... */ dash}})
//
// Every change is a POST form carrying a CSRF token derived from the
// admin's session secret; a missing or wrong token is refused with a 403
// and changes nothing, and so is any form a browser marks as sent from
// another site (Sec-Fetch-Site) or whose Origin names neither the API
// domain nor the host asked. Deleting a user, revoking sessions and
// marking an address unverified take a confirmation step. Each change is
// an EventAction security event (through Hooks.OnEvent and the log) whose
// Detail names the action and the admin ("api-key:<key id>" or
// "authorize").
//
// Every page is sent with a Content-Security-Policy that allows no script
// and only the embedded style sheet (default-src 'none'; form-action
// 'self'; frame-ancestors 'none'), X-Frame-Options DENY, Cache-Control
// no-store and Referrer-Policy same-origin (not no-referrer, under which
// browsers send "Origin: null" on the forms and CORS middleware refuses
// them); html/template escapes every
// value a user could have chosen (e-mail addresses, metadata, role names).
//
// # Routes
//
// Under the API base path, served by ginauth.Middleware or
// Auth.RegisterRoutes like the other recipes' routes, never with a tenant
// prefix (the dashboard spans every tenant):
//
//	GET  /dashboard                        user list: ?email= &tenant= &order=oldest &page=
//	GET  /dashboard/user?id=<user id>      one user
//	GET  /dashboard/signin, POST /dashboard/signin, POST /dashboard/signout
//	GET  /dashboard/icon.svg               the pages' icon (public)
//	POST /dashboard/user/roles/add         id, tenant, role
//	POST /dashboard/user/roles/remove      id, tenant, role
//	POST /dashboard/user/metadata          id, metadata (a JSON object that replaces the stored one)
//	POST /dashboard/user/sessions/revoke   id, handle (confirmed)
//	POST /dashboard/user/sessions/revoke-all  id (confirmed)
//	POST /dashboard/user/password-reset    id, website (one of the website origins; default WebsiteDomain): shows a reset link once
//	POST /dashboard/user/email/verify      id, ruid, email
//	POST /dashboard/user/email/unverify    id, ruid, email (confirmed)
//	POST /dashboard/user/delete            id (confirmed)
//
// Each form also carries the field csrf; a confirmed step carries
// confirm=yes.
package dashboard
