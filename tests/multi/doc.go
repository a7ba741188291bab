// Package multi tests ginauth's claim for scale: the application's database
// is the only state instances share. Every test starts real API processes
// (tests/multi/instance, built once per run) on one PostgreSQL schema,
// behind a small round-robin proxy on loopback, and drives them over HTTP.
//
// The tests need PostgreSQL (GINAUTH_TEST_DATABASE_URL, see scripts/pg.sh)
// and skip without it. TestThroughput is a load driver, not a check: run it
// with -multi.load to print one instance's and three instances' throughput.
package multi
