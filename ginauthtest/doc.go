// Package ginauthtest is a kit for testing an app's authentication, as
// net/http/httptest is for HTTP: ginauth's own suites use it, and so can an
// app's tests.
//
// It holds:
//
//   - [Clock], a settable clock for ginauth.Config.Now;
//   - [OpenDB], a fresh database with ginauth's tables for each test:
//     SQLite in the test's temporary directory, or PostgreSQL / MySQL when
//     the environment variable GINAUTH_TEST_DATABASE_URL names a server;
//   - [Client], a frontend that speaks the frontend-driver interface to a
//     gin engine in process or to a real URL, and keeps its session the way
//     supertokens-website does (front-token, st-access-token and
//     st-refresh-token headers, cookies, anti-csrf);
//   - [Burst] and [BurstCodes], which fire many requests at once to test
//     the defences that concurrency could defeat.
//
// The package does not import ginauth, so that ginauth's in-package tests
// can use it too.
package ginauthtest
