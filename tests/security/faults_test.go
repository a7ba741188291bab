package security

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

// Faults: the database going away, or going slow, under load. These need a
// database on the other end of a network connection, so they run on
// PostgreSQL only: the app's pool goes through a TCP proxy the test
// controls, which can cut every connection, refuse new ones, add latency,
// or swallow traffic.

func needPostgres(t *testing.T) {
	t.Helper()
	if !testdb.Postgres(t) {
		t.Skip("fault tests need PostgreSQL behind a TCP proxy: set " + testdb.EnvURL +
			" (make test runs them in its PostgreSQL phase; by hand: bash scripts/pg.sh start && eval \"$(bash scripts/pg.sh env)\")")
	}
}

// proxy is a TCP proxy to the database that the test can cut, slow down or
// turn into a black hole.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	down   atomic.Bool  // new connections are closed at once
	hole   atomic.Bool  // new connections are accepted and then ignored
	delay  atomic.Int64 // nanoseconds added to every chunk forwarded
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = true
	p.mu.Unlock()
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			_ = c.Close()
			continue
		}
		p.track(c)
		if p.hole.Load() {
			continue // accepted, never answered
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.track(s)
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *proxy) pipe(from, to net.Conn) {
	defer p.wg.Done()
	defer to.Close()
	defer from.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if d := p.delay.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every connection and refuses new ones: the database is gone.
func (p *proxy) cut() {
	p.down.Store(true)
	p.closeAll()
}

func (p *proxy) restore() { p.down.Store(false) }

// proxiedDB returns a fresh migrated schema (direct, for the test's own
// checks) and a pool on the same schema that goes through a new proxy.
func proxiedDB(t *testing.T) (direct, viaProxy *gorm.DB, p *proxy) {
	t.Helper()
	direct = ginauthtest.OpenDB(t)
	var schema string
	if err := direct.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(os.Getenv(testdb.EnvURL))
	if err != nil || u.Host == "" {
		t.Skipf("fault tests need %s as a postgres:// URL: %v", testdb.EnvURL, err)
	}
	p = startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	viaProxy, err = gorm.Open(postgres.Open(u.String()), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := viaProxy.DB()
	sqlDB.SetMaxOpenConns(10)
	sqlDB.SetMaxIdleConns(10)
	t.Cleanup(func() { _ = sqlDB.Close() })
	return direct, viaProxy, p
}

// outcome is one request's result in the load the fault tests drive.
type outcome struct {
	phase string
	what  string
	r     *resp
}

// checkClean fails for an answer that is not clean: a transport error (a
// hang past the client's timeout, a dropped connection), a 5xx that is not
// a JSON {"message"} or that leaks internals.
func checkClean(t *testing.T, o outcome) bool {
	t.Helper()
	r := o.r
	switch {
	case r.err != nil:
		t.Errorf("[%s] %s: no answer: %v (after %v)", o.phase, o.what, r.err, r.dur)
	case r.code >= 500:
		msg := r.str("message")
		low := strings.ToLower(string(r.raw))
		if msg == "" {
			t.Errorf("[%s] %s: 5xx without a JSON message: %s", o.phase, o.what, r)
		}
		for _, leak := range []string{"dial", "pgx", "sql", "127.0.0.1", "connection", "eof", "panic"} {
			if strings.Contains(low, leak) {
				t.Errorf("[%s] %s: 5xx leaks internals (%q): %s", o.phase, o.what, leak, r)
			}
		}
	default:
		return true
	}
	return false
}

// TestDatabaseOutageUnderLoad drives sign-ups, sign-ins, refreshes and
// database-checked requests through a real server, cuts the database in
// the middle, and brings it back: every request gets a prompt, clean
// answer (a JSON 5xx while the database is away), nothing is half
// written, and service resumes by itself.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	needPostgres(t)
	direct, viaProxy, p := proxiedDB(t)
	a := newApp(t, appOptions{db: viaProxy})

	const users = 6
	clients := make([]*client, users)
	for i := range clients {
		clients[i], _ = a.signedUp(fmt.Sprintf("load%d@example.com", i), pw)
		clients[i].hc.Timeout = 15 * time.Second
	}

	var (
		mu       sync.Mutex
		outcomes []outcome
		phase    atomic.Value
		signedUp []string // e-mails whose sign-up answered OK
		seq      atomic.Int64
	)
	phase.Store("before")
	record := func(what string, r *resp) {
		mu.Lock()
		outcomes = append(outcomes, outcome{phase.Load().(string), what, r})
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < users; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			own := clients[w]
			fresh := a.client("header")
			fresh.hc.Timeout = 15 * time.Second
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch i % 4 {
				case 0:
					email := fmt.Sprintf("new%d@example.com", seq.Add(1))
					r := fresh.signUp(email, pw)
					record("sign-up", r)
					if r.err == nil && r.str("status") == "OK" {
						mu.Lock()
						signedUp = append(signedUp, email)
						mu.Unlock()
					}
				case 1:
					record("sign-in", fresh.signIn(fmt.Sprintf("load%d@example.com", w), pw))
				case 2:
					// Keep the refresh token of a failed refresh: in
					// header mode the client only replaces it on success
					// or when told to clear it.
					saved := own.Refresh
					r := own.do("POST", "/auth/session/refresh", nil)
					if r.code != 200 && own.Refresh == "" {
						own.Refresh = saved
					}
					record("refresh", r)
				case 3:
					record("strict", own.do("GET", "/strict", nil))
				}
			}
		}(w)
	}

	time.Sleep(time.Second)
	phase.Store("outage")
	p.cut()
	time.Sleep(2 * time.Second)
	phase.Store("after")
	p.restore()
	recovered := time.Now()
	deadline := time.Now().Add(20 * time.Second)
	probe := a.client("header")
	for {
		r := probe.signIn("load0@example.com", pw)
		if r.err == nil && r.str("status") == "OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not come back within 20s of the database: last answer %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("service back %v after the database", time.Since(recovered).Round(time.Millisecond))
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	// Every answer was prompt and clean.
	counts := map[string]map[int]int{}
	var slowest time.Duration
	for _, o := range outcomes {
		if counts[o.phase] == nil {
			counts[o.phase] = map[int]int{}
		}
		counts[o.phase][o.r.code]++
		if o.r.dur > slowest {
			slowest = o.r.dur
		}
		checkClean(t, o)
	}
	t.Logf("answers by phase and status: %v; slowest %v", counts, slowest)
	if slowest > 10*time.Second {
		t.Errorf("a request took %v", slowest)
	}
	if counts["outage"][503] == 0 {
		t.Errorf("no 503 during the outage: %v", counts["outage"])
	}
	if counts["before"][200] == 0 || counts["after"][200] == 0 {
		t.Errorf("no successes before or after the outage: %v", counts)
	}

	// Nothing half written.
	checkIntegrity(t, direct)
	for _, email := range signedUp {
		if n := count(t, direct, models.TableEmailPasswordUsers, "email = ?", email); n != 1 {
			t.Errorf("sign-up of %s answered OK but it has %d rows", email, n)
		}
	}
}

// checkIntegrity fails on any half-written account or orphan row.
func checkIntegrity(t *testing.T, db *gorm.DB) {
	t.Helper()
	checks := []struct{ what, sql string }{
		{"users without a login method", `SELECT count(*) FROM ginauth_users u WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_emailpassword_users e WHERE e.user_id = u.id)`},
		{"users without a tenant", `SELECT count(*) FROM ginauth_users u WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_user_tenants t WHERE t.user_id = u.id)`},
		{"login methods without a user", `SELECT count(*) FROM ginauth_emailpassword_users e WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_users u WHERE u.id = e.user_id)`},
		{"tenant rows without a user", `SELECT count(*) FROM ginauth_user_tenants t WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_users u WHERE u.id = t.user_id)`},
		{"sessions without a user", `SELECT count(*) FROM ginauth_sessions s WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_users u WHERE u.id = s.user_id)`},
		{"reset tokens without a user", `SELECT count(*) FROM ginauth_password_reset_tokens r WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_users u WHERE u.id = r.user_id)`},
		{"login methods that sign in nowhere", `SELECT count(*) FROM ginauth_emailpassword_users e WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_login_tenants l WHERE l.user_id = e.user_id AND l.tenant_id = e.tenant_id)`},
		{"sign-in rows without an account", `SELECT count(*) FROM ginauth_login_tenants l WHERE NOT EXISTS
			(SELECT 1 FROM ginauth_emailpassword_users e WHERE e.user_id = l.user_id)`},
		{"e-mail addresses with two accounts", `SELECT count(*) FROM (SELECT tenant_id, email FROM ginauth_emailpassword_users
			GROUP BY tenant_id, email HAVING count(*) > 1) d`},
	}
	for _, c := range checks {
		var n int64
		if err := db.Raw(c.sql).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
}

// TestSlowDatabaseReleasesAbandonedRequests: with a slow database, clients
// that give up release their server goroutines promptly, because every
// database call is bound to the request's context; goroutines do not pile
// up with the requests.
func TestSlowDatabaseReleasesAbandonedRequests(t *testing.T) {
	needPostgres(t)
	_, viaProxy, p := proxiedDB(t)
	a := newApp(t, appOptions{db: viaProxy})
	// Requests inside the server, counted around the whole engine.
	var busy atomic.Int64
	inner := a.srv.Config.Handler
	a.srv.Config.Handler = countingHandler(inner, &busy)
	a.signedUp("slow@example.com", pw)

	runtime.GC()
	base := runtime.NumGoroutine()
	p.delay.Store(int64(250 * time.Millisecond))

	const burst = 60
	var answered, gaveUp atomic.Int64
	ginauthtest.Burst(burst, func(i int) {
		c := a.client("header")
		c.hc.Timeout = 300 * time.Millisecond
		var r *resp
		if i%2 == 0 {
			r = c.signIn("slow@example.com", pw)
		} else {
			r = c.signUp(fmt.Sprintf("slow%d@example.com", i), pw)
		}
		if r.err != nil {
			gaveUp.Add(1)
		} else {
			answered.Add(1)
		}
	})
	peak := runtime.NumGoroutine()
	t.Logf("%d clients gave up, %d answered; goroutines: %d before, %d when the clients gave up", gaveUp.Load(), answered.Load(), base, peak)
	if gaveUp.Load() == 0 {
		t.Fatal("the slow database did not slow requests down; the test proves nothing")
	}
	// The handlers notice their clients went and stop within a couple of
	// database round trips, not after the whole chain of slow queries
	// (about 2 s each, 60 of them through a pool of 10).
	deadline := time.Now().Add(3 * time.Second)
	for busy.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := busy.Load(); n > 0 {
		t.Errorf("%d abandoned requests still running 3s after their clients gave up", n)
	}
	p.delay.Store(0)
	// Goroutines go back to about where they were (the pool's and the
	// proxy's connections aside).
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+40 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+40 {
		t.Errorf("goroutines: %d before the burst, still %d after", base, n)
	}
}

func countingHandler(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		defer n.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// dbTimeoutField is the name of the Config field that bounds every
// database call (context.WithTimeout per call). ginauth does not have it
// yet; see TestHungDatabaseAnswersInTime.
const dbTimeoutField = "DBTimeout"

// TestHungDatabaseAnswersInTime: a database that accepts connections and
// then never answers (a network partition, a stuck server) must not hold a
// request forever when the client does not give up (a long load-balancer
// timeout, a server-to-server call): each database call is bounded, and the
// request gets a 503.
func TestHungDatabaseAnswersInTime(t *testing.T) {
	needPostgres(t)
	f, ok := reflect.TypeOf(ginauth.Config{}).FieldByName(dbTimeoutField)
	if !ok || f.Type != reflect.TypeOf(time.Duration(0)) {
		t.Skip("waiting for a core change: ginauth.Config has no " + dbTimeoutField +
			" (time.Duration) bounding each database call, so a hung database holds requests as long as their clients wait")
	}
	_, viaProxy, p := proxiedDB(t)
	a := newApp(t, appOptions{db: viaProxy, mod: func(c *ginauth.Config) {
		reflect.ValueOf(c).Elem().FieldByName(dbTimeoutField).Set(reflect.ValueOf(time.Second))
	}})
	a.signedUp("hung@example.com", pw)
	sqlDB, _ := viaProxy.DB()
	sqlDB.SetMaxIdleConns(0) // every request needs a new connection
	p.closeAll()
	p.hole.Store(true)
	c := a.client("header")
	c.hc.Timeout = 20 * time.Second
	r := c.signIn("hung@example.com", pw)
	if r.err != nil || r.code != 503 || r.dur > 5*time.Second {
		t.Fatalf("sign-in against a hung database: %s after %v; want 503 within 5s", r, r.dur)
	}
}
