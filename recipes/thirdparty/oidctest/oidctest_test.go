package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

const redirect = "http://localhost:3000/cb"

func authorize(t *testing.T, s *oidctest.Server, extra url.Values) string {
	t.Helper()
	q := url.Values{"client_id": {"app"}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	loc, err := s.Authorize(s.AuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "st" {
		t.Fatalf("state not echoed: %s", loc)
	}
	return loc.Query().Get("code")
}

func exchange(t *testing.T, s *oidctest.Server, form url.Values, secret string) (int, map[string]any) {
	t.Helper()
	form.Set("grant_type", "authorization_code")
	req, _ := http.NewRequest("POST", s.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestTokenEndpointRules(t *testing.T) {
	s := oidctest.NewServer(oidctest.Config{ClientID: "app", ClientSecret: "secret", User: oidctest.User{Subject: "u"}})
	defer s.Close()

	verifier := "a-verifier-that-is-long-enough-to-be-a-real-pkce-verifier-0123"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	code := authorize(t, s, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})

	if st, out := exchange(t, s, url.Values{"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}, "wrong"); st != 401 || out["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, out)
	}
	st, out := exchange(t, s, url.Values{"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}, "secret")
	if st != 200 || out["access_token"] == nil || out["id_token"] == nil {
		t.Fatalf("exchange: %d %v", st, out)
	}
	if st, out := exchange(t, s, url.Values{"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}, "secret"); st != 400 || out["error_description"] != "code already used" {
		t.Fatalf("replay: %d %v", st, out)
	}

	// The user-info endpoint takes the access token, and nothing else.
	for tok, want := range map[string]int{out["access_token"].(string): 200, "forged": 401} {
		req, _ := http.NewRequest("GET", s.UserInfoURL(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("userinfo with %q: %v %v", tok, resp, err)
		}
		resp.Body.Close()
	}

	// plain PKCE is refused at /authorize.
	q := url.Values{"client_id": {"app"}, "redirect_uri": {redirect}, "response_type": {"code"}, "code_challenge": {"x"}, "code_challenge_method": {"plain"}}
	loc, err := s.Authorize(s.AuthURL() + "?" + q.Encode())
	if err != nil || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain PKCE: %v %v", loc, err)
	}
	// A verifier without a challenge is refused.
	code = authorize(t, s, nil)
	if st, _ := exchange(t, s, url.Values{"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}, "secret"); st != 400 {
		t.Fatalf("verifier without challenge: %d", st)
	}
	s.SetDown(true)
	if resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration"); err != nil || resp.StatusCode != 503 {
		t.Fatalf("down: %v %v", resp, err)
	}
}
