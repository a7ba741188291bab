package thirdparty_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

// Configuring Google and GitHub: providers are data, built by constructors.
func Example() {
	tp := thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{
		thirdparty.Google(thirdparty.Client{ClientID: os.Getenv("GOOGLE_CLIENT_ID"), ClientSecret: os.Getenv("GOOGLE_CLIENT_SECRET")}),
		thirdparty.GitHub(thirdparty.Client{ClientID: os.Getenv("GITHUB_CLIENT_ID"), ClientSecret: os.Getenv("GITHUB_CLIENT_SECRET")}),
	}})
	fmt.Println(tp.ProviderIDs())
	for _, p := range tp.Providers() {
		fmt.Printf("%s: %s\n", p.ID, p.Name)
	}
	// Output:
	// [google github]
	// google: Google
	// github: GitHub
}

// Any OpenID Connect provider (Keycloak, Okta, Auth0, a self-managed
// GitLab, ...) is configured from its issuer URL by discovery. A web and an
// iOS client: the frontend picks one with clientType.
func ExampleOIDC() {
	p := thirdparty.OIDC("keycloak", "https://sso.example.com/realms/main",
		thirdparty.Client{ClientType: "web", ClientID: "web-app", ClientSecret: "s3cret"},
		thirdparty.Client{ClientType: "ios", ClientID: "ios-app"}, // public client: PKCE only
	)
	p.Name = "Example SSO"
	p.AuthorizationParams = map[string]string{"prompt": "login"}
	fmt.Println(p.ID, p.Name, p.Scopes)
	fmt.Println(p.Clients[0]) // secrets are redacted when printed or logged
	// Output:
	// keycloak Example SSO [openid email profile]
	// thirdparty.Client{ClientType:"web" ClientID:"web-app" ClientSecret:[REDACTED]}
}

// A provider described from scratch: a plain OAuth2 provider whose user API
// nests the fields.
func ExampleProvider() {
	p := thirdparty.Provider{
		ID: "acme", Name: "ACME",
		Clients:     []thirdparty.Client{{ClientID: "id", ClientSecret: "secret"}},
		AuthURL:     "https://id.acme.example/oauth/authorize",
		TokenURL:    "https://id.acme.example/oauth/token",
		UserInfoURL: "https://api.acme.example/v1/me",
		Scopes:      []string{"profile", "email"},
		UserInfoMap: thirdparty.UserInfoMap{FromUserInfo: thirdparty.FieldMap{
			UserID: "data.id", Email: "data.email", EmailVerified: "data.email_confirmed",
		}},
	}
	tp := thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{p}})
	fmt.Println(tp.ProviderIDs())
	// Output: [acme]
}

// Vetoing sign-ins from a hook, and telling the e-mail verification recipe
// about addresses the provider vouched for.
func ExampleHooks() {
	markVerified := func(ctx context.Context, userID, email string) error { return nil } // e.g. emailverification's MarkVerified
	tp := thirdparty.New(thirdparty.Config{
		Providers: []thirdparty.Provider{thirdparty.Google(thirdparty.Client{ClientID: "id", ClientSecret: "secret"})},
		Hooks: thirdparty.Hooks{BeforeSignInUp: func(ctx context.Context, in thirdparty.SignInUpInfo) error {
			if in.Existing == nil && !strings.HasSuffix(in.UserInfo.Email, "@example.com") {
				return ginauth.NotAllowed("Sign-ups are open to example.com accounts only")
			}
			return nil
		}},
		OnVerifiedEmail: markVerified,
	})
	fmt.Println(tp.ID())
	// Output: thirdparty
}

// The whole flow against the local test provider, as the frontend SDK runs
// it: ask for the authorisation URL, let the provider redirect back with a
// code, and post it with the PKCE verifier.
func Example_signInFlow() {
	idp := oidctest.NewServer(oidctest.Config{ClientID: "app", ClientSecret: "secret",
		User: oidctest.User{Subject: "42", Email: "ann@example.com", EmailVerified: true}})
	defer idp.Close()

	db, _ := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{Logger: logger.Discard})
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxOpenConns(1) // one connection: one in-memory database
	}
	_ = models.AutoMigrate(db)
	auth, err := ginauth.New(ginauth.Config{DB: db,
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{
			thirdparty.OIDC("local", idp.Issuer(), thirdparty.Client{ClientID: "app", ClientSecret: "secret"}),
		}})}})
	if err != nil {
		fmt.Println(err)
		return
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(auth.Middleware())
	call := func(method, path, body string) map[string]any {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return out
	}

	const redirect = "http://localhost:3000/auth/callback/local"
	res := call("GET", "/auth/authorisationurl?thirdPartyId=local&redirectURIOnProviderDashboard="+url.QueryEscape(redirect), "")
	back, _ := idp.Authorize(res["urlWithQueryParams"].(string) + "&state=abc")
	body, _ := json.Marshal(map[string]any{"thirdPartyId": "local", "redirectURIInfo": map[string]any{
		"redirectURIOnProviderDashboard": redirect,
		"redirectURIQueryParams":         map[string]string{"code": back.Query().Get("code"), "state": back.Query().Get("state")},
		"pkceCodeVerifier":               res["pkceCodeVerifier"],
	}})
	res = call("POST", "/auth/signinup", string(body))
	fmt.Println(res["status"], res["createdNewRecipeUser"], res["user"].(map[string]any)["thirdParty"])
	// Output: OK true [map[id:local userId:42]]
}
