package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/testdb"
)

// The refresh floor: what any implementation of a SuperTokens-style refresh
// must do, behind a minimal gin handler on the same database, with the
// same driver and connection pool: the same two statements ginauth sends
// (read the session by primary key; a version-checked update promoting the
// presented child token and recording the new one), the same signature
// over an access token of the same shape, the same response headers. No
// GORM, no hooks, no claims, no cleanup sweep, no error mapping.
// TestRefreshFloorStatements fails when ginauth's rotation sends other
// statements than these, so that the floor follows the real thing (the
// rotation is being rewritten on branch h-refresh).

// floorSelect and floorUpdate are the texts GORM sends for ginauth's
// rotate (ginauth/sessions.go) on PostgreSQL when a child token is
// promoted, which is every refresh of the load test.
const (
	floorSelect = `SELECT * FROM "ginauth_sessions" WHERE handle = $1 LIMIT $2`
	floorUpdate = `UPDATE "ginauth_sessions" SET "ancestor_hashes"=$1,"child_hashes"=$2,"expires_at"=$3,"refresh_hash"=$4,"refreshed_at"=$5,"version"=$6 WHERE handle = $7 AND version = $8`
)

// floorKey returns a fresh key of the algorithm and size ginauth signs
// with (ginauth/keys.go: RSA 2048, P-256, Ed25519) and its kid.
func floorKey(tb testing.TB, alg string) (crypto.Signer, string) {
	var k crypto.Signer
	var err error
	switch alg {
	case jws.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jws.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return k, "d-" + strconv.FormatInt(time.Now().UnixMilli(), 10) + "-floor"
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// floorHandler serves POST /floor/refresh: header-mode refresh of a token
// "<handle>.<secret>" that is the newest child of its session.
func floorHandler(tb testing.TB, db *sql.DB, alg string) gin.HandlerFunc {
	key, kid := floorKey(tb, alg)
	const validity = 100 * 24 * time.Hour
	fail := func(c *gin.Context, code int) { c.AbortWithStatus(code) }
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		dot := strings.IndexByte(tok, '.')
		if !ok || dot <= 0 {
			fail(c, 401)
			return
		}
		handle, h := tok[:dot], hashHex(tok)
		rows, err := db.QueryContext(ctx, floorSelect, handle, 1)
		if err != nil {
			fail(c, 500)
			return
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		found := rows.Next() && rows.Scan(ptrs...) == nil
		rows.Close()
		if !found {
			fail(c, 401)
			return
		}
		row := map[string]any{}
		for i, col := range cols {
			row[col] = vals[i]
		}
		str := func(k string) string { s, _ := row[k].(string); return s }
		children := strings.Fields(str("child_hashes"))
		isChild := false
		for _, ch := range children {
			isChild = isChild || ch == h
		}
		if !isChild {
			fail(c, 401)
			return
		}
		ancestors := append(strings.Fields(str("ancestor_hashes")), str("refresh_hash"))
		if len(ancestors) > 16 {
			ancestors = ancestors[len(ancestors)-16:]
		}
		child := handle + "." + randHex(32)
		childHash := hashHex(child)
		version, _ := row["version"].(int64)
		now := time.Now()
		res, err := db.ExecContext(ctx, floorUpdate, strings.Join(ancestors, " "), childHash, now.Add(validity), h, now,
			version+1, handle, version)
		if err != nil {
			fail(c, 500)
			return
		}
		if n, _ := res.RowsAffected(); n != 1 {
			fail(c, 401)
			return
		}
		// The access token: the same claims ginauth signs (ginauth/token.go).
		exp := now.Add(time.Hour)
		body, _ := json.Marshal(map[string]any{"sub": str("user_id"), "rsub": str("recipe_user_id"), "tId": str("tenant_id"),
			"sessionHandle": handle, "refreshTokenHash1": hashHex(child), "iat": now.Unix(), "exp": exp.Unix(),
			"iss": "http://localhost:3001/auth"})
		jwt, err := jws.Sign(jws.Header{Alg: alg, Typ: "JWT", Kid: kid, Version: "5"}, body, key)
		if err != nil {
			fail(c, 500)
			return
		}
		uid, _ := json.Marshal(str("user_id"))
		front := `{"uid":` + string(uid) + `,"ate":` + strconv.FormatInt(exp.UnixMilli(), 10) + `,"up":` + string(body) + `}`
		c.Header("front-token", base64.StdEncoding.EncodeToString([]byte(front)))
		c.Header("st-access-token", jwt)
		c.Header("st-refresh-token", child)
		c.Header("Access-Control-Expose-Headers", "front-token, st-access-token, st-refresh-token")
		c.JSON(200, gin.H{})
	}
}

// captureSQL records the text of every statement GORM sends on db while
// on is set.
type captureSQL struct {
	mu   sync.Mutex
	on   bool
	stmt []string
}

func (cs *captureSQL) install(tb testing.TB, db *gorm.DB) {
	rec := func(tx *gorm.DB) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		q := tx.Statement.SQL.String()
		// The periodic cleanup sweep (expired sessions, rate-limit rows,
		// retired keys) runs at most once a period, not per refresh.
		sweep := strings.HasPrefix(q, "DELETE FROM") && strings.Contains(q, " <= $1") && !strings.Contains(q, "handle")
		if cs.on && !sweep {
			cs.stmt = append(cs.stmt, q)
		}
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("bench:capture", rec),
		cb.Update().After("gorm:update").Register("bench:capture", rec),
		cb.Create().After("gorm:create").Register("bench:capture", rec),
		cb.Delete().After("gorm:delete").Register("bench:capture", rec),
		cb.Row().After("gorm:row").Register("bench:capture", rec),
		cb.Raw().After("gorm:raw").Register("bench:capture", rec),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// TestRefreshFloorStatements checks that the floor sends exactly the
// statements ginauth's refresh sends (PostgreSQL texts), so that refresh /
// floor compares like with like. When ginauth's rotation changes, this
// fails and floorSelect / floorUpdate / floorHandler must follow.
func TestRefreshFloorStatements(t *testing.T) {
	if !testdb.Postgres(t) {
		t.Skip("the floor's statements are PostgreSQL texts: set " + testdb.EnvURL)
	}
	db := newDB(t)
	var cs captureSQL
	cs.install(t, db)
	url, toks, stop := refreshServer(t, db, jws.EdDSA, 1)
	defer stop()
	cl := &http.Client{}
	// The first refresh presents the confirmed token; from the second on,
	// every refresh presents the newest child, as the load test does.
	next, err := refreshOnce(cl, url, toks[0])
	if err != nil {
		t.Fatal(err)
	}
	cs.mu.Lock()
	cs.on = true
	cs.mu.Unlock()
	if _, err := refreshOnce(cl, url, next); err != nil {
		t.Fatal(err)
	}
	cs.mu.Lock()
	got := cs.stmt
	cs.mu.Unlock()
	want := []string{floorSelect, floorUpdate}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ginauth's refresh sends\n  %s\nthe floor sends\n  %s\nupdate the floor (floor_test.go)", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	// And the floor rotates a real ginauth session: its child is accepted
	// by the floor again, and a superseded token is refused.
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/session/refresh", floorHandler(t, sqlDB, jws.EdDSA))
	furl := listen(t, r)
	_, toks2, stop2 := refreshServer(t, db, jws.EdDSA, 1)
	defer stop2()
	c1, err := refreshOnce(cl, url, toks2[0]) // ginauth mints the first child
	if err != nil {
		t.Fatal(err)
	}
	c2, err := refreshOnce(cl, furl, c1)
	if err != nil {
		t.Fatalf("floor: %v", err)
	}
	if _, err := refreshOnce(cl, furl, c2); err != nil {
		t.Fatalf("floor, second rotation: %v", err)
	}
	if _, err := refreshOnce(cl, furl, c1); err == nil {
		t.Fatal("floor accepted a superseded token")
	}
}

// floorServer serves the floor for alg on db and returns its URL and n
// refresh tokens it accepts: sessions made by ginauth (refreshServer's
// tokens), refreshed once by ginauth so that each token is a child.
func floorServer(tb testing.TB, db *gorm.DB, gaURL string, toks []string, alg string) (string, []string) {
	sqlDB, err := db.DB()
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/session/refresh", floorHandler(tb, sqlDB, alg))
	url := listen(tb, r)
	cl := &http.Client{}
	out := make([]string, len(toks))
	for i, tok := range toks {
		if out[i], err = refreshOnce(cl, gaURL, tok); err != nil {
			tb.Fatal(err)
		}
	}
	return url, out
}
