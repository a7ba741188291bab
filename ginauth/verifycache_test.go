package ginauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/models"
)

// verifyWith runs one GET /me with the token as a bearer and returns the
// status and, on 200, the session's user id.
func verifyWith(t *testing.T, h *harness, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.r.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return w.Code, ""
	}
	var body struct {
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	return w.Code, body.UserID
}

func newToken(t *testing.T, h *harness, user string) string {
	t.Helper()
	_, tok, err := h.auth.CreateSessionTokens(t.Context(), NewSession{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// TestVerifyCacheExpiry walks the clock across exp + skew and checks that
// the cache and the uncached path give the same verdict at every step: the
// cache never serves a token the signature path would refuse.
func TestVerifyCacheExpiry(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Session.AccessTokenValidity = time.Minute
				c.Session.ClockSkew = 5 * time.Second
				c.Session.VerifyCacheSize = size
			})
			tok := newToken(t, h, "u1")
			if code, uid := verifyWith(t, h, tok); code != 200 || uid != "u1" {
				t.Fatalf("fresh token: %d %q", code, uid)
			}
			if size == 0 && h.auth.vcache.len() != 1 {
				t.Fatalf("cache holds %d entries, want 1", h.auth.vcache.len())
			}
			// exp is one minute on; with 5 s of skew the token works up to
			// and including exp+5s, and not a second later.
			steps := []struct {
				advance time.Duration
				want    int
			}{
				{50 * time.Second, 200},
				{10 * time.Second, 200}, // at exp
				{5 * time.Second, 200},  // at exp + skew
				{time.Second, 401},      // past it
				{time.Hour, 401},
			}
			for _, s := range steps {
				h.clock.Advance(s.advance)
				if code, _ := verifyWith(t, h, tok); code != s.want {
					t.Fatalf("after %s more: status %d, want %d", s.advance, code, s.want)
				}
			}
		})
	}
}

// TestVerifyCacheNotBefore: a clock that steps back before iat - skew sees
// the token refused, cached or not.
func TestVerifyCacheNotBefore(t *testing.T) {
	h := newHarness(t, nil)
	tok := newToken(t, h, "u1")
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("status %d", code)
	}
	h.clock.Advance(-time.Minute)
	if code, _ := verifyWith(t, h, tok); code != 401 {
		t.Fatalf("token from the future: status %d, want 401", code)
	}
}

// TestVerifyCacheKeyExpiry: an entry never outlives its signing key's
// verifyUntil (plus skew), even when the token's own exp is later.
func TestVerifyCacheKeyExpiry(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.ClockSkew = 5 * time.Second })
	ks := h.auth.keys
	// Shorten the signing key's life to 30 s, as if it had been made with
	// a short validity; the token signed below lives an hour.
	ks.mu.Lock()
	k := *ks.current
	k.verifyUntil = h.clock.Now().Add(30 * time.Second)
	ks.keys[k.kid], ks.current = &k, &k
	ks.mu.Unlock()

	tok := newToken(t, h, "u1")
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("status %d", code)
	}
	h.clock.Advance(35 * time.Second) // verifyUntil + skew: still fine
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("at verifyUntil+skew: status %d, want 200", code)
	}
	h.clock.Advance(time.Second)
	if code, _ := verifyWith(t, h, tok); code != 401 {
		t.Fatalf("after the key's verifyUntil: status %d, want 401", code)
	}
}

// TestVerifyCacheKeyDropped: when the key store no longer holds the key
// that verified a cached token (an operator deleted it, or a reload dropped
// it), the token is refused at once.
func TestVerifyCacheKeyDropped(t *testing.T) {
	h := newHarness(t, nil)
	tok := newToken(t, h, "u1")
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("status %d", code)
	}
	ks := h.auth.keys
	ks.mu.RLock()
	kid, dropped := ks.current.kid, *ks.current
	ks.mu.RUnlock()
	// An operator deletes the key and a reload (the only way a key leaves
	// the store) drops it; a hit must see that without taking the store's
	// lock (keyStore.gen).
	if err := h.auth.db.Where("kid = ?", kid).Delete(&models.SigningKey{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := ks.reload(context.Background()); err != nil { // lastReload = now: no reload brings it back for 10 s
		t.Fatal(err)
	}
	if code, _ := verifyWith(t, h, tok); code != 401 {
		t.Fatalf("token of a dropped key: status %d, want 401", code)
	}

	// Put back under the same kid, the key verifies the token afresh.
	ks.mu.Lock()
	k := dropped
	ks.keys[kid] = &k
	ks.mu.Unlock()
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("key restored: status %d, want 200", code)
	}
}

// TestVerifyCacheKeyDroppedConcurrent: goroutines verify one cached token
// in bursts while a reload drops its key; every request that starts after
// the reload has returned is refused, whichever shard or goroutine serves
// it (the hit reads the key store's generation, not its lock).
func TestVerifyCacheKeyDroppedConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	tok := newToken(t, h, "u1")
	if code, _ := verifyWith(t, h, tok); code != 200 {
		t.Fatalf("status %d", code)
	}
	var dropped atomic.Bool
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := dropped.Load()
				if code, _ := verifyWith(t, h, tok); after && code != 401 {
					errs <- fmt.Sprintf("request after the reload: status %d, want 401", code)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	ks := h.auth.keys
	ks.mu.RLock()
	kid := ks.current.kid
	ks.mu.RUnlock()
	if err := h.auth.db.Where("kid = ?", kid).Delete(&models.SigningKey{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := ks.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	dropped.Store(true)
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestVerifyCacheCollision forces every token onto one cache key: a
// different token, valid or forged, must never be served the cached
// token's session.
func TestVerifyCacheCollision(t *testing.T) {
	h := newHarness(t, nil)
	h.auth.vcache.hash = func(string) uint64 { return 42 }
	a, b := newToken(t, h, "alice"), newToken(t, h, "bob")
	if code, uid := verifyWith(t, h, a); code != 200 || uid != "alice" {
		t.Fatalf("alice: %d %q", code, uid)
	}
	if code, uid := verifyWith(t, h, b); code != 200 || uid != "bob" {
		t.Fatalf("bob, colliding with alice: %d %q", code, uid)
	}
	// Alice's token with bob's name in the payload and alice's signature.
	parts := strings.Split(a, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"alice"`, `"bob00"`, 1))) + "." + parts[2]
	if code, uid := verifyWith(t, h, a); code != 200 || uid != "alice" { // alice cached again
		t.Fatalf("alice again: %d %q", code, uid)
	}
	if code, uid := verifyWith(t, h, forged); code != 401 {
		t.Fatalf("forged token colliding with a cached one: %d %q, want 401", code, uid)
	}
	if code, uid := verifyWith(t, h, a+"x"); code != 401 {
		t.Fatalf("alice's token with a suffix: %d %q, want 401", code, uid)
	}
}

// TestVerifyCacheSameTail: with the cache's own hash, which reads only a
// token's last hashTail bytes, a forged token ending like a cached one
// (the cached token's signature, another payload) lands on the cached
// entry's key and must still be refused, and the cached token still served.
func TestVerifyCacheSameTail(t *testing.T) {
	h := newHarness(t, nil)
	a := newToken(t, h, "alice")
	if code, uid := verifyWith(t, h, a); code != 200 || uid != "alice" {
		t.Fatalf("alice: %d %q", code, uid)
	}
	parts := strings.Split(a, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"alice"`, `"bob00"`, 1))) + "." + parts[2]
	if len(parts[2]) < hashTail || h.auth.vcache.hash(forged) != h.auth.vcache.hash(a) {
		t.Fatal("the forged token does not share the cached token's hash: the test proves nothing")
	}
	if code, uid := verifyWith(t, h, forged); code != 401 {
		t.Fatalf("forged token with a cached token's tail: %d %q, want 401", code, uid)
	}
	if code, uid := verifyWith(t, h, a); code != 200 || uid != "alice" {
		t.Fatalf("alice after the forgery: %d %q", code, uid)
	}
}

// TestVerifyCacheBounded: the cache never holds more than its size.
func TestVerifyCacheBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.VerifyCacheSize = 5 })
	var toks []string
	for i := 0; i < 12; i++ {
		tok := newToken(t, h, fmt.Sprintf("u%d", i))
		toks = append(toks, tok)
		if code, _ := verifyWith(t, h, tok); code != 200 {
			t.Fatalf("status %d", code)
		}
		if n := h.auth.vcache.len(); n > 5 {
			t.Fatalf("cache holds %d entries, bound 5", n)
		}
	}
	for i, tok := range toks { // evicted ones verify again, uncached
		if code, uid := verifyWith(t, h, tok); code != 200 || uid != fmt.Sprintf("u%d", i) {
			t.Fatalf("token %d: %d %q", i, code, uid)
		}
	}
}

// TestVerifyCacheKeepsChecks: a cached token still goes through anti-CSRF,
// CheckDatabase (a revoked session is refused) and the claim validators.
func TestVerifyCacheKeepsChecks(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.AntiCSRF = AntiCSRFViaCustomHeader })
	cl := h.client("cookie")
	cl.login("u1")
	expect(t, cl.do("POST", "/me", ""), 200, "") // cached now
	cl.RID = ""
	expect(t, cl.do("POST", "/me", ""), 401, "try refresh token")
	cl.RID = "anti-csrf"
	expect(t, cl.do("GET", "/strict", ""), 200, "")
	s, err := h.auth.GetSession(ginContext(cl), VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.auth.RevokeSession(t.Context(), s.Handle()); err != nil {
		t.Fatal(err)
	}
	expect(t, cl.do("GET", "/me", ""), 200, "") // stateless, as without the cache
	expect(t, cl.do("GET", "/strict", ""), 401, "unauthorised")
}

// ginContext builds a gin context carrying the client's cookies.
func ginContext(cl *client) *gin.Context {
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range cl.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = req
	return c
}

// TestVerifyCacheConcurrent hammers one cache from many goroutines (run
// with -race).
func TestVerifyCacheConcurrent(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.VerifyCacheSize = 20 })
	var toks []string
	for i := 0; i < 40; i++ {
		toks = append(toks, newToken(t, h, fmt.Sprintf("u%d", i)))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				j := (i*7 + g) % len(toks)
				req := httptest.NewRequest("GET", "/me", nil)
				req.Header.Set("Authorization", "Bearer "+toks[j])
				w := httptest.NewRecorder()
				h.r.ServeHTTP(w, req)
				if w.Code != 200 || !strings.Contains(w.Body.String(), fmt.Sprintf(`"userId":"u%d"`, j)) {
					t.Errorf("token %d: %d %s", j, w.Code, w.Body)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if n := h.auth.vcache.len(); n > 20 {
		t.Fatalf("cache holds %d entries, bound 20", n)
	}
}
