package thirdparty_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

func TestES256IDTokens(t *testing.T) {
	h := newHarness(t, setup{es256: true})
	expectStatus(t, h.signIn(), "OK")
	h.idp.SetTamper(oidctest.Tamper{WrongKey: true})
	expectStatus(t, h.signIn(), "GENERAL_ERROR")
	if !strings.Contains(h.logs.String(), "signature does not verify") {
		t.Fatalf("log: %s", h.logs.String())
	}
}

// TestIssuerTemplate checks Microsoft-style multi-tenant issuers:
// "{tenantid}" matches the token's tid claim, and nothing else.
func TestIssuerTemplate(t *testing.T) {
	for _, tc := range []struct {
		tid, iss string
		ok       bool
	}{
		{"T1", "/T1/v2.0", true},
		{"T2", "/T1/v2.0", false},
		{"", "/{tenantid}/v2.0", false},
	} {
		t.Run(tc.tid+tc.iss, func(t *testing.T) {
			user := oidctest.User{Subject: "s", Email: "a@example.com", Extra: map[string]any{}}
			if tc.tid != "" {
				user.Extra["tid"] = tc.tid
			}
			h := newHarness(t, setup{user: &user, providers: func(idp *oidctest.Server) []thirdparty.Provider {
				p := thirdparty.Microsoft("common", thirdparty.Client{ClientID: clientID, ClientSecret: clientSecret})
				p.ID = "oidc"
				p.AuthURL, p.TokenURL, p.UserInfoURL, p.JWKSURL = idp.AuthURL(), idp.TokenURL(), idp.UserInfoURL(), idp.JWKSURL()
				p.Issuer = idp.Issuer() + "/{tenantid}/v2.0"
				return []thirdparty.Provider{p}
			}})
			h.idp.SetTamper(oidctest.Tamper{Issuer: h.idp.Issuer() + tc.iss})
			want := "GENERAL_ERROR"
			if tc.ok {
				want = "OK"
			}
			expectStatus(t, h.signIn(), want)
		})
	}
}

// TestBuiltInUserInfo runs each OAuth2-only built-in provider's user-info
// mapping against a fake API that answers as the real one does, with the
// local provider's authorisation and token endpoints.
func TestBuiltInUserInfo(t *testing.T) {
	cases := []struct {
		name     string
		provider func(...thirdparty.Client) thirdparty.Provider
		routes   map[string]string
		id       string
		email    string
		verified bool
		status   string
	}{
		{name: "github unverified primary", provider: thirdparty.GitHub, routes: map[string]string{
			"/me":        `{"id": 7, "login": "x"}`,
			"/me/emails": `[{"email":"v@example.com","primary":false,"verified":true},{"email":"p@example.com","primary":true,"verified":false}]`,
		}, id: "7", email: "p@example.com", verified: false, status: "OK"},
		{name: "github without e-mail", provider: thirdparty.GitHub, routes: map[string]string{
			"/me": `{"id": 8}`, "/me/emails": `[]`,
		}, status: "NO_EMAIL_GIVEN_BY_PROVIDER"},
		{name: "bitbucket", provider: thirdparty.Bitbucket, routes: map[string]string{
			"/me":        `{"uuid": "{abc-123}", "account_id": "x"}`,
			"/me/emails": `{"values":[{"email":"b@example.com","is_primary":true,"is_confirmed":true}]}`,
		}, id: "{abc-123}", email: "b@example.com", verified: true, status: "OK"},
		{name: "discord", provider: thirdparty.Discord, routes: map[string]string{
			"/me": `{"id": "80351110224678912", "email": "d@example.com", "verified": true}`,
		}, id: "80351110224678912", email: "d@example.com", verified: true, status: "OK"},
		{name: "facebook", provider: thirdparty.Facebook, routes: map[string]string{
			"/me": `{"id": "10158", "email": "f@example.com"}`,
		}, id: "10158", email: "f@example.com", verified: false, status: "OK"},
		{name: "twitter without e-mail", provider: thirdparty.Twitter, routes: map[string]string{
			"/me": `{"data": {"id": "2244994945", "username": "x"}}`,
		}, id: "2244994945", status: "OK"},
		{name: "user API down", provider: thirdparty.Discord, routes: map[string]string{}, status: "GENERAL_ERROR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, ok := tc.routes[r.URL.Path]
				if !ok || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
					http.Error(w, "no", http.StatusBadGateway)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, body)
			}))
			defer api.Close()
			var tpid string
			h := newHarness(t, setup{providers: func(idp *oidctest.Server) []thirdparty.Provider {
				p := tc.provider(thirdparty.Client{ClientID: clientID, ClientSecret: clientSecret})
				p.AuthURL, p.TokenURL, p.UserInfoURL = idp.AuthURL(), idp.TokenURL(), api.URL+"/me"
				tpid = p.ID
				return []thirdparty.Provider{p}
			}})
			u, v := h.authURL(tpid, callback)
			r := h.postJSON("/auth/signinup", signInUpBody(tpid, callback, h.authorize(u), v))
			expectStatus(t, r, tc.status)
			if tc.status != "OK" {
				return
			}
			lm := r.body["user"].(map[string]any)["loginMethods"].([]any)[0].(map[string]any)
			email, _ := lm["email"].(string)
			if email != tc.email || lm["thirdParty"].(map[string]any)["userId"] != tc.id {
				t.Fatalf("login method %v", lm)
			}
			if got := len(h.verified) == 1; got != tc.verified {
				t.Fatalf("verified %v, want %v", h.verified, tc.verified)
			}
		})
	}
}

// TestBuiltInProvidersValidate sets every built-in provider up at once.
func TestBuiltInProvidersValidate(t *testing.T) {
	c := thirdparty.Client{ClientID: "id", ClientSecret: "secret"}
	apple := thirdparty.Client{ClientID: "com.example", AdditionalConfig: map[string]any{"teamId": "T", "keyId": "K", "privateKey": testAppleKey(t)}}
	all := []thirdparty.Provider{thirdparty.Google(c), thirdparty.GitHub(c), thirdparty.Facebook(c), thirdparty.Apple(apple),
		thirdparty.Microsoft("contoso.onmicrosoft.com", c), thirdparty.GitLab(c), thirdparty.Bitbucket(c), thirdparty.Discord(c),
		thirdparty.LinkedIn(c), thirdparty.Twitter(c), thirdparty.OIDC("okta", "https://example.okta.com", c)}
	if err := newAuthErr(t, all...); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range all {
		if ids[p.ID] || p.Name == "" {
			t.Fatalf("provider %q: duplicate id or no name", p.ID)
		}
		ids[p.ID] = true
	}
	if tw := thirdparty.Twitter(c); tw.DisablePKCE || !tw.EmailOptional {
		t.Fatal("X requires PKCE and gives no e-mail by default")
	}
}
