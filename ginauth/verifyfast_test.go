package ginauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
)

// The cold verify decodes the payload with jws.DecodePayload; the session
// must see exactly what encoding/json would have given, cached or not.
func TestVerifyPayloadMatchesEncodingJSON(t *testing.T) {
	for _, size := range []int{-1, 0} {
		h := newHarness(t, func(c *Config) { c.Session.VerifyCacheSize = size })
		custom := claims.Payload{
			"theme": "dark", "n": 1.5, "big": 1e300, "neg": -3.0, "t": true, "f": false, "nil": nil,
			"uni": "café \u2603 \U0001F600", "esc": "a\"b\\c\n\t</script>\u2028", "arr": []any{1.0, "x", []any{}, map[string]any{}},
			"obj": map[string]any{"v": []any{"admin"}, "t": 1.7e12, "deep": map[string]any{"a": []any{nil}}},
		}
		_, tok, err := h.auth.CreateSessionTokens(t.Context(), NewSession{UserID: "u1", AccessTokenPayload: custom})
		if err != nil {
			t.Fatal(err)
		}
		part := strings.Split(tok.AccessToken, ".")[1]
		raw, err := base64.RawURLEncoding.DecodeString(part)
		if err != nil {
			t.Fatal(err)
		}
		var want claims.Payload
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second one is a cache hit when the cache is on
			v, err := h.auth.verifyAccessToken(t.Context(), tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v.payload, want) {
				t.Fatalf("size %d: payload\n got %#v\nwant %#v", size, v.payload, want)
			}
			if v.userID != "u1" || v.handle == "" || v.tenantID != DefaultTenant || v.recipeUserID != "u1" {
				t.Fatalf("fields: %+v", v)
			}
		}
	}
}

type outerKey struct{}

// VerifySession and GetSession attach one session for SessionFrom and for
// SessionFromContext on the request's context, which keeps behaving as the
// context it wraps: values, deadline, cancellation.
func TestAttachedSessionContext(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Session.VerifyCacheSize = -1 })
	_, tok, err := h.auth.CreateSessionTokens(t.Context(), NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	var cancelOuter context.CancelFunc
	outer := func(c *gin.Context) {
		ctx, cancel := context.WithCancel(context.WithValue(c.Request.Context(), outerKey{}, "outer"))
		cancelOuter = cancel
		c.Request = c.Request.WithContext(ctx)
	}
	check := func(c *gin.Context, s *Session) {
		t.Helper()
		ctx := c.Request.Context()
		s1, ok1 := SessionFrom(c)
		s2, ok2 := SessionFromContext(ctx)
		s3, ok3 := SessionFromContext(c)
		if !ok1 || !ok2 || !ok3 || s1 != s || s2 != s || s3 != s || s.UserID() != "u1" {
			t.Errorf("sessions: %p %p %p want %p", s1, s2, s3, s)
		}
		if ctx.Value(outerKey{}) != "outer" {
			t.Error("outer context value lost")
		}
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		if s4, ok := SessionFromContext(child); !ok || s4 != s {
			t.Error("session not visible from a derived context")
		}
		cancelOuter()
		<-child.Done()
		if ctx.Err() != context.Canceled || child.Err() != context.Canceled {
			t.Errorf("cancellation: %v %v", ctx.Err(), child.Err())
		}
		c.Status(http.StatusNoContent)
	}
	h.r.GET("/attached", outer, h.auth.VerifySession(), func(c *gin.Context) { check(c, MustSession(c)) })
	h.r.GET("/get", outer, func(c *gin.Context) {
		if _, ok := SessionFromContext(c.Request.Context()); ok {
			t.Error("session before GetSession")
		}
		s, err := h.auth.GetSession(c, VerifyOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		check(c, s)
	})
	h.r.GET("/none", h.auth.VerifySession(VerifyOptions{Optional: true}), func(c *gin.Context) {
		_, ok1 := SessionFrom(c)
		_, ok2 := SessionFromContext(c.Request.Context())
		if ok1 || ok2 {
			t.Error("session without a token")
		}
		c.Status(http.StatusNoContent)
	})
	for _, path := range []string{"/attached", "/get", "/none"} {
		req := httptest.NewRequest("GET", path, nil)
		if path != "/none" {
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		w := httptest.NewRecorder()
		h.r.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
}

// A handler that changes a nested value of AccessTokenPayload's result
// changes nothing for later requests presenting the same (cached) token.
func TestAccessTokenPayloadIsADeepCopy(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Hooks.BeforeSessionCreate = func(ctx context.Context, s *NewSession) error {
			s.AccessTokenPayload["prefs"] = map[string]any{"theme": "dark", "tags": []any{"a"}}
			return nil
		}
	})
	h.r.GET("/meddle", h.auth.VerifySession(), func(c *gin.Context) {
		p := MustSession(c).AccessTokenPayload()
		prefs := p["prefs"].(map[string]any)
		prefs["theme"] = "light"
		prefs["tags"].([]any)[0] = "z"
		c.Status(204)
	})
	cl := h.client("header")
	cl.login("u1")
	for i := 0; i < 2; i++ {
		cl.do("GET", "/meddle", "")
		r := cl.do("GET", "/me", "")
		prefs := r.body["payload"].(map[string]any)["prefs"].(map[string]any)
		if prefs["theme"] != "dark" || prefs["tags"].([]any)[0] != "a" {
			t.Fatalf("request %d saw another request's change: %v", i, prefs)
		}
	}
}
