package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/testdb"
)

// refreshClients is the concurrency of both the refresh run and pgbench.
const refreshClients = 8

// refreshServer serves ginauth (signing with alg) on 127.0.0.1 and
// returns its URL and n fresh refresh tokens.
func refreshServer(tb testing.TB, db *gorm.DB, alg string, n int) (string, []string, func()) {
	a := newAuth(tb, db, alg, func(c *ginauth.Config) { c.Logger = slog.New(slog.DiscardHandler) })
	r := gin.New()
	r.Use(a.Middleware())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	toks := make([]string, n)
	for i := range toks {
		_, t, err := a.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: fmt.Sprintf("refresher-%d", i)})
		if err != nil {
			tb.Fatal(err)
		}
		toks[i] = t.RefreshToken
	}
	return "http://" + ln.Addr().String(), toks, func() { _ = srv.Shutdown(context.Background()) }
}

// refreshOnce rotates tok and returns its successor.
func refreshOnce(cl *http.Client, url, tok string) (string, error) {
	req, _ := http.NewRequest("POST", url+"/auth/session/refresh", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("st-auth-mode", "header")
	resp, err := cl.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	next := resp.Header.Get("st-refresh-token")
	if resp.StatusCode != 200 || next == "" {
		return "", fmt.Errorf("refresh: status %d", resp.StatusCode)
	}
	return next, nil
}

// refreshRun refreshes with one client per token for d and returns
// refreshes per second.
func refreshRun(tb testing.TB, url string, toks []string, d time.Duration) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: len(toks)}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	t0 := time.Now()
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				next, err := refreshOnce(cl, url, toks[i])
				if err != nil {
					tb.Error(err)
					return
				}
				toks[i] = next
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds()
}

// pgbench runs PostgreSQL's own benchmark client for d: a one-row UPDATE
// by primary key, prepared, at refreshClients connections, and returns its
// transactions per second.
func pgbench(tb testing.TB, dsn string, d time.Duration) float64 {
	bin := os.Getenv("GINAUTH_PGBENCH")
	if bin == "" {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(matches) == 0 {
			tb.Skip("pgbench not found (set GINAUTH_PGBENCH)")
		}
		bin = matches[len(matches)-1]
	}
	script := filepath.Join(tb.TempDir(), "update.sql")
	if err := os.WriteFile(script, []byte("\\set id random(1, 1000)\nUPDATE bench_onerow SET v = v + 1 WHERE id = :id;\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	out, err := exec.Command(bin, "-n", "-M", "prepared", "-c", strconv.Itoa(refreshClients), "-j", "2",
		"-T", strconv.Itoa(secs), "-f", script, dsn).CombinedOutput()
	if err != nil {
		tb.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(out)
	if m == nil {
		tb.Fatalf("pgbench: no tps in\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// bulkSessions fills the session table up to total rows with one INSERT
// from generate_series (no API, no hashing): rows shaped like real ones.
func bulkSessions(tb testing.TB, db *gorm.DB, from, to int) {
	if to < from {
		return
	}
	err := db.Exec(`INSERT INTO ginauth_sessions (handle, user_id, recipe_user_id, tenant_id, refresh_hash,
		anti_csrf_hash, access_token_payload, session_data, version,
		created_at, refreshed_at, expires_at)
	SELECT 'bulk-' || g, 'user-' || g, 'user-' || g, 'public', md5(g::text) || md5((g + 1)::text),
		'', '{}', '{}', 1, now(), now(), now() + interval '100 days'
	FROM generate_series(?::int, ?::int) AS g`, from, to).Error
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec("ANALYZE ginauth_sessions").Error; err != nil {
		tb.Fatal(err)
	}
}

// TestRefreshLoad measures refresh on PostgreSQL: throughput at
// refreshClients clients over real HTTP beside its floor (a minimal gin
// handler with the same signature and statements, floor_test.go) and, for
// reference, pgbench's one-row UPDATE on the same server (alternating
// rounds, medians), for RS256 (the default) and EdDSA; then the latency of one client's refreshes with the session
// table at each -bench.sessions size.
func TestRefreshLoad(t *testing.T) {
	if !*flagLoad {
		t.Skip("load test: run with -bench.load (make bench)")
	}
	dsn := os.Getenv(testdb.EnvURL)
	if dsn == "" {
		t.Skip("refresh load needs PostgreSQL: set " + testdb.EnvURL + " (make bench does)")
	}
	db := newDB(t)
	// pgbench's table lives in the public schema of the same database.
	admin := testdb.Open(t)
	for _, q := range []string{
		"DROP TABLE IF EXISTS public.bench_onerow",
		"CREATE TABLE public.bench_onerow (id int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO public.bench_onerow SELECT g, 0 FROM generate_series(1, 1000) g",
	} {
		if err := admin.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	defer admin.Exec("DROP TABLE IF EXISTS public.bench_onerow")

	for _, alg := range []string{jws.RS256, jws.EdDSA} {
		url, toks, stop := refreshServer(t, db, alg, 2*refreshClients)
		// The floor refreshes sessions of its own, made by ginauth.
		furl, ftoks := floorServer(t, db, handlesOf(toks[refreshClients:]), alg)
		toks = toks[:refreshClients]
		var ours, floor, theirs []float64
		for round := 0; round < *flagRounds; round++ {
			theirs = append(theirs, pgbench(t, dsn, *flagDuration))
			floor = append(floor, refreshRun(t, furl, ftoks, *flagDuration))
			ours = append(ours, refreshRun(t, url, toks, *flagDuration))
		}
		stop()
		record(t, "refresh/"+alg+"/throughput", median(ours), "req/s")
		record(t, "refresh/"+alg+"/floor", median(floor), "req/s")
		record(t, "refresh/"+alg+"/of-floor", median(ours)/median(floor), "ratio")
		record(t, "refresh/pgbench", median(theirs), "tps")
		record(t, "refresh/"+alg+"/of-pgbench", median(ours)/median(theirs), "ratio")
	}

	// Latency by table size. EdDSA keeps the signature (23 µs) from
	// masking the database's share.
	url, toks, stop := refreshServer(t, db, jws.EdDSA, 1)
	defer stop()
	cl := &http.Client{Transport: &http.Transport{}}
	var have int
	var first float64
	for i, f := range strings.Split(*flagSessions, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("bad -bench.sessions entry %q", f)
		}
		t0 := time.Now()
		bulkSessions(t, db, have+1, size)
		t.Logf("session table at %d rows (insert took %s)", size, time.Since(t0).Round(time.Millisecond))
		have = max(have, size)
		var lat []float64
		for j := 0; j < *flagLatN; j++ {
			s := time.Now()
			next, err := refreshOnce(cl, url, toks[0])
			if err != nil {
				t.Fatal(err)
			}
			toks[0] = next
			lat = append(lat, float64(time.Since(s).Microseconds()))
		}
		p50 := median(lat)
		record(t, fmt.Sprintf("refresh/latency/%d", size), p50, "µs")
		if i == 0 {
			first = p50
		} else {
			record(t, fmt.Sprintf("refresh/latency/%d-vs-first", size), p50/first, "ratio")
		}
	}
}
