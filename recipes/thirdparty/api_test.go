package thirdparty_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

func TestBadRequests(t *testing.T) {
	h := newHarness(t, setup{providers: func(idp *oidctest.Server) []thirdparty.Provider {
		multi := thirdparty.OIDC("multi", idp.Issuer(),
			thirdparty.Client{ClientType: "web", ClientID: clientID, ClientSecret: clientSecret},
			thirdparty.Client{ClientType: "ios", ClientID: "ios-app"})
		return append(defaultProviders(idp), multi)
	}})
	get := func(q string) *resp { return h.do("GET", "/auth/authorisationurl?"+q, "") }
	post := func(body string) *resp { return h.do("POST", "/auth/signinup", body) }
	cb := url.QueryEscape(callback)
	cases := []struct {
		name string
		r    *resp
		msg  string
	}{
		{"no thirdPartyId", get("redirectURIOnProviderDashboard=" + cb), "Please provide the thirdPartyId as a GET param"},
		{"no redirect URI", get("thirdPartyId=oidc"), "Please provide the redirectURIOnProviderDashboard as a GET param"},
		{"unknown provider", get("thirdPartyId=nope&redirectURIOnProviderDashboard=" + cb), "the provider nope could not be found in the configuration"},
		{"several clients, no clientType", get("thirdPartyId=multi&redirectURIOnProviderDashboard=" + cb), "the provider multi has several clients configured: please provide the clientType"},
		{"unknown clientType", get("thirdPartyId=multi&clientType=android&redirectURIOnProviderDashboard=" + cb), "the provider multi has no client for the clientType android"},
		{"empty body", post(""), "the request body is empty: send a JSON object"},
		{"not JSON", post("{nope"), "the request body is not a valid JSON object"},
		{"a JSON array", post("[]"), "the request body is not a valid JSON object"},
		{"wrong type", post(`{"thirdPartyId": 5}`), "the field thirdPartyId has the wrong type: expected string"},
		{"no thirdPartyId in body", post(`{"oAuthTokens":{"access_token":"x"}}`), "Please provide the thirdPartyId in request body"},
		{"neither form", post(`{"thirdPartyId":"oidc"}`), "Please provide one of redirectURIInfo or oAuthTokens in the request body"},
		{"no redirect URI in body", post(`{"thirdPartyId":"oidc","redirectURIInfo":{"redirectURIQueryParams":{"code":"x"}}}`), "Please provide the redirectURIOnProviderDashboard in request body"},
		{"no code", post(`{"thirdPartyId":"oidc","redirectURIInfo":{"redirectURIOnProviderDashboard":"x","redirectURIQueryParams":{}}}`), "Please provide the code in redirectURIInfo.redirectURIQueryParams"},
		{"empty tokens", post(`{"thirdPartyId":"oidc","oAuthTokens":{}}`), "Please provide the access_token or the id_token in oAuthTokens"},
		{"unknown provider in body", post(`{"thirdPartyId":"nope","oAuthTokens":{"access_token":"x"}}`), "the provider nope could not be found in the configuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { expect400(t, tc.r, tc.msg) })
	}
	expectError(t, post(`{"thirdPartyId":"a","pad":[`+strings.Repeat(`"aaaaaaaa",`, 7<<10)+`""]}`), 413, "the request body is larger than 65536 bytes")
	expect400(t, post("{\"thirdPartyId\":\"a\xff\"}"), "the request body is not valid UTF-8")
	if n := h.countUsers(); n != 0 {
		t.Fatalf("%d users", n)
	}
	// With the clientType, the multi-client provider works.
	r := get("thirdPartyId=multi&clientType=ios&redirectURIOnProviderDashboard=" + cb)
	expectStatus(t, r, "OK")
	if !strings.Contains(r.body["urlWithQueryParams"].(string), "client_id=ios-app") {
		t.Fatalf("ios client not used: %s", r.body["urlWithQueryParams"])
	}
}

func TestAppleCallback(t *testing.T) {
	h := newHarness(t, setup{})
	post := func(form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/auth/callback/apple", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.r.ServeHTTP(w, req)
		return w
	}
	state := webState("s1", website+"/auth/callback/apple?x=1")
	w := post(url.Values{"code": {"c0de"}, "state": {state}, "user": {`{"name":{"firstName":"Ann"}}`}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("want 303, got %d %s", w.Code, w.Body)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != website+"/auth/callback/apple" || q.Get("code") != "c0de" || q.Get("state") != state ||
		q.Get("x") != "1" || !strings.Contains(q.Get("user"), "Ann") {
		t.Fatalf("Location %s", loc)
	}

	for _, bad := range []string{
		"https://evil.example/steal",
		"http://localhost:3000@evil.example/",
		"//evil.example/x",
		"javascript:alert(1)",
		"http://localhost:3000.evil.example/",
		"https://localhost:3000/", // another scheme is another origin
		"",
	} {
		t.Run("refuse "+bad, func(t *testing.T) {
			w := post(url.Values{"code": {"c"}, "state": {webState("s", bad)}})
			if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
				t.Fatalf("want 400 and no redirect, got %d %s", w.Code, w.Header().Get("Location"))
			}
		})
	}
	for name, form := range map[string]url.Values{"no state": {"code": {"c"}}, "state not base64": {"state": {"%%%"}}} {
		t.Run(name, func(t *testing.T) {
			if w := post(form); w.Code != http.StatusBadRequest {
				t.Fatalf("want 400, got %d", w.Code)
			}
		})
	}
	// The callback takes the tenant prefix, as every route of
	// supertokens-node's RecipeModule.returnAPIIdIfCanHandleRequest does;
	// an invalid tenant id is not an auth route.
	for path, want := range map[string]int{"/auth/public/callback/apple": http.StatusSeeOther, "/auth/not_a_tenant/callback/apple": http.StatusNotFound} {
		req := httptest.NewRequest("POST", path, strings.NewReader(url.Values{"code": {"c0de"}, "state": {state}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w2 := httptest.NewRecorder()
		h.r.ServeHTTP(w2, req)
		if w2.Code != want {
			t.Fatalf("%s: want %d, got %d", path, want, w2.Code)
		}
	}
}

// TestGitHub runs the GitHub provider's own user-info logic (GET /user and
// /user/emails) against a fake API, with the local provider's OAuth
// endpoints.
func TestGitHub(t *testing.T) {
	var gotAuth []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/user":
			fmt.Fprint(w, `{"id": 12345678901, "login": "octocat"}`)
		case "/user/emails":
			fmt.Fprint(w, `[{"email":"old@example.com","primary":false,"verified":true},{"email":"Octo@Example.com","primary":true,"verified":true}]`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	h := newHarness(t, setup{providers: func(idp *oidctest.Server) []thirdparty.Provider {
		p := thirdparty.GitHub(thirdparty.Client{ClientID: clientID, ClientSecret: clientSecret})
		p.AuthURL, p.TokenURL, p.UserInfoURL = idp.AuthURL(), idp.TokenURL(), api.URL+"/user"
		return []thirdparty.Provider{p}
	}})
	u, v := h.authURL("github", callback)
	if strings.Contains(u, "nonce=") {
		t.Fatal("no nonce without ID tokens")
	}
	r := h.postJSON("/auth/signinup", signInUpBody("github", callback, h.authorize(u), v))
	expectStatus(t, r, "OK")
	lm := r.body["user"].(map[string]any)["loginMethods"].([]any)[0].(map[string]any)
	if lm["email"] != "octo@example.com" || lm["thirdParty"].(map[string]any)["userId"] != "12345678901" {
		t.Fatalf("login method %v", lm)
	}
	if len(h.verified) != 1 || len(gotAuth) != 2 || !strings.HasPrefix(gotAuth[0], "Bearer ") {
		t.Fatalf("verified %v, API auth %v", h.verified, gotAuth)
	}
}

// TestStaticEndpoints configures the local provider as data, without
// discovery.
func TestStaticEndpoints(t *testing.T) {
	h := newHarness(t, setup{providers: func(idp *oidctest.Server) []thirdparty.Provider {
		return []thirdparty.Provider{{
			ID: "oidc", Name: "Local", Clients: []thirdparty.Client{{ClientID: clientID, ClientSecret: clientSecret}},
			AuthURL: idp.AuthURL(), TokenURL: idp.TokenURL(), UserInfoURL: idp.UserInfoURL(), JWKSURL: idp.JWKSURL(),
			Issuer: idp.Issuer(), Scopes: []string{"openid", "email"},
			AuthorizationParams: map[string]string{"prompt": "select_account"},
		}}
	}})
	u, _ := h.authURL("oidc", callback)
	if !strings.Contains(u, "prompt=select_account") {
		t.Fatalf("AuthorizationParams missing: %s", u)
	}
	r := h.signIn()
	expectStatus(t, r, "OK")
	// Bad nonce is refused here too.
	h.idp.SetTamper(oidctest.Tamper{Nonce: "x"})
	r = h.signIn()
	expectStatus(t, r, "GENERAL_ERROR")
	if !strings.Contains(r.body["message"].(string), "Local") {
		t.Fatalf("message should name the provider: %s", r.Body)
	}
}

func TestCustomUserInfoMap(t *testing.T) {
	user := oidctest.User{Subject: "ignored", Extra: map[string]any{"data": map[string]any{"id": "nested-7", "mail": "n@example.com", "ok": "true"}}}
	h := newHarness(t, setup{user: &user, providers: func(idp *oidctest.Server) []thirdparty.Provider {
		p := defaultProviders(idp)
		p[0].UserInfoMap = thirdparty.UserInfoMap{FromUserInfo: thirdparty.FieldMap{UserID: "data.id", Email: "data.mail", EmailVerified: "data.ok"}}
		return p
	}})
	r := h.signIn()
	expectStatus(t, r, "OK")
	lm := r.body["user"].(map[string]any)["loginMethods"].([]any)[0].(map[string]any)
	if lm["email"] != "n@example.com" || lm["thirdParty"].(map[string]any)["userId"] != "nested-7" || len(h.verified) != 1 {
		t.Fatalf("login method %v, verified %v", lm, h.verified)
	}
}

// With several frontends, Apple's form_post callback may send the browser
// back to any listed website origin, and still to no other
// (supertokens-node's appleRedirectHandlerPOST redirects to the state's
// frontendRedirectURI; ginauth keeps it to the website origins).
func TestAppleCallbackSeveralOrigins(t *testing.T) {
	h := newHarness(t, setup{origins: []string{"https://staging.example.com", "com.example.app://"}})
	post := func(target string) *httptest.ResponseRecorder {
		form := url.Values{"code": {"c0de"}, "state": {webState("s1", target)}}
		req := httptest.NewRequest("POST", "/auth/callback/apple", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://appleid.apple.com") // Apple's page posts the form
		w := httptest.NewRecorder()
		h.r.ServeHTTP(w, req)
		return w
	}
	for _, ok := range []string{
		website + "/auth/callback/apple",
		"https://staging.example.com/auth/callback/apple",
		"https://STAGING.example.com/auth/callback/apple",
		"com.example.app:///auth/callback/apple",
	} {
		w := post(ok)
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), ok) {
			t.Fatalf("%s: want 303 to it, got %d %q", ok, w.Code, w.Header().Get("Location"))
		}
	}
	for _, bad := range []string{
		"https://evil.example/auth/callback/apple",
		"https://appleid.apple.com/x", // the request's own Origin is not a website origin
		"https://staging.example.com.evil.example/",
		"http://staging.example.com/", // another scheme is another origin
		"com.example.evil:///auth/callback/apple",
		"com.example.app://evil.example/",
	} {
		if w := post(bad); w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Fatalf("%s: want 400 and no redirect, got %d %q", bad, w.Code, w.Header().Get("Location"))
		}
	}
}

func testAppleKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestAppleClientSecret(t *testing.T) {
	pemKey := testAppleKey(t)
	c := thirdparty.Client{ClientID: "com.example.web", AdditionalConfig: map[string]any{
		"teamId": "TEAM123", "keyId": "KEY456", "privateKey": strings.ReplaceAll(pemKey, "\n", `\n`)}}
	p := thirdparty.Apple(c)
	secret, err := p.GenerateClientSecret(c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jws.Parse(secret)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(pemKey))
	key, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err := parsed.Verify(jws.ES256, &key.(*ecdsa.PrivateKey).PublicKey); err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = json.Unmarshal(parsed.Payload, &claims)
	if parsed.Header.Kid != "KEY456" || claims["iss"] != "TEAM123" || claims["sub"] != "com.example.web" || claims["aud"] != "https://appleid.apple.com" {
		t.Fatalf("header %+v claims %v", parsed.Header, claims)
	}

	// A broken key is a configuration error at ginauth.New, not at sign-in.
	bad := thirdparty.Apple(thirdparty.Client{ClientID: "x", AdditionalConfig: map[string]any{"teamId": "t", "keyId": "k", "privateKey": "nope"}})
	if err := newAuthErr(t, bad); !errors.Is(err, ginauth.ErrConfig) || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("bad Apple key: %v", err)
	}
}

func newAuthErr(t *testing.T, providers ...thirdparty.Provider) error {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	_, err := ginauth.New(ginauth.Config{DB: db,
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: website},
		Recipes: []ginauth.Recipe{thirdparty.New(thirdparty.Config{Providers: providers})}})
	return err
}

func TestConfigErrors(t *testing.T) {
	c := thirdparty.Client{ClientID: "id", ClientSecret: "s"}
	cases := map[string]struct {
		providers []thirdparty.Provider
		want      string
	}{
		"no providers":     {nil, "Providers is empty"},
		"duplicate":        {[]thirdparty.Provider{thirdparty.Google(c), thirdparty.Google(c)}, "configured twice"},
		"no clients":       {[]thirdparty.Provider{thirdparty.GitHub()}, "has no Clients"},
		"no client id":     {[]thirdparty.Provider{thirdparty.Google(thirdparty.Client{})}, "has no ClientID"},
		"bad id":           {[]thirdparty.Provider{{ID: "a b", Clients: []thirdparty.Client{c}}}, "must be 1-64"},
		"no endpoints":     {[]thirdparty.Provider{{ID: "x", Clients: []thirdparty.Client{c}}}, "needs AuthURL and TokenURL"},
		"no user source":   {[]thirdparty.Provider{{ID: "x", Clients: []thirdparty.Client{c}, AuthURL: "https://a", TokenURL: "https://t"}}, "no way to learn who the user is"},
		"duplicate client": {[]thirdparty.Provider{thirdparty.Google(c, c)}, `two clients have the clientType ""`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := newAuthErr(t, tc.providers...)
			if !errors.Is(err, ginauth.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConfig containing %q", err, tc.want)
			}
		})
	}
	// Missing table is named.
	db := testdb.Open(t)
	_, err := ginauth.New(ginauth.Config{DB: db, AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: website},
		Recipes: []ginauth.Recipe{thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{thirdparty.Google(c)}})}})
	if !errors.Is(err, ginauth.ErrMissingTables) || !strings.Contains(err.Error(), models.TableThirdPartyUsers) {
		t.Fatalf("missing table: %v", err)
	}
}

func TestSecretsRedacted(t *testing.T) {
	c := thirdparty.Client{ClientID: "id", ClientSecret: "hunter2"}
	tok := thirdparty.Tokens{AccessToken: "at-secret", IDToken: "idt-secret", RefreshToken: "rt-secret"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "client", c, "tokens", tok)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v", c, c), fmt.Sprint(tok), fmt.Sprintf("%#v", tok), logged.String()} {
		for _, secret := range []string{"hunter2", "at-secret", "idt-secret", "rt-secret"} {
			if strings.Contains(s, secret) {
				t.Fatalf("secret %q in %q", secret, s)
			}
		}
	}
}

func TestProviderLookup(t *testing.T) {
	c := thirdparty.Client{ClientID: "id", ClientSecret: "s"}
	tp := thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{thirdparty.Google(c), thirdparty.Microsoft("", c)}})
	p, ok := tp.Provider("active-directory")
	if !ok || p.Name != "Microsoft" || !strings.Contains(p.AuthURL, "/common/") {
		t.Fatalf("Provider: %+v %v", p, ok)
	}
	if _, ok := tp.Provider("nope"); ok {
		t.Fatal("unknown provider found")
	}
	if got := tp.Providers(); len(got) != 2 || got[0] != (thirdparty.ProviderInfo{ID: "google", Name: "Google"}) {
		t.Fatalf("Providers: %v", got)
	}
}
