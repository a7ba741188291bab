package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// Flags for the load tests (TestSignInLoad, TestRefreshLoad). Without
// -bench.load they skip, so that `go test ./...` stays quick.
var (
	flagLoad     = flag.Bool("bench.load", false, "run the load tests (sign-in, refresh)")
	flagOut      = flag.String("bench.out", "", "append results as JSON lines to this file (for cmd/benchreport)")
	flagClients  = flag.String("bench.clients", "1,8,64,512", "sign-in: concurrent clients per level")
	flagPerLevel = flag.Int("bench.requests", 0, "sign-in: requests per level (0: max(200, 2 x clients))")
	flagDuration = flag.Duration("bench.duration", 4*time.Second, "refresh and pgbench: time per round")
	flagRounds   = flag.Int("bench.rounds", 3, "refresh and pgbench: alternating rounds (medians are reported)")
	flagSessions = flag.String("bench.sessions", "1000,1000000", "refresh latency: session-table sizes")
	flagLatN     = flag.Int("bench.latn", 400, "refresh latency: sequential refreshes per size")
)

func init() { gin.SetMode(gin.ReleaseMode) }

// result is one measured figure, written to -bench.out for cmd/benchreport.
type result struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

var outMu sync.Mutex

// record logs a result and appends it to -bench.out.
func record(tb testing.TB, name string, value float64, unit string) {
	tb.Helper()
	tb.Logf("%-40s %14.3f %s", name, value, unit)
	if *flagOut == "" {
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	f, err := os.OpenFile(*flagOut, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, _ := json.Marshal(result{Name: name, Value: value, Unit: unit})
	fmt.Fprintf(f, "%s\n", b)
}

// newDB returns a fresh, migrated database: a PostgreSQL schema when
// GINAUTH_TEST_DATABASE_URL is set (make bench sets it), else SQLite.
func newDB(tb testing.TB) *gorm.DB {
	tb.Helper()
	db := ginauthtest.OpenDB(tb)
	return db
}

// newAuth builds an Auth on db with the given signing algorithm; mod may
// adjust the config.
func newAuth(tb testing.TB, db *gorm.DB, alg string, mod func(*ginauth.Config)) *ginauth.Auth {
	tb.Helper()
	cfg := ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "bench", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Session: ginauth.SessionConfig{SigningAlgorithm: ginauth.SigningAlgorithm(alg)},
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := ginauth.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// publicKey fetches the Auth's JWKS through its routes and returns the key
// with kid.
func publicKey(tb testing.TB, a *ginauth.Auth, kid string) crypto.PublicKey {
	tb.Helper()
	r := gin.New()
	r.Use(a.Middleware())
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/auth/jwt/jwks.json", nil))
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		tb.Fatalf("jwks: %v (%s)", err, w.Body)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	for _, k := range doc.Keys {
		if k["kid"] != kid {
			continue
		}
		switch k["kty"] {
		case "RSA":
			return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(k["n"])), E: int(new(big.Int).SetBytes(dec(k["e"])).Int64())}
		case "EC":
			return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(dec(k["x"])), Y: new(big.Int).SetBytes(dec(k["y"]))}
		case "OKP":
			return ed25519.PublicKey(dec(k["x"]))
		}
	}
	tb.Fatalf("kid %s not in the JWKS", kid)
	return nil
}

// kidOf returns the kid in a JWT's header.
func kidOf(tb testing.TB, jwt string) string {
	tb.Helper()
	hb, err := base64.RawURLEncoding.DecodeString(strings.SplitN(jwt, ".", 2)[0])
	if err != nil {
		tb.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(hb, &h)
	return h.Kid
}

// serve runs one request through h and fails unless it answers want.
func serve(tb testing.TB, h http.Handler, req *http.Request, want int) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		tb.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL, w.Code, want, w.Body)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p * float64(len(s)-1))
	return s[i]
}
