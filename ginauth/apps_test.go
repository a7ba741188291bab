package ginauth

import (
	"context"
	"errors"
	"github.com/ginauth/ginauth/ginauthtest"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
)

// TestFromContextNoFallback: a context no instance serves yields nil (and
// AuthFrom a 500 naming the fix) even when a default instance is set; a
// request served by an instance's guard or handler carries that instance,
// in its *gin.Context and in its request context. Removing the request
// marking (boundRequest, attach, the session lookup in FromContext) or
// restoring the fallback to Default fails it.
func TestFromContextNoFallback(t *testing.T) {
	a := newHarness(t, nil)
	b := newHarness(t, nil)
	SetDefault(a.auth)
	defer SetDefault(nil)

	if got := FromContext(context.Background()); got != nil {
		t.Fatalf("FromContext(Background) = %p, want nil (no fallback to the default)", got)
	}
	_, err := AuthFrom(context.Background())
	var e *Error
	if !errors.Is(err, ErrNoInstance) || !errors.As(err, &e) || e.Status != http.StatusInternalServerError {
		t.Fatalf("AuthFrom(Background) = %v, want a 500 wrapping ErrNoInstance", err)
	}
	if got := FromContext(NewContext(context.Background(), b.auth)); got != b.auth {
		t.Fatal("NewContext(b) is not found")
	}

	// Routes of a's engine guarded by b's instance.
	type seen struct{ gin, req *Auth }
	var last seen
	record := func(c *gin.Context) {
		last = seen{FromContext(c), FromContext(c.Request.Context())}
		c.Status(http.StatusOK)
	}
	a.r.GET("/plain", record)
	a.r.GET("/b/maybe", b.auth.VerifySession(VerifyOptions{Optional: true}), record)
	a.r.GET("/b/me", b.auth.VerifySession(), record)

	cl := a.client("header")
	cl.do("GET", "/plain", "")
	if last.gin != nil || last.req != nil {
		t.Fatalf("an unguarded route found %+v, want nil (no fallback to the default)", last)
	}
	cl.do("GET", "/b/maybe", "")
	if last.gin != b.auth || last.req != b.auth {
		t.Fatalf("optional guard without a session: got %+v, want b", last)
	}
	// A session of b (made by b's harness), presented on a's engine.
	bc := b.client("header")
	bc.login("u1")
	cl.Access = bc.Access
	if r := cl.do("GET", "/b/me", ""); r.Code != http.StatusOK {
		t.Fatalf("b's guard: %d %s", r.Code, r.Body)
	}
	if last.gin != b.auth || last.req != b.auth {
		t.Fatalf("b's guard with b's session: got %+v, want b", last)
	}
}

// TestClaimFetchSeesTheServingInstance: a package-level claim (one value
// shared by every instance) fetches through the instance whose guard runs,
// not the default one.
func TestClaimFetchSeesTheServingInstance(t *testing.T) {
	a := newHarness(t, nil)
	b := newHarness(t, nil)
	SetDefault(a.auth)
	defer SetDefault(nil)
	var fetchedBy atomic.Pointer[Auth]
	claim := claims.NewBoolean("test-which", func(ctx context.Context, _, _ string) (bool, bool, error) {
		got, err := AuthFrom(ctx)
		if err != nil {
			return false, false, err
		}
		fetchedBy.Store(got)
		return got == b.auth, true, nil
	})
	b.r.GET("/claimed", b.auth.VerifySession(), RequireClaim(claim.IsTrue(claims.MaxAge(0))), func(c *gin.Context) { c.Status(http.StatusOK) })
	cl := b.client("header")
	cl.login("u1")
	if r := cl.do("GET", "/claimed", ""); r.Code != http.StatusOK {
		t.Fatalf("status %d %s", r.Code, r.Body)
	}
	if fetchedBy.Load() != b.auth {
		t.Fatal("the claim was fetched through another instance than the one serving the route")
	}
}

// TestRequireClaimRefusesAnotherInstancesSession: a's RequireClaim after
// b's VerifySession is a 401, not a claim check against a's database.
func TestRequireClaimRefusesAnotherInstancesSession(t *testing.T) {
	a := newHarness(t, nil)
	b := newHarness(t, nil)
	a.r.GET("/mixed", b.auth.VerifySession(), a.auth.RequireClaim(), func(c *gin.Context) { c.Status(http.StatusOK) })
	bc := b.client("header")
	bc.login("u1")
	cl := a.client("header")
	cl.Access = bc.Access
	expect(t, cl.do("GET", "/mixed", ""), http.StatusUnauthorized, "unauthorised")
}

// TestCloseWaitsAndRefuses: Close waits for work started with Go, refuses
// new work and answers every route and guard 503 afterwards; it is
// idempotent; a Close whose context ends first cancels the work's context
// and returns the context's error.
func TestCloseWaitsAndRefuses(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.client("header")
	cl.login("u1")

	release := make(chan struct{})
	var finished atomic.Bool
	if err := h.auth.Go(context.Background(), func(ctx context.Context) {
		<-release
		finished.Store(true)
	}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 2)
	go func() { closed <- h.auth.Close(context.Background()) }()
	go func() { closed <- h.auth.Close(context.Background()) }() // concurrent and idempotent
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the background work ended", err)
	case <-time.After(100 * time.Millisecond):
	}
	for !h.auth.Closed() {
		time.Sleep(time.Millisecond)
	}
	if err := h.auth.Go(context.Background(), func(context.Context) { t.Error("work ran after Close") }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Go after Close: %v", err)
	}
	expect(t, cl.do("GET", "/me", ""), http.StatusServiceUnavailable, closedMessage)
	expect(t, cl.do("POST", "/auth/session/refresh", ""), http.StatusServiceUnavailable, closedMessage)
	expect(t, cl.do("GET", "/maybe", ""), http.StatusServiceUnavailable, closedMessage)
	close(release)
	for range 2 {
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
	}
	if !finished.Load() {
		t.Fatal("Close returned before the work finished")
	}
	if err := h.auth.Close(context.Background()); err != nil {
		t.Fatalf("third Close: %v", err)
	}

	// A Close that gives up cancels the work's context.
	h2 := newHarness(t, nil)
	var cancelled atomic.Bool
	_ = h2.auth.Go(context.Background(), func(ctx context.Context) {
		<-ctx.Done()
		cancelled.Store(true)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h2.auth.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with an ending context: %v", err)
	}
	if err := h2.auth.Close(context.Background()); err != nil || !cancelled.Load() {
		t.Fatalf("the work was not cancelled: %v", err)
	}
}

// TestCloseRacesGo: Go and Close from many goroutines at once; everything
// Go accepted has ended when Close returns (run with -race).
func TestCloseRacesGo(t *testing.T) {
	h := newHarness(t, nil)
	var started, ended atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if h.auth.Go(context.Background(), func(context.Context) {
					time.Sleep(time.Millisecond)
					ended.Add(1)
				}) == nil {
					started.Add(1)
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := h.auth.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Work accepted before Close is counted in started once Go returns;
	// wait for the loops to see ErrClosed before comparing.
	close(stop)
	wg.Wait()
	if s, e := started.Load(), ended.Load(); s == 0 || s != e {
		t.Fatalf("started %d, ended %d when Close returned", s, e)
	}
}

// TestMemoryRateLimitStoreServesOneInstance: one memory store cannot count
// for two instances (their users would lock each other out); Close frees
// it.
func TestMemoryRateLimitStoreServesOneInstance(t *testing.T) {
	store := NewMemoryRateLimitStore()
	withStore := func(c *Config) { c.RateLimit.Store = store }
	a := newHarness(t, withStore)
	cfg := baseConfig(t, ginauthtest.NewClock(time.Time{}))
	withStore(&cfg)
	if _, err := New(cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("second instance on one memory store: %v, want ErrConfig", err)
	}
	if err := a.auth.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err != nil {
		t.Fatalf("after Close the store is free: %v", err)
	}
}
