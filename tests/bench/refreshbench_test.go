package bench

import (
	"net/http"
	"testing"

	"github.com/ginauth/ginauth/internal/jws"
)

// BenchmarkRefreshSequential refreshes one session at a time over real
// HTTP, ginauth and then its floor (floor_test.go), each on its own
// sessions of one database, for the allocation columns (-benchmem; the
// load driver's own allocations are in both). Not part of make bench:
// TestRefreshLoad gives the ratios. On PostgreSQL when
// GINAUTH_TEST_DATABASE_URL is set, SQLite otherwise.
func BenchmarkRefreshSequential(b *testing.B) {
	db := newDB(b)
	for _, alg := range []string{jws.RS256, jws.EdDSA} {
		url, toks, stop := refreshServer(b, db, alg, 2)
		furl, ftoks := floorServer(b, db, handlesOf(toks[1:]), alg)
		cl := &http.Client{Transport: &http.Transport{}}
		for _, c := range []struct {
			name, url string
			tok       *string
		}{{"ginauth", url, &toks[0]}, {"floor", furl, &ftoks[0]}} {
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					next, err := refreshOnce(cl, c.url, *c.tok)
					if err != nil {
						b.Fatal(err)
					}
					*c.tok = next
				}
			})
		}
		stop()
	}
}
