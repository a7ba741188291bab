package ginauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/jws"
)

// BenchmarkVerify sets VerifySession on a valid token beside the raw
// signature verify of the same algorithm, so their ratio can be read off
// one run (targets.md: at most 1.2x).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{jws.RS256, jws.ES256, jws.EdDSA} {
		clk := ginauthtest.NewClock(time.Time{})
		cfg := baseConfig(b, clk)
		cfg.Session.SigningAlgorithm = SigningAlgorithm(alg)
		a, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		_, tok, err := a.CreateSessionTokens(b.Context(), NewSession{UserID: "bench-user"})
		if err != nil {
			b.Fatal(err)
		}
		key, _ := a.keys.signer(b.Context())

		b.Run(alg+"/raw-signature", func(b *testing.B) {
			p, err := jws.Parse(tok.AccessToken)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Verify(alg, key.pub); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/VerifySession", func(b *testing.B) {
			r := gin.New()
			r.GET("/p", a.VerifySession(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
			req := httptest.NewRequest("GET", "/p", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != http.StatusNoContent {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
		// The same with a handler that reads Session.Payload, which copies
		// the cached payload once per request (TestPayloadIsPerRequest).
		b.Run(alg+"/VerifySession+Payload", func(b *testing.B) {
			r := gin.New()
			r.GET("/p", a.VerifySession(), func(c *gin.Context) {
				if MustSession(c).Payload()["sub"] == nil {
					c.Status(http.StatusInternalServerError)
					return
				}
				c.Status(http.StatusNoContent)
			})
			req := httptest.NewRequest("GET", "/p", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != http.StatusNoContent {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
