// Package bench holds ginauth's benchmarks: session verification beside the
// raw signature check and beside what a Gin user would pick instead
// (appleboy/gin-jwt, gin-contrib/sessions with a cookie store and with a
// GORM-backed store), sign-in under concurrent load against the argon2id
// hash bound, and refresh on PostgreSQL beside pgbench.
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
