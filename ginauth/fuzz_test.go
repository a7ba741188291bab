package ginauth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauthtest"
)

// FuzzAccessToken: no input makes verification panic, and only tokens we
// signed verify.
func FuzzAccessToken(f *testing.F) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(f, clk)
	a, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	_, tok, err := a.CreateSessionTokens(f.Context(), NewSession{UserID: "u"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok.AccessToken)
	f.Add(tok.RefreshToken)
	f.Add(strings.Replace(tok.AccessToken, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := a.verifyAccessToken(t.Context(), s)
		if err == nil && (s != tok.AccessToken || v.userID != "u") {
			t.Fatalf("verified a token we did not sign: %q", s)
		}
	})
}

// FuzzFrontToken: whatever the user id and payload, the front token is
// standard base64 of JSON carrying them unchanged.
func FuzzFrontToken(f *testing.F) {
	f.Add("user-1", `{"sub":"user-1","st-role":{"v":["admin"],"t":1}}`, int64(1700000000000))
	f.Add("ünïcødé\u2028", `{}`, int64(0))
	f.Fuzz(func(t *testing.T, uid, payload string, ate int64) {
		var p claims.Payload
		if json.Unmarshal([]byte(payload), &p) != nil || p == nil {
			return
		}
		body, _ := json.Marshal(p)
		exp := time.UnixMilli(ate)
		raw, err := base64.StdEncoding.DecodeString(frontToken(uid, exp, body))
		if err != nil {
			t.Fatal(err)
		}
		var ft struct {
			UID string          `json:"uid"`
			ATE int64           `json:"ate"`
			UP  json.RawMessage `json:"up"`
		}
		if err := json.Unmarshal(raw, &ft); err != nil {
			t.Fatalf("front token is not JSON: %v (%q)", err, raw)
		}
		if ft.ATE != exp.UnixMilli() || string(ft.UP) != string(body) {
			t.Fatalf("front token changed its content: %s", raw)
		}
		if utf8.ValidString(uid) && ft.UID != uid {
			t.Fatalf("uid %q, want %q", ft.UID, uid)
		}
	})
}

// FuzzRefreshToken: the refresh-token parser never panics and accepts only
// "<handle>.<secret>" with a plain handle.
func FuzzRefreshToken(f *testing.F) {
	f.Add("3f1c2b1e-0000-4000-8000-000000000000.c2VjcmV0")
	f.Add("a.b.c")
	f.Add(".x")
	f.Add("x.")
	f.Add("../../etc.x")
	f.Fuzz(func(t *testing.T, s string) {
		// Checking the MAC never panics, and agrees on the handle.
		ss := &serverSecret{refreshMAC: [][]byte{make([]byte, SecretKeySize)}}
		info, macOK := ss.openRefreshToken(s)
		h, ok := parseRefreshToken(s)
		if macOK && (!ok || info.handle != h) {
			t.Fatalf("MAC accepted %q (handle %q) that the parser refuses", s, info.handle)
		}
		if !ok {
			return
		}
		if !strings.HasPrefix(s, h+".") || strings.Count(s, ".") != 1 || !validTenantID(h) || len(s) > 200 {
			t.Fatalf("accepted %q with handle %q", s, h)
		}
	})
}
