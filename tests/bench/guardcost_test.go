package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/jws"
)

// guardBatch is the number of requests in one timed batch of
// BenchmarkGuardCost: long enough that the two clock reads around a batch
// are noise (about 0.1 ns a request), short enough that many batch pairs
// (and so many garbage collections) fall in one run.
const guardBatch = 1000

// guardPair builds, for one algorithm, the bare gin route and the cache
// hit of BenchmarkVerifyPaired's ginauth/cached row (same config: the
// verified-token cache on, an st-role claim configured) on one engine.
func guardPair(tb testing.TB, alg string) (bare, hit contender) {
	db := newDB(tb)
	a := newAuth(tb, db, alg, func(c *ginauth.Config) { c.Session.Claims = []claims.Claim{roleClaim} })
	_, tok, err := a.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "bench-user"})
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.GET("/none", ok)
	r.GET("/cached", a.VerifySession(), ok)
	none := httptest.NewRequest("GET", "/none", nil)
	cached := httptest.NewRequest("GET", "/cached", nil)
	cached.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	bare = contender{"gin/no-guard", func(tb testing.TB) { serve(tb, r, none, http.StatusNoContent) }}
	hit = contender{"ginauth/cached", func(tb testing.TB) { serve(tb, r, cached, http.StatusNoContent) }}
	hit.run(tb) // the first request verifies in full and fills the cache
	return bare, hit
}

// BenchmarkGuardCost measures the guard's own cost on a cache hit: what
// VerifySession adds to a bare gin route (the same engine and recorder).
// Each iteration serves a batch of guardBatch bare requests and a batch of
// guardBatch hits, in alternating order, each batch timed as a whole; the
// metrics are the mean time a request of each kind (ns/bare, ns/hit) and
// their difference (ns/guard).
//
// Unlike BenchmarkVerifyPaired's round robin, nothing else runs between
// two hits (no cold signature check trashing the caches and branch
// predictors first) and no clock is read around each request (two reads
// cost about 130 ns here, with jitter). Garbage collection is included:
// the collector runs when the heap reaches its goal, so each kind of
// request pays for collections in proportion to what it allocates, and the
// means over a run of hundreds of batch pairs average where they fall.
//
// cpu-ns/guard is the same difference in process CPU time (every thread,
// so the collector's background work too): unlike the wall time, it does
// not count the time the process waited for a core, which on a shared
// machine makes it the steadier of the two for an A/B comparison.
// min-ns/guard is the fastest hit batch minus the fastest bare batch: the
// work of a request without garbage collection or preemption, for A/B
// comparisons on a loaded machine only (the figure is ns/guard).
func BenchmarkGuardCost(b *testing.B) {
	for _, alg := range []string{jws.RS256, jws.ES256, jws.EdDSA} {
		bare, hit := guardPair(b, alg)
		b.Run(alg, func(b *testing.B) {
			// [0] bare, [1] hit: wall time, process CPU time, fastest batch.
			var wall, cpu, fastest [2]time.Duration
			pairs := 0
			for b.Loop() {
				kinds := [2]int{0, 1}
				if pairs%2 == 1 {
					kinds = [2]int{1, 0}
				}
				for _, k := range kinds {
					run := bare.run
					if k == 1 {
						run = hit.run
					}
					c0, t0 := processCPU(), time.Now()
					for range guardBatch {
						run(b)
					}
					d := time.Since(t0)
					wall[k] += d
					cpu[k] += processCPU() - c0
					if fastest[k] == 0 || d < fastest[k] {
						fastest[k] = d
					}
				}
				pairs++
			}
			n := float64(pairs * guardBatch)
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / n }
			b.ReportMetric(per(wall[0]), "ns/bare")
			b.ReportMetric(per(wall[1]), "ns/hit")
			b.ReportMetric(per(wall[1]-wall[0]), "ns/guard")
			if cpu[0] > 0 {
				b.ReportMetric(per(cpu[1]-cpu[0]), "cpu-ns/guard")
			}
			b.ReportMetric(float64((fastest[1]-fastest[0]).Nanoseconds())/guardBatch, "min-ns/guard")
		})
	}
}
