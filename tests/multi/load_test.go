package multi

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	loadRun      = flag.Bool("multi.load", false, "run TestThroughput (a measurement, not a check)")
	loadDuration = flag.Duration("multi.duration", 5*time.Second, "TestThroughput: how long each configuration runs")
	loadClients  = flag.Int("multi.clients", 16, "TestThroughput: concurrent clients")
)

// TestThroughput measures requests per second of one instance and of three
// behind the proxy, on the same database, with the same mix: 90% verify
// with CheckDatabase, 10% refresh, all signed in beforehand. It prints the
// figures docs/deployment.md quotes and asserts only that no request failed.
func TestThroughput(t *testing.T) {
	if !*loadRun {
		t.Skip("a measurement: run with -multi.load")
	}
	dsn, _ := database(t)
	in := startInstances(t, dsn, 3, "LOW_ARGON2=1")
	type session struct{ access, refresh string }
	sessions := make([]*session, *loadClients)
	for i := range sessions {
		c := client(in[0].base, fmt.Sprintf("192.0.2.%d", i+1))
		email := fmt.Sprintf("tp%d@example.com", i)
		expect(t, 200, "sign-up")(c.signUp(email, password))
		si := expect(t, 200, "sign-in")(c.signIn(email, password))
		sessions[i] = &session{si.access, si.refresh}
	}
	measure := func(backends []*instance) float64 {
		lb := startProxy(t, backends)
		var done, failed atomic.Int64
		stop := time.Now().Add(*loadDuration)
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := client(lb.base, fmt.Sprintf("192.0.2.%d", i+1))
				for time.Now().Before(stop) {
					if rand.IntN(10) == 0 {
						r, err := c.refresh(s.refresh)
						if err != nil || r.code != 200 {
							failed.Add(1)
							continue
						}
						s.access, s.refresh = r.access, r.refresh
					} else if r, err := c.get("/sessioninfo-db", s.access); err != nil || r.code != 200 {
						failed.Add(1)
						continue
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d requests failed", failed.Load())
		}
		return float64(done.Load()) / loadDuration.Seconds()
	}
	one := measure(in[:1])
	three := measure(in)
	t.Logf("mix 90%% verify (CheckDatabase) / 10%% refresh, %d clients, %s each:", *loadClients, *loadDuration)
	t.Logf("  1 instance:  %.0f req/s", one)
	t.Logf("  3 instances: %.0f req/s (%.2fx)", three, three/one)
}
