// Package compat holds the tests that pin ginauth's frontend driver
// interface (FDI) to the reference backend, supertokens-node: which paths
// are served and with which tenant prefix, how the rid header picks a
// recipe, and that docs/compatibility.md lists exactly the routes served.
// Each test names in a comment the supertokens-node function it mirrors.
//
// The tests run on SQLite by default and on PostgreSQL when
// GINAUTH_TEST_DATABASE_URL is set.
package compat
