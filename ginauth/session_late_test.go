package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
)

// TestSessionKeptPastHandler keeps the *Session of a finished request (as
// a goroutine started by the handler would) and uses it while the same gin
// engine serves other requests on reused contexts. Merges and revocations
// through it must be refused with ErrRequestEnded, change nothing in the
// database, and put no header on any other response. It covers the three
// ways a session reaches a handler: VerifySession (ended by the guard when
// the chain returns), GetSession and CreateSession (ended with the
// request's context, which net/http cancels when the handler returns).
// Without respBinding, the late writes land on whichever request now holds
// the context (stray front-token / cookies, and a data race under -race).
func TestSessionKeptPastHandler(t *testing.T) {
	h := newHarness(t, nil)
	a := h.auth
	kept := make(chan *Session, 1)
	h.r.GET("/keep-verify", a.VerifySession(), func(c *gin.Context) {
		kept <- MustSession(c)
		c.Status(http.StatusNoContent)
	})
	h.r.GET("/keep-get", func(c *gin.Context) {
		s, err := a.GetSession(c, VerifyOptions{})
		if err != nil {
			a.writeError(c, err)
			return
		}
		kept <- s
		c.Status(http.StatusNoContent)
	})
	h.r.POST("/keep-create", func(c *gin.Context) {
		s, err := a.CreateSession(c, NewSession{UserID: "creator"})
		if err != nil {
			a.writeError(c, err)
			return
		}
		kept <- s
		c.Status(http.StatusNoContent)
	})
	h.r.GET("/plain", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	srv := httptest.NewServer(h.r)
	defer srv.Close()

	_, own, err := a.CreateSessionTokens(context.Background(), NewSession{UserID: "keeper"})
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := a.CreateSessionTokens(context.Background(), NewSession{UserID: "bystander"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, path, token string) *http.Response {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Error(err)
			return nil
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		res.Body.Close()
		return res
	}
	var sessions []*Session
	for _, r := range []struct{ method, path string }{{"GET", "/keep-verify"}, {"GET", "/keep-get"}, {"POST", "/keep-create"}} {
		if res := get(r.method, r.path, own.AccessToken); res == nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %v", r.path, res)
		}
		sessions = append(sessions, <-kept)
	}

	// Other requests on the same engine (so on the contexts the kept
	// sessions' requests used), while the kept sessions try to write.
	stray := func(res *http.Response) bool {
		return res.Header.Get(HeaderFrontToken) != "" || res.Header.Get("St-Access-Token") != "" || len(res.Cookies()) > 0
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				for _, p := range []string{"/plain", "/me"} {
					res := get("GET", p, other.AccessToken)
					if res != nil && stray(res) {
						t.Errorf("%s answered with a stray token header: %v", p, res.Header)
					}
				}
			}
		}()
	}
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				err := s.MergeIntoAccessTokenPayload(context.Background(), claims.Payload{"late": true})
				if !errors.Is(err, ErrRequestEnded) {
					t.Errorf("late merge on %s's session: %v, want ErrRequestEnded", s.UserID(), err)
				}
				if err := s.Revoke(context.Background()); !errors.Is(err, ErrRequestEnded) {
					t.Errorf("late revoke on %s's session: %v, want ErrRequestEnded", s.UserID(), err)
				}
			}
		}()
	}
	wg.Wait()

	// Nothing changed: the sessions live on, without the late key.
	for _, s := range sessions {
		info, err := a.GetSessionInfo(context.Background(), s.Handle())
		if err != nil {
			t.Fatalf("%s's session after late use: %v", s.UserID(), err)
		}
		if _, ok := info.AccessTokenPayload["late"]; ok {
			t.Errorf("%s's session stored a late merge", s.UserID())
		}
	}
	// Reading a kept session stays fine.
	if sessions[0].UserID() != "keeper" || sessions[2].UserID() != "creator" {
		t.Errorf("kept sessions read %q, %q", sessions[0].UserID(), sessions[2].UserID())
	}
}

// TestSessionWritesInsideHandler: the binding does not get in the way
// while the request runs. A merge and a revocation from inside the handler
// (also from a goroutine the handler waits for) reach this response.
func TestSessionWritesInsideHandler(t *testing.T) {
	h := newHarness(t, nil)
	a := h.auth
	h.r.GET("/merge", a.VerifySession(), func(c *gin.Context) {
		done := make(chan error)
		s := MustSession(c)
		go func() { done <- s.MergeIntoAccessTokenPayload(c.Request.Context(), claims.Payload{"inside": true}) }()
		if err := <-done; err != nil {
			a.writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	h.r.GET("/revoke", a.VerifySession(), func(c *gin.Context) {
		if err := MustSession(c).Revoke(c.Request.Context()); err != nil {
			a.writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	cl := h.client("header")
	cl.login("u")
	r := cl.do("GET", "/merge", "")
	if r.Code != http.StatusNoContent || r.Header().Get(HeaderFrontToken) == "" {
		t.Fatalf("merge inside the handler: %d, front-token %q", r.Code, r.Header().Get(HeaderFrontToken))
	}
	if cl.frontPayload()["up"].(map[string]any)["inside"] != true {
		t.Errorf("the merged key is not in the new token: %v", cl.frontPayload())
	}
	r = cl.do("GET", "/revoke", "")
	if r.Code != http.StatusNoContent || r.Header().Get(HeaderFrontToken) != "remove" {
		t.Fatalf("revoke inside the handler: %d, front-token %q", r.Code, r.Header().Get(HeaderFrontToken))
	}
}

// TestSessionFromReadsTheRequestContext: VerifySession attaches the session
// to the request's context only (no gin Keys map per request), and every
// accessor finds it there: SessionFrom, MustSession, SessionFromContext on
// c, on c.Request.Context(), on a context derived from it, and on c.Copy().
func TestSessionFromReadsTheRequestContext(t *testing.T) {
	h := newHarness(t, nil)
	a := h.auth
	h.r.GET("/all", a.VerifySession(), func(c *gin.Context) {
		s := MustSession(c)
		if c.Keys != nil {
			t.Errorf("VerifySession allocated gin's Keys: %v", c.Keys)
		}
		derived, cancel := context.WithCancel(c.Request.Context())
		defer cancel()
		for name, ctx := range map[string]context.Context{"c": c, "request": c.Request.Context(), "derived": derived, "copy": c.Copy()} {
			if got, ok := SessionFromContext(ctx); !ok || got != s {
				t.Errorf("SessionFromContext(%s) = %v, %v", name, got, ok)
			}
		}
		if got, ok := SessionFrom(c.Copy()); !ok || got != s {
			t.Errorf("SessionFrom(c.Copy()) = %v, %v", got, ok)
		}
		c.Status(http.StatusNoContent)
	})
	h.r.GET("/none", func(c *gin.Context) {
		if s, ok := SessionFrom(c); ok || s != nil {
			t.Errorf("SessionFrom without a guard = %v, %v", s, ok)
		}
		if s, ok := SessionFromContext(context.Background()); ok || s != nil {
			t.Errorf("SessionFromContext(Background) = %v, %v", s, ok)
		}
		c.Status(http.StatusNoContent)
	})
	cl := h.client("header")
	cl.login("u")
	if r := cl.do("GET", "/all", ""); r.Code != http.StatusNoContent {
		t.Fatalf("/all: %d %s", r.Code, r.Body)
	}
	if r := cl.do("GET", "/none", ""); r.Code != http.StatusNoContent {
		t.Fatalf("/none: %d %s", r.Code, r.Body)
	}
}

// TestRequestContextKeptPastHandler: a goroutine that keeps a verified
// request's context (c.Request.Context(), or one derived from it) keeps
// that request's session, whatever the engine serves afterwards. Gin
// reuses its *gin.Context for the next request, so the context VerifySession
// attaches must be allocated per request and never pooled: with a pooled
// sessionCtx a kept context would report a later request's user. Bursts of
// parallel requests of many users, each handler keeping its context, then
// every kept context is read once all have been served.
func TestRequestContextKeptPastHandler(t *testing.T) {
	h := newHarness(t, nil)
	a := h.auth
	type kept struct {
		want string
		ctx  context.Context
	}
	var mu sync.Mutex
	var all []kept
	h.r.GET("/keep", a.VerifySession(), func(c *gin.Context) {
		ctx, cancel := context.WithCancel(c.Request.Context())
		defer cancel()
		mu.Lock()
		all = append(all, kept{c.GetHeader("X-User"), c.Request.Context()}, kept{c.GetHeader("X-User"), ctx})
		mu.Unlock()
		c.Status(http.StatusNoContent)
	})
	srv := httptest.NewServer(h.r)
	defer srv.Close()

	const users, rounds = 8, 25
	tokens := make([]string, users)
	for i := range tokens {
		_, tok, err := a.CreateSessionTokens(t.Context(), NewSession{UserID: fmt.Sprintf("user-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok.AccessToken
	}
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				req, _ := http.NewRequest("GET", srv.URL+"/keep", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				req.Header.Set("X-User", fmt.Sprintf("user-%d", i))
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNoContent {
					t.Errorf("status %d", res.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if len(all) != 2*users*rounds {
		t.Fatalf("%d kept contexts, want %d", len(all), 2*users*rounds)
	}
	for _, k := range all {
		s, ok := SessionFromContext(k.ctx)
		if !ok || s.UserID() != k.want {
			got := "none"
			if ok {
				got = s.UserID()
			}
			t.Fatalf("a kept context gives %s's session, want %s's", got, k.want)
		}
	}
}
