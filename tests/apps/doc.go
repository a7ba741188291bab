// Package apps tests several isolated ginauth apps in one process: two
// *ginauth.Auth from ginauth.New, each its own user pool, mounted in one gin
// engine (under /a/auth and /b/auth) on one database server. On PostgreSQL
// (GINAUTH_TEST_DATABASE_URL) each app has its own schema of one database,
// the layout docs/multi-app.md recommends; on SQLite each has its own file.
// Nothing of one app (users, sessions, tokens, rate-limit counters, roles,
// reset tokens, dashboard sessions) means anything in the other.
package apps
