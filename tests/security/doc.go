// Package security holds ginauth's cross-package attack, fault and load
// tests: every protection docs/security.md lists has a test here (or in the
// package it lives in) that fails when the protection is removed.
//
// The tests run on SQLite by default and on PostgreSQL when
// GINAUTH_TEST_DATABASE_URL is set (scripts/pg.sh); the fault tests need
// PostgreSQL and skip on SQLite.
package security
