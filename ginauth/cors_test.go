package ginauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
)

// lockedBuffer is a log sink safe to read while requests still write.
type lockedBuffer struct{ ginauthtest.LogBuffer }

// warnings returns the CORS warning lines logged so far.
func (b *lockedBuffer) warnings() []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "CORS refused") {
			out = append(out, l)
		}
	}
	return out
}

// corsHarness is the documented setup: gin-contrib/cors with
// CORSConfig() before the middleware, and an app route behind them.
func corsHarness(t *testing.T) (*harness, *gin.Engine, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	r := gin.New()
	r.Use(cors.New(h.auth.CORSConfig()))
	r.Use(h.auth.Middleware())
	r.POST("/form", func(c *gin.Context) { c.String(http.StatusOK, "done") })
	return h, r, logs
}

// corsRequest sends method /form (or the OPTIONS preflight) with the
// given Origin, Host and extra header pairs.
func corsRequest(r *gin.Engine, method, origin, host string, extra ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/form", strings.NewReader("a=b"))
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "POST")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// The API's own pages (the dashboard) are never refused by the
// recommended CORS setup, while other origins still are (issue 16).
func TestCORSAdmitsTheAPIsOwnPages(t *testing.T) {
	_, r, logs := corsHarness(t)
	const internalHost = "10.0.0.7:8080" // behind a proxy that rewrites Host
	navigate := []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"}
	cases := []struct {
		name   string
		method string
		origin string
		extra  []string
		want   int
	}{
		{"website preflight", http.MethodOptions, "http://localhost:3000", nil, http.StatusNoContent},
		{"website post", http.MethodPost, "http://localhost:3000", nil, http.StatusOK},
		{"no origin", http.MethodPost, "", nil, http.StatusOK},
		// Fails when the APIDomain check of originWarner.allow is removed.
		{"the API's own origin behind a proxy", http.MethodPost, "http://localhost:3001", navigate, http.StatusOK},
		// Fails when the Origin: null rule is removed: a no-referrer page's form.
		{"null from an own page's form", http.MethodPost, "null", navigate, http.StatusOK},
		// The null rule stays narrow.
		{"null cross-site", http.MethodPost, "null", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, http.StatusForbidden},
		{"null from a script", http.MethodPost, "null", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, http.StatusForbidden},
		{"null without fetch metadata", http.MethodPost, "null", nil, http.StatusForbidden},
		{"null preflight", http.MethodOptions, "null", nil, http.StatusForbidden},
		{"another origin", http.MethodPost, "http://evil.example", navigate, http.StatusForbidden},
		{"another origin's preflight", http.MethodOptions, "http://localhost:3999", nil, http.StatusForbidden},
		{"the API's origin on another port", http.MethodPost, "http://localhost:3002", navigate, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := corsRequest(r, tc.method, tc.origin, internalHost, tc.extra...)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.want, w.Body.String())
			}
			acao := w.Header().Get("Access-Control-Allow-Origin")
			if tc.want == http.StatusForbidden && acao != "" {
				t.Fatalf("refused, yet Access-Control-Allow-Origin: %q", acao)
			}
			if tc.origin == "http://localhost:3000" && acao != tc.origin {
				t.Fatalf("website: Access-Control-Allow-Origin %q", acao)
			}
		})
	}
	for _, l := range logs.warnings() {
		for _, ok := range []string{`origin=http://localhost:3000 `, `origin=http://localhost:3001 `} {
			if strings.Contains(l, ok) {
				t.Fatalf("an allowed origin was logged as refused: %s", l)
			}
		}
	}
}

// A website on another origin than the configured one gets a 403, and
// the API's log says which origin was refused, which one is configured
// and what to set (issue 16 point 4). Fails when originWarner.warn is
// not called or does not name them.
func TestCORSRefusalLogsTheOriginAndTheFix(t *testing.T) {
	h, r, logs := corsHarness(t)
	if w := corsRequest(r, http.MethodOptions, "http://127.0.0.1:3000", "localhost:3001"); w.Code != http.StatusForbidden {
		t.Fatalf("preflight from another origin: %d", w.Code)
	}
	got := logs.warnings()
	if len(got) != 1 {
		t.Fatalf("want one warning, got %q", got)
	}
	for _, want := range []string{"origin=http://127.0.0.1:3000", "websiteDomain=http://localhost:3000",
		"AppInfo.WebsiteDomain", "WEBSITE_DOMAIN", "method=OPTIONS", "path=/form"} {
		if !strings.Contains(got[0], want) {
			t.Fatalf("warning %q lacks %q", got[0], want)
		}
	}

	// Once per origin: the SDK's every call would otherwise log a line.
	for range 5 {
		corsRequest(r, http.MethodOptions, "http://127.0.0.1:3000", "localhost:3001")
		corsRequest(r, http.MethodPost, "http://127.0.0.1:3000", "localhost:3001")
	}
	if n := len(logs.warnings()); n != 1 {
		t.Fatalf("repeated refusals of one origin logged %d lines, want 1", n)
	}
	// ...until the quiet period ends.
	h.clock.Advance(corsWarnEvery + time.Second)
	corsRequest(r, http.MethodOptions, "http://127.0.0.1:3000", "localhost:3001")
	if n := len(logs.warnings()); n != 2 {
		t.Fatalf("after %s: %d lines, want 2", corsWarnEvery, n)
	}

	// Made-up origins cannot flood the log: a few lines a minute at most.
	h.clock.Advance(time.Minute)
	for i := range 50 {
		corsRequest(r, http.MethodOptions, fmt.Sprintf("http://x%d.example", i), "localhost:3001")
	}
	if n := len(logs.warnings()); n != 2+corsWarnPerMinute {
		t.Fatalf("50 made-up origins in a minute: %d lines, want %d", n, 2+corsWarnPerMinute)
	}
	// A huge origin is cut short in the log.
	h.clock.Advance(time.Minute)
	corsRequest(r, http.MethodOptions, "http://"+strings.Repeat("a", 5000)+".example", "localhost:3001")
	got = logs.warnings()
	if l := got[len(got)-1]; len(l) > 1000 || !strings.Contains(l, "...") {
		t.Fatalf("long origin logged as %d characters", len(l))
	}
}

// Concurrent refusals of one origin log one line, and concurrent requests
// from the allowed origins all pass (run with -race).
func TestCORSRefusalLogConcurrent(t *testing.T) {
	_, r, logs := corsHarness(t)
	codes := make(chan string, 120)
	ginauthtest.Burst(120, func(i int) {
		origin, want := "http://other.example", http.StatusForbidden
		switch i % 3 {
		case 1:
			origin, want = "http://localhost:3000", http.StatusOK
		case 2:
			origin, want = "http://localhost:3001", http.StatusOK
		}
		if w := corsRequest(r, http.MethodPost, origin, "internal:8080"); w.Code != want {
			codes <- fmt.Sprintf("%s: %d, want %d", origin, w.Code, want)
		}
	})
	close(codes)
	for c := range codes {
		t.Error(c)
	}
	if got := logs.warnings(); len(got) != 1 {
		t.Fatalf("40 concurrent refusals of one origin: %d lines, want 1: %q", len(got), got)
	}
}
