package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jwt "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	gormsessions "github.com/gin-contrib/sessions/gorm"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/jws"
)

// contender is one way of guarding a route: run performs one request (or,
// for the raw signature, one verify) and fails the benchmark on a wrong
// answer.
type contender struct {
	name string
	run  func(tb testing.TB)
}

func ok(c *gin.Context) { c.Status(http.StatusNoContent) }

// roleClaim is a userroles-style claim, so that RequireClaim has real work.
var roleClaim = claims.NewPrimitiveArray("st-role", func(context.Context, string, string) ([]string, bool, error) {
	return []string{"admin"}, true, nil
})

// verifyContenders builds, for one algorithm, the raw signature check and
// every guard measured beside it, all on one database. Peers (gin-jwt,
// gin-contrib/sessions) are added for RS256 only: gin-jwt signs with HS*
// and RS* alone.
func verifyContenders(tb testing.TB, alg string) []contender {
	db := newDB(tb)
	withClaims := func(size int) func(*ginauth.Config) {
		return func(c *ginauth.Config) {
			c.Session.VerifyCacheSize = size
			c.Session.Claims = []claims.Claim{roleClaim}
		}
	}
	cold := newAuth(tb, db, alg, withClaims(-1))
	hot := newAuth(tb, db, alg, withClaims(0)) // same database, so the same key
	_, tok, err := cold.CreateSessionTokens(context.Background(), ginauth.NewSession{UserID: "bench-user"})
	if err != nil {
		tb.Fatal(err)
	}
	pub := publicKey(tb, cold, kidOf(tb, tok.AccessToken))
	parsed, err := jws.Parse(tok.AccessToken)
	if err != nil {
		tb.Fatal(err)
	}

	r := gin.New()
	r.GET("/cold", cold.VerifySession(), ok)
	r.GET("/cached", hot.VerifySession(), ok)
	r.GET("/cold-claim", cold.VerifySession(), cold.RequireClaim(roleClaim.Includes("admin")), ok)
	r.GET("/cached-claim", hot.VerifySession(), hot.RequireClaim(roleClaim.Includes("admin")), ok)
	r.GET("/cached-checkdb", hot.VerifySession(ginauth.VerifyOptions{CheckDatabase: true}), ok)
	bearer := func(path string) contender {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return contender{"ginauth" + path, func(tb testing.TB) { serve(tb, r, req, http.StatusNoContent) }}
	}
	r.GET("/none", ok)
	none := httptest.NewRequest("GET", "/none", nil)
	cs := []contender{
		// The floor: the same engine and recorder with no guard at all.
		{"gin/no-guard", func(tb testing.TB) { serve(tb, r, none, http.StatusNoContent) }},
		{"raw-signature", func(tb testing.TB) {
			if err := parsed.Verify(alg, pub); err != nil {
				tb.Fatal(err)
			}
		}},
		bearer("/cold"), bearer("/cached"), bearer("/cold-claim"), bearer("/cached-claim"), bearer("/cached-checkdb"),
	}
	if alg != jws.RS256 {
		return cs
	}
	return append(cs, ginJWT(tb, "RS256"), ginJWT(tb, "HS256"), cookieSessions(tb), gormSessions(tb, db))
}

// ginJWT guards a route with appleboy/gin-jwt, the usual Gin JWT
// middleware, signing with alg (RS256 with a 2048-bit key, or its default
// HS256).
func ginJWT(tb testing.TB, alg string) contender {
	mw := &jwt.GinJWTMiddleware{
		Realm: "bench", Key: []byte("bench-secret-bench-secret-bench!"), SigningAlgorithm: alg,
		Timeout: time.Hour, MaxRefresh: time.Hour, IdentityKey: "sub",
		PayloadFunc:   func(data any) jwt.MapClaims { return jwt.MapClaims{"sub": data} },
		Authenticator: func(*gin.Context) (any, error) { return nil, jwt.ErrFailedAuthentication },
	}
	if alg == "RS256" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		mw.PrivKeyBytes = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		mw.PubKeyBytes = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	}
	auth, err := jwt.New(mw)
	if err != nil {
		tb.Fatal(err)
	}
	tok, _, err := auth.TokenGenerator("bench-user")
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.GET("/p", auth.MiddlewareFunc(), ok)
	req := httptest.NewRequest("GET", "/p", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return contender{"gin-jwt/" + alg, func(tb testing.TB) { serve(tb, r, req, http.StatusNoContent) }}
}

// sessionGuard is what a gin-contrib/sessions app puts before a protected
// handler: the user id must be in the session.
func sessionGuard(c *gin.Context) {
	if sessions.Default(c).Get("user") == nil {
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	c.Next()
}

// sessionRoute builds a gin-contrib/sessions app on store, signs in once
// and returns the protected request carrying the session cookie.
func sessionRoute(tb testing.TB, name string, store sessions.Store) contender {
	r := gin.New()
	r.Use(sessions.Sessions("session", store))
	r.POST("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "bench-user")
		if err := s.Save(); err != nil {
			tb.Error(err)
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/p", sessionGuard, ok)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		tb.Fatalf("%s: no session cookie (%d %s)", name, w.Code, w.Body)
	}
	return contender{name, func(tb testing.TB) {
		req := httptest.NewRequest("GET", "/p", nil)
		req.AddCookie(cookies[0])
		serve(tb, r, req, http.StatusNoContent)
	}}
}

// cookieSessions is gin-contrib/sessions with its cookie store (the
// session in a signed cookie, no database).
func cookieSessions(tb testing.TB) contender {
	return sessionRoute(tb, "sessions/cookie", cookie.NewStore([]byte("bench-secret-bench-secret-bench!")))
}

// gormSessions is gin-contrib/sessions with its GORM store (wader/gormstore)
// on the same database: a GORM app's database-backed session, one SELECT by
// primary key per request.
func gormSessions(tb testing.TB, db *gorm.DB) contender {
	return sessionRoute(tb, "sessions/gorm", gormsessions.NewStore(db, false, []byte("bench-secret-bench-secret-bench!")))
}

// BenchmarkVerify measures each guard on its own, with allocations: the
// raw signature verify of the algorithm, ginauth's VerifySession with the
// verified-token cache off (cold) and on (cached), with RequireClaim on
// top, with CheckDatabase, and (RS256) gin-jwt and gin-contrib/sessions.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{jws.RS256, jws.ES256, jws.EdDSA} {
		for _, c := range verifyContenders(b, alg) {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.run(b)
				}
			})
		}
	}
}

// BenchmarkVerifyPaired runs every guard of one algorithm once per
// iteration, round robin, and reports each one's mean time as its own
// metric (ns/<name>). Interleaving keeps the ratios honest on a busy
// machine: a slow spell hits every contender alike. cmd/benchreport reads
// its ratios from here.
func BenchmarkVerifyPaired(b *testing.B) {
	for _, alg := range []string{jws.RS256, jws.ES256, jws.EdDSA} {
		cs := verifyContenders(b, alg)
		b.Run(alg, func(b *testing.B) {
			total := make([]time.Duration, len(cs))
			n := 0
			for b.Loop() {
				for i, c := range cs {
					t0 := time.Now()
					c.run(b)
					total[i] += time.Since(t0)
				}
				n++
			}
			for i, c := range cs {
				b.ReportMetric(float64(total[i].Nanoseconds())/float64(n), "ns/"+c.name)
			}
		})
	}
}
