// Package bench holds ginauth's benchmarks: session verification beside the
// raw signature check and beside what a Gin user would pick instead
// (appleboy/gin-jwt, gin-contrib/sessions with a cookie store and with a
// GORM-backed store), the same over real HTTP beside supertokens-node and
// Better Auth (node, in peers/), the guard's own cost and the ways of
// attaching a session, sign-in under concurrent load against the argon2id
// hash bound, refresh on PostgreSQL beside its floor (a minimal handler with
// the same signature and statements) and pgbench, and a mixed-traffic soak.
//
// Run everything, with PostgreSQL started and stopped for you, and get one
// table of ratios against docs/performance.md's targets:
//
//	make bench
//
// The package has no code of its own; it is all in _test.go files. `go test
// ./...` compiles it and runs nothing heavy: the load tests skip unless
// -bench.load is given, and benchmarks only run under -bench.
package bench
