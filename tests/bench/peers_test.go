package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the Better Auth database's admin

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
)

// Flags for TestPeersLoad.
var (
	flagPeersClients = flag.Int("bench.peers.clients", 16, "peers: concurrent clients, the same for every contender")
	flagPeersTime    = flag.Duration("bench.peers.duration", 3*time.Second, "peers: time per contender per round")
	flagPeersRounds  = flag.Int("bench.peers.rounds", 3, "peers: rounds, every contender once per round (medians are reported)")
)

// target is one guarded route measured over HTTP.
type target struct {
	name   string
	url    string
	header http.Header
}

// driveResult is what one timed run of a target gave.
type driveResult struct {
	n    int
	errs int
	rps  float64
	lats []time.Duration
}

// drive sends GETs to t from clients goroutines for d over keep-alive
// connections and returns the throughput and every latency. Any answer
// but want counts as an error.
func drive(t target, want, clients int, d time.Duration) driveResult {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: time.Minute}
	var mu sync.Mutex
	var res driveResult
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lats []time.Duration
			errs := 0
			// At least one request each, so that d = 0 is a single probe.
			for first := true; first || time.Now().Before(deadline); first = false {
				req, _ := http.NewRequest("GET", t.url, nil)
				req.Header = t.header
				s := time.Now()
				resp, err := cl.Do(req)
				if err != nil {
					errs++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lats = append(lats, time.Since(s))
				if resp.StatusCode != want {
					errs++
				}
			}
			mu.Lock()
			res.lats = append(res.lats, lats...)
			res.errs += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.n = len(res.lats)
	res.rps = float64(res.n) / time.Since(t0).Seconds()
	return res
}

// coreStub answers what supertokens-node asks of a SuperTokens core when it
// verifies sessions locally: the CDI version it speaks and the JWKS, here
// ginauth's own. Every other path is counted (a per-request core call would
// show there) and refused.
type coreStub struct {
	jwks  []byte
	other atomic.Int64
	jwksN atomic.Int64
	paths sync.Map
}

func (s *coreStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/apiversion":
		// supertokens-node 24 speaks CDI 5.4 only (lib/ts/version.ts cdiSupported).
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"versions":["5.4"]}`))
	case "/.well-known/jwks.json":
		// Fetched by jose's createRemoteJWKSet (lib/ts/combinedRemoteJWKSet.ts
		// getCombinedJWKS) and cached for jwksRefreshIntervalSec.
		s.jwksN.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.jwks)
	default:
		s.other.Add(1)
		s.paths.Store(r.Method+" "+r.URL.Path, true)
		http.Error(w, "not served by the bench core stub", http.StatusNotFound)
	}
}

// listen serves h on 127.0.0.1 and returns its base URL.
func listen(tb testing.TB, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// peersReady is the line peers/server.mjs prints when it listens.
type peersReady struct {
	Port          int               `json:"port"`
	BACookie      string            `json:"baCookie"`
	BACacheCookie string            `json:"baCacheCookie"`
	Versions      map[string]string `json:"versions"`
}

// startPeers runs peers/server.mjs against the core stub and a fresh
// database of Better Auth's own on the same server as dsn. It skips the
// test when node or the npm packages are missing.
func startPeers(tb testing.TB, dsn, coreURL string) peersReady {
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Skip("peers: node not found; the node peers are not measured")
	}
	if _, err := os.Stat(filepath.Join("peers", "node_modules", "supertokens-node")); err != nil {
		tb.Skip("peers: npm packages not installed (cd tests/bench/peers && npm ci); the node peers are not measured")
	}
	// Better Auth's own database on the same server.
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	const baDB = "ginauth_bench_betterauth"
	for _, q := range []string{"DROP DATABASE IF EXISTS " + baDB + " WITH (FORCE)", "CREATE DATABASE " + baDB} {
		if _, err := admin.Exec(q); err != nil {
			tb.Fatalf("peers: %s: %v", q, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + baDB
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()

	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = "peers"
	cmd.Env = append(os.Environ(), "CORE_URL="+coreURL, "DATABASE_URL="+u.String(), "NODE_ENV=production")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if a, err := sql.Open("pgx", dsn); err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + baDB + " WITH (FORCE)")
			a.Close()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		var r peersReady
		if !ok || json.Unmarshal([]byte(l), &r) != nil || r.Port == 0 {
			tb.Fatalf("peers: server.mjs did not start (line %q)", l)
		}
		return r
	case <-time.After(60 * time.Second):
		tb.Fatal("peers: server.mjs not ready after 60 s")
	}
	return peersReady{}
}

// TestPeersLoad measures, over real HTTP, at one concurrency, in one run:
// ginauth's VerifySession cold (every signature checked), on a cache hit and
// with CheckDatabase; supertokens-node's verifySession verifying the very
// tokens ginauth issues (RS256, ginauth's key through the core stub);
// Better Auth's getSession with its cookie cache off and on; and a bare gin
// and a bare Express route as each runtime's floor. Every contender runs
// once per round, in turn; medians over rounds are reported, as ratios to
// ginauth cold.
func TestPeersLoad(t *testing.T) {
	if !*flagLoad {
		t.Skip("load test: run with -bench.load (make bench)")
	}
	dsn := os.Getenv(testdb.EnvURL)
	if dsn == "" {
		t.Skip("peers load needs PostgreSQL: set " + testdb.EnvURL + " (make bench does)")
	}
	db := newDB(t)
	quiet := func(size int) func(*ginauth.Config) {
		return func(c *ginauth.Config) {
			c.Session.VerifyCacheSize = size
			c.Logger = slog.New(slog.DiscardHandler)
		}
	}
	cold := newAuth(t, db, "", quiet(-1))
	hot := newAuth(t, db, "", quiet(0))
	_, tok, err := cold.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "bench-user"})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(cold.Middleware()) // the JWKS route, for the core stub
	r.GET("/none", ok)
	r.GET("/cold", cold.VerifySession(), ok)
	r.GET("/cached", hot.VerifySession(), ok)
	r.GET("/checkdb", hot.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), ok)
	ga := listen(t, r)

	resp, err := http.Get(ga + "/auth/jwt/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stub := &coreStub{jwks: jwks}
	core := listen(t, stub)
	peers := startPeers(t, dsn, core)
	node := fmt.Sprintf("http://127.0.0.1:%d", peers.Port)
	t.Logf("peers: %v", peers.Versions)

	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	cookie := func(c string) http.Header { return http.Header{"Cookie": {c}} }
	targets := []target{
		{"gin/none", ga + "/none", nil},
		{"ginauth/cold", ga + "/cold", bearer},
		{"ginauth/cached", ga + "/cached", bearer},
		{"ginauth/checkdb", ga + "/checkdb", bearer},
		{"express/none", node + "/none", nil},
		{"supertokens-node", node + "/st", bearer},
		{"better-auth", node + "/ba", cookie(peers.BACookie)},
		{"better-auth/cookie-cache", node + "/ba-cache", cookie(peers.BACacheCookie)},
	}
	// Every guard must refuse a request without its credential, so that
	// the figures are of real checks, and accept the one it is given.
	for _, tg := range targets {
		want := 204
		if res := drive(tg, want, 1, 0); res.errs != 0 {
			t.Fatalf("%s: a request with its credential was not answered %d", tg.name, want)
		}
		if tg.header == nil {
			continue
		}
		if res := drive(target{tg.name, tg.url, nil}, 401, 1, 0); res.errs != 0 {
			t.Fatalf("%s: a request without its credential was not refused with 401", tg.name)
		}
	}
	// Warm-up, not measured: node's JIT, connection pools, caches.
	for _, tg := range targets {
		drive(tg, 204, *flagPeersClients, min(time.Second, *flagPeersTime))
	}
	jwksBefore := stub.jwksN.Load()

	clients := *flagPeersClients
	rps := map[string][]float64{}
	p50 := map[string][]float64{}
	p99 := map[string][]float64{}
	total := map[string]int{}
	for round := 0; round < *flagPeersRounds; round++ {
		for _, tg := range targets {
			res := drive(tg, 204, clients, *flagPeersTime)
			if res.errs != 0 {
				t.Fatalf("%s: %d errors in %d requests", tg.name, res.errs, res.n)
			}
			rps[tg.name] = append(rps[tg.name], res.rps)
			p50[tg.name] = append(p50[tg.name], float64(percentile(res.lats, 0.50).Microseconds()))
			p99[tg.name] = append(p99[tg.name], float64(percentile(res.lats, 0.99).Microseconds()))
			total[tg.name] += res.n
		}
	}
	// supertokens-node must have verified locally: no core call but the
	// JWKS it fetched once (and not again while cached).
	if n := stub.other.Load(); n != 0 {
		var paths []string
		stub.paths.Range(func(k, _ any) bool { paths = append(paths, k.(string)); return true })
		t.Fatalf("supertokens-node called the core %d times during the run (%v): not a local verify", n, paths)
	}
	record(t, "peers/supertokens-node/core-calls", float64(stub.jwksN.Load()-jwksBefore+stub.other.Load()), "calls")
	record(t, "peers/supertokens-node/requests", float64(total["supertokens-node"]), "requests")
	record(t, "peers/clients", float64(clients), "clients")
	base := median(rps["ginauth/cold"])
	baseP50, baseP99 := median(p50["ginauth/cold"]), median(p99["ginauth/cold"])
	for _, tg := range targets {
		n := "peers/" + tg.name
		record(t, n+"/rps", median(rps[tg.name]), "req/s")
		record(t, n+"/p50", median(p50[tg.name]), "µs")
		record(t, n+"/p99", median(p99[tg.name]), "µs")
		record(t, n+"/rps-vs-cold", median(rps[tg.name])/base, "ratio")
		record(t, n+"/p50-vs-cold", median(p50[tg.name])/baseP50, "ratio")
		record(t, n+"/p99-vs-cold", median(p99[tg.name])/baseP99, "ratio")
	}
}
