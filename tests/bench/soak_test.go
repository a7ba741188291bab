package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Flags for TestSoak.
var (
	flagSoakUsers   = flag.Int("bench.soak.users", 100000, "soak: accounts in the database")
	flagSoakTime    = flag.Duration("bench.soak.duration", 60*time.Second, "soak: length of the mixed-traffic run")
	flagSoakClients = flag.Int("bench.soak.clients", 32, "soak: concurrent clients (fixed)")
	flagSoakWindows = flag.Int("bench.soak.windows", 6, "soak: windows the run is cut into for the memory curve")
)

const soakPassword = "soak-password-1"

// soakKinds are the request kinds of the mix and their shares.
var soakKinds = []struct {
	name  string
	share float64
}{{"verify", 0.90}, {"refresh", 0.08}, {"signin", 0.02}}

// soakUsers bulk-inserts n accounts (one INSERT per table from
// generate_series) sharing the password hash of one account signed up
// through the API, then checks that one of them signs in.
func soakUsers(tb testing.TB, a *ginauth.Auth, url string, n int) {
	db := kit.Of(a).DB()
	cl := &http.Client{}
	if code, _ := soakPost(cl, url+"/auth/signup", "soak-seed@example.com"); code != 200 {
		tb.Fatalf("soak: sign-up answered %d", code)
	}
	var seed models.EmailPasswordUser
	if err := db.Where("email = ?", "soak-seed@example.com").Take(&seed).Error; err != nil {
		tb.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO ` + models.TableUsers + ` (id, time_joined) SELECT 'soak-' || g, now() FROM generate_series(1, ?::int) g`,
		`INSERT INTO ` + models.TableUserTenants + ` (user_id, tenant_id) SELECT 'soak-' || g, 'public' FROM generate_series(1, ?::int) g`,
		`INSERT INTO ` + models.TableEmailPasswordUsers + ` (user_id, tenant_id, email, password_hash, time_joined)
			SELECT 'soak-' || g, 'public', 'soak' || g || '@example.com', '` + seed.PasswordHash + `', now() FROM generate_series(1, ?::int) g`,
		`INSERT INTO ` + models.TableLoginTenants + ` (tenant_id, method, account, user_id)
			SELECT 'public', '` + models.LoginEmailPassword + `', 'soak' || g || '@example.com', 'soak-' || g FROM generate_series(1, ?::int) g`,
		`ANALYZE`,
	} {
		args := []any{n}
		if q == "ANALYZE" {
			args = nil
		}
		if err := db.Exec(q, args...).Error; err != nil {
			tb.Fatalf("soak: %v", err)
		}
	}
	if code, _ := soakPost(cl, url+"/auth/signin", fmt.Sprintf("soak%d@example.com", n)); code != 200 {
		tb.Fatalf("soak: a bulk-inserted account cannot sign in (%d); has the schema changed?", code)
	}
}

// soakPost signs up or in with email and returns the status and the
// session tokens (header mode).
func soakPost(cl *http.Client, url, email string) (int, [2]string) {
	body := `{"formFields":[{"id":"email","value":"` + email + `"},{"id":"password","value":"` + soakPassword + `"}]}`
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("rid", "emailpassword")
	req.Header.Set("st-auth-mode", "header")
	resp, err := cl.Do(req)
	if err != nil {
		return 0, [2]string{}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 && !bytes.Contains(b, []byte(`"OK"`)) {
		return 0, [2]string{}
	}
	return resp.StatusCode, [2]string{resp.Header.Get("st-access-token"), resp.Header.Get("st-refresh-token")}
}

// soakClient is one user agent: its current tokens.
type soakClient struct {
	cl     *http.Client
	url    string
	users  int
	access string
	rfresh string
	rng    *rand.Rand
}

func (c *soakClient) signIn() error {
	code, t := soakPost(c.cl, c.url+"/auth/signin", fmt.Sprintf("soak%d@example.com", 1+c.rng.IntN(c.users)))
	if code != 200 || t[0] == "" || t[1] == "" {
		return fmt.Errorf("sign-in: status %d", code)
	}
	c.access, c.rfresh = t[0], t[1]
	return nil
}

func (c *soakClient) verify() error {
	req, _ := http.NewRequest("GET", c.url+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+c.access)
	resp, err := c.cl.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		return fmt.Errorf("verify: status %d", resp.StatusCode)
	}
	return nil
}

func (c *soakClient) refresh() error {
	req, _ := http.NewRequest("POST", c.url+"/auth/session/refresh", nil)
	req.Header.Set("Authorization", "Bearer "+c.rfresh)
	req.Header.Set("st-auth-mode", "header")
	resp, err := c.cl.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a, r := resp.Header.Get("st-access-token"), resp.Header.Get("st-refresh-token")
	if resp.StatusCode != 200 || a == "" || r == "" {
		return fmt.Errorf("refresh: status %d", resp.StatusCode)
	}
	c.access, c.rfresh = a, r
	return nil
}

// TestSoak runs mixed traffic against the example-like app on PostgreSQL:
// -bench.soak.users accounts, -bench.soak.clients clients for
// -bench.soak.duration, each request verify (90%), refresh (8%) or sign-in
// (2%) with the client's own tokens. It reports throughput, p50/p99 per
// kind, errors (must be none), and the peak Go heap per window of the run
// (flat: the second half's peak over the first half's).
func TestSoak(t *testing.T) {
	if !*flagLoad {
		t.Skip("load test: run with -bench.load (make bench)")
	}
	if os.Getenv(testdb.EnvURL) == "" {
		t.Skip("the soak needs PostgreSQL: set " + testdb.EnvURL + " (make bench does)")
	}
	db := newDB(t)
	a := newAuth(t, db, "", func(c *ginauth.Config) {
		c.Recipes = []ginauth.Recipe{emailpassword.New(emailpassword.Config{})}
		c.RateLimit = ginauth.RateLimitConfig{Disabled: true} // one IP, many accounts
		c.Logger = slog.New(slog.DiscardHandler)
	})
	r := gin.New()
	r.Use(a.Middleware())
	r.GET("/me", a.VerifySession(), ok)
	url := listen(t, r)
	t0 := time.Now()
	soakUsers(t, a, url, *flagSoakUsers)
	t.Logf("soak: %d accounts in %s", *flagSoakUsers, time.Since(t0).Round(time.Millisecond))

	clients := *flagSoakClients
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cs := make([]*soakClient, clients)
	for i := range cs {
		cs[i] = &soakClient{cl: &http.Client{Transport: tr, Timeout: time.Minute}, url: url, users: *flagSoakUsers,
			rng: rand.New(rand.NewPCG(uint64(i), 42))}
		if err := cs[i].signIn(); err != nil {
			t.Fatal(err)
		}
	}

	type sample struct {
		kind int
		lat  time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	errs := map[string]int{}
	windows := max(1, *flagSoakWindows)
	winPeak := make([]uint64, windows)
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM: earlier tests' peaks are not the soak's
	start := time.Now()
	deadline := start.Add(*flagSoakTime)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the heap's peak in each window of the run
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			metrics.Read(s)
			w := min(windows-1, int(time.Since(start)*time.Duration(windows) / *flagSoakTime))
			winPeak[w] = max(winPeak[w], s[0].Value.Uint64())
		}
	}()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []sample
			localErrs := map[string]int{}
			for time.Now().Before(deadline) {
				x, k := c.rng.Float64(), 0
				for acc := soakKinds[0].share; k < len(soakKinds)-1 && x >= acc; acc += soakKinds[k].share {
					k++
				}
				s := time.Now()
				var err error
				switch soakKinds[k].name {
				case "verify":
					err = c.verify()
				case "refresh":
					err = c.refresh()
				default:
					err = c.signIn()
				}
				if err != nil {
					localErrs[err.Error()]++
					continue
				}
				local = append(local, sample{k, time.Since(s)})
			}
			mu.Lock()
			samples = append(samples, local...)
			for e, n := range localErrs {
				errs[e] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	close(stop)
	<-done

	nerr := 0
	for _, n := range errs {
		nerr += n
	}
	record(t, "soak/users", float64(*flagSoakUsers), "users")
	record(t, "soak/clients", float64(clients), "clients")
	record(t, "soak/seconds", el.Seconds(), "s")
	record(t, "soak/throughput", float64(len(samples))/el.Seconds(), "req/s")
	record(t, "soak/errors", float64(nerr), "errors")
	for k, kind := range soakKinds {
		var lats []time.Duration
		for _, s := range samples {
			if s.kind == k {
				lats = append(lats, s.lat)
			}
		}
		record(t, "soak/"+kind.name+"/count", float64(len(lats)), "requests")
		record(t, "soak/"+kind.name+"/p50", float64(percentile(lats, 0.50).Microseconds())/1e3, "ms")
		record(t, "soak/"+kind.name+"/p99", float64(percentile(lats, 0.99).Microseconds())/1e3, "ms")
	}
	for w, p := range winPeak {
		record(t, fmt.Sprintf("soak/heap/w%d", w), float64(p)/(1<<20), "MiB")
	}
	// Flat: the peak of the second half of the run over that of the first
	// (a single window's peak jumps with how many argon2id hashes, 19 MiB
	// each, happen to overlap).
	var first, second uint64
	for w, p := range winPeak {
		if w < (windows+1)/2 {
			first = max(first, p)
		} else {
			second = max(second, p)
		}
	}
	if first > 0 && second > 0 {
		record(t, "soak/heap/second-vs-first-half", float64(second)/float64(first), "ratio")
	}
	record(t, "soak/peak-rss", float64(vmHWM())/(1<<20), "MiB")
	if nerr != 0 {
		b, _ := json.Marshal(errs)
		t.Fatalf("soak: %d errors: %s", nerr, b)
	}
}
