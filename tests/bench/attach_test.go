package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// The guard's own cost on a cache hit is what VerifySession adds over a
// bare gin route (BenchmarkVerifyPaired: ginauth/cached minus
// gin/no-guard). Attaching the session used to be most of it: making it
// reachable from c (c.Set, which allocates gin's Keys map on each request)
// and from c.Request.Context() (Request.WithContext, a shallow copy of the
// request). BenchmarkAttachPaired measures each way of attaching a session,
// reproduced here with a stand-in of the same shape as ginauth's
// sessionCtx; ginauth now does what "ctx-only/one-alloc" does.

// fakeSession has about the size of ginauth.Session.
type fakeSession struct {
	a, b, c  any
	transfer int
	revoked  bool
	mu       sync.Mutex
	view     map[string]any
}

type attachKey struct{}

// attachCtx is ginauth's sessionCtx: the context, the session, its
// response binding and (for ctx-only/one-alloc) the request copy in one
// allocation.
type attachCtx struct {
	context.Context
	sess *fakeSession
	own  fakeSession
	mu   sync.Mutex
	c    *gin.Context
	req  http.Request
}

func (ac *attachCtx) Value(key any) any {
	if _, ok := key.(attachKey); ok {
		return ac.sess
	}
	return ac.Context.Value(key)
}

func newAttachCtx() *attachCtx {
	ac := new(attachCtx)
	ac.sess = &ac.own
	return ac
}

// attachWays are the alternatives, each a gin middleware that attaches a
// session the way its name says, and a handler that reads it back the
// way an app would.
var attachWays = []struct {
	name   string
	attach gin.HandlerFunc
	read   func(c *gin.Context) bool
}{
	// The floor: no session at all.
	{"none", func(c *gin.Context) {}, func(*gin.Context) bool { return true }},
	// Only c.Set: SessionFrom(c) works, SessionFromContext(c.Request.Context()) does not.
	{"c.Set", func(c *gin.Context) { c.Set(attachKey{}, &fakeSession{}) },
		func(c *gin.Context) bool { _, ok := c.Get(attachKey{}); return ok }},
	// Only the request context, one allocation for context and session;
	// SessionFrom(c) would read c.Request.Context() instead of c.Keys.
	{"ctx-only", func(c *gin.Context) {
		ac := newAttachCtx()
		ac.Context = c.Request.Context()
		c.Request = c.Request.WithContext(ac)
	}, func(c *gin.Context) bool { return c.Request.Context().Value(attachKey{}) != nil }},
	// ginauth now: the request context only, and the request copy that
	// carries it inside the same allocation (WithContext's copy, inlined,
	// stays on the stack); the response binding is cut when the chain
	// returns. SessionFrom(c) reads c.Request.Context().
	{"ctx-only/one-alloc", func(c *gin.Context) {
		ac := newAttachCtx()
		ac.c = c
		ac.Context = c.Request.Context()
		ac.req = *c.Request.WithContext(ac)
		c.Request = &ac.req
		defer func() { ac.mu.Lock(); ac.c = nil; ac.mu.Unlock() }()
		c.Next()
	}, func(c *gin.Context) bool {
		ac, ok := c.Request.Context().(*attachCtx)
		return ok && ac.sess != nil
	}},
	// ginauth before: one allocation for both, plus c.Set and WithContext.
	{"both/one-alloc", func(c *gin.Context) {
		ac := newAttachCtx()
		c.Set(attachKey{}, ac.sess)
		ac.Context = c.Request.Context()
		c.Request = c.Request.WithContext(ac)
	}, func(c *gin.Context) bool { _, ok := c.Get(attachKey{}); return ok }},
	// The textbook way: a session, c.Set, context.WithValue, WithContext.
	{"both/with-value", func(c *gin.Context) {
		s := &fakeSession{}
		c.Set(attachKey{}, s)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), attachKey{}, s))
	}, func(c *gin.Context) bool { _, ok := c.Get(attachKey{}); return ok }},
}

// attachEngine builds one engine with a route per way of attaching.
func attachEngine() (*gin.Engine, []*http.Request) {
	r := gin.New()
	var reqs []*http.Request
	for _, w := range attachWays {
		read := w.read
		r.GET("/"+w.name, w.attach, func(c *gin.Context) {
			if !read(c) {
				c.Status(http.StatusInternalServerError)
				return
			}
			c.Status(http.StatusNoContent)
		})
		reqs = append(reqs, httptest.NewRequest("GET", "/"+w.name, nil))
	}
	return r, reqs
}

// BenchmarkAttach measures each way on its own, for the allocation columns.
func BenchmarkAttach(b *testing.B) {
	r, reqs := attachEngine()
	for i, w := range attachWays {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b, r, reqs[i], http.StatusNoContent)
			}
		})
	}
}

// BenchmarkAttachPaired runs every way once per iteration, round robin
// (as BenchmarkVerifyPaired does), and reports each one's mean time as
// ns/<way>; cmd/benchreport subtracts "none" from each.
func BenchmarkAttachPaired(b *testing.B) {
	r, reqs := attachEngine()
	total := make([]time.Duration, len(attachWays))
	n := 0
	for b.Loop() {
		for i := range attachWays {
			t0 := time.Now()
			serve(b, r, reqs[i], http.StatusNoContent)
			total[i] += time.Since(t0)
		}
		n++
	}
	for i, w := range attachWays {
		b.ReportMetric(float64(total[i].Nanoseconds())/float64(n), "ns/"+w.name)
	}
}
