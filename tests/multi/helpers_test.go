package multi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// instanceBinary builds tests/multi/instance once per test binary.
func instanceBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		build.dir, build.err = os.MkdirTemp("", "ginauth-multi-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "instance")
		cmd := exec.Command("go", "build", "-o", build.bin, "./instance")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./instance: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// database makes a fresh PostgreSQL schema with ginauth's tables and
// returns its URL (for the instances) and a pool (for the test's checks).
func database(t *testing.T) (string, *gorm.DB) {
	t.Helper()
	dsn := testdb.PostgresURL(t) // skips without PostgreSQL
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { _ = sqlDB.Close() })
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

// instance is one running API process.
type instance struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

// kill ends the process at once (SIGKILL), as a crash would.
func (in *instance) kill() {
	_ = in.cmd.Process.Kill()
	<-in.done
}

type safeBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// startInstances starts n API processes on dsn with the extra environment
// given, and stops them when the test ends.
func startInstances(t *testing.T, dsn string, n int, env ...string) []*instance {
	t.Helper()
	bin := instanceBinary(t)
	out := make([]*instance, n)
	for i := range n {
		name := fmt.Sprintf("i%d", i+1)
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + dsn, "INSTANCE=" + name}, env...)...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		logs := &safeBuffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		in := &instance{name: name, cmd: cmd, logs: &logs.Buffer, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(in.done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-in.done
			if t.Failed() {
				logs.mu.Lock()
				t.Logf("instance %s log:\n%s", name, logs.String())
				logs.mu.Unlock()
			}
		})
		addr := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
					addr <- a
				}
			}
			_, _ = io.Copy(io.Discard, stdout)
		}()
		select {
		case a := <-addr:
			in.base = "http://" + a
		case <-in.done:
			t.Fatalf("instance %s exited at start:\n%s", name, logs.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("instance %s did not start", name)
		}
		out[i] = in
	}
	return out
}

// proxy is a round-robin load balancer on loopback. A backend that refuses
// the connection is skipped and the request goes to the next one, as a load
// balancer's health check would arrange.
type proxy struct {
	backends []*instance
	served   []atomic.Int64 // answers relayed, per backend
	next     atomic.Uint64
	client   *http.Client
	srv      *http.Server
	base     string
}

func startProxy(t *testing.T, backends []*instance) *proxy {
	t.Helper()
	p := &proxy{backends: backends, served: make([]atomic.Int64, len(backends)), client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.base = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	start := p.next.Add(1)
	for i := range len(p.backends) {
		n := (int(start) + i) % len(p.backends)
		b := p.backends[n]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, b.base+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		xff := "127.0.0.1"
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			xff = prior + ", " + xff
		}
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := p.client.Do(req)
		if err != nil {
			continue // down: try the next backend
		}
		p.served[n].Add(1)
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no backend answered", http.StatusBadGateway)
}

// fdi is a header-mode FDI client of one base URL.
type fdi struct {
	base string
	xff  string // sent as X-Forwarded-For: the client's address as the proxy saw it
	hc   *http.Client
}

var sharedClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func client(base, xff string) *fdi { return &fdi{base: base, xff: xff, hc: sharedClient} }

type answer struct {
	code     int
	status   string // the FDI body's status, or its message
	instance string
	access   string
	refresh  string
	body     map[string]any
}

func (f *fdi) do(method, path, bearer string, body any) (*answer, error) {
	c := &ginauthtest.Client{BaseURL: f.base, HTTPClient: f.hc, RID: "emailpassword", Access: bearer, Refresh: bearer}
	if f.xff != "" {
		c.Headers = []string{"X-Forwarded-For", f.xff}
	}
	r := c.Do(method, path, body)
	if r.Err != nil {
		return nil, r.Err
	}
	a := &answer{code: r.Code, instance: r.Header().Get("X-Instance"),
		access: r.Header().Get("st-access-token"), refresh: r.Header().Get("st-refresh-token"), body: r.JSON}
	a.status = r.Status()
	if a.status == "" {
		a.status = r.Str("message")
	}
	return a, nil
}

func (f *fdi) signUp(email, password string) (*answer, error) {
	return f.do("POST", "/auth/signup", "", ginauthtest.Form("email", email, "password", password))
}

func (f *fdi) signIn(email, password string) (*answer, error) {
	return f.do("POST", "/auth/signin", "", ginauthtest.Form("email", email, "password", password))
}

func (f *fdi) refresh(token string) (*answer, error) {
	return f.do("POST", "/auth/session/refresh", token, nil)
}

func (f *fdi) get(path, access string) (*answer, error) { return f.do("GET", path, access, nil) }

// expect returns a check of one answer: it fails the test on a transport
// error and on an HTTP code other than code. Use: expect(t, 200, "sign-up")(c.signUp(...)).
func expect(t *testing.T, code int, what string) func(*answer, error) *answer {
	t.Helper()
	return func(a *answer, err error) *answer {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if a.code != code {
			t.Fatalf("%s: HTTP %d (%s) from %s, want %d", what, a.code, a.status, a.instance, code)
		}
		return a
	}
}
