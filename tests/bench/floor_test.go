package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
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
// same driver and connection pool: the same refresh-token format and MAC
// check (ginauth/refreshtoken.go), the same two statements ginauth sends
// (read the session by primary key; a version-checked update making the
// presented child the current token), the same signature over an access
// token of the same claims, the same response headers. No GORM, no hooks,
// no claims, no cleanup sweep, no error mapping. TestRefreshFloorStatements
// fails when ginauth's rotation sends other statements than these, so that
// the floor follows the real thing.

// floorSelect and floorUpdate are the texts GORM sends for ginauth's
// rotate (ginauth/sessions.go) on PostgreSQL when a child token is
// promoted, which is every refresh of the load test.
const (
	floorSelect = `SELECT * FROM "ginauth_sessions" WHERE handle = $1 LIMIT $2`
	floorUpdate = `UPDATE "ginauth_sessions" SET "expires_at"=$1,"refresh_hash"=$2,"refreshed_at"=$3,"version"=$4 WHERE handle = $5 AND version = $6`
)

// The refresh-token body: nonce | parent | tag (ginauth/refreshtoken.go).
const (
	floorNonceLen  = 24
	floorParentLen = 16
	floorTagLen    = 16
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

// floorTokens mints and opens refresh tokens in ginauth's format under a
// MAC key of the floor's own.
type floorTokens struct{ key []byte }

func (ft floorTokens) tag(handle string, nonce, parent []byte) []byte {
	m := hmac.New(sha256.New, ft.key)
	m.Write([]byte("ginauth-refresh-token-v2\x00"))
	m.Write([]byte(handle))
	m.Write([]byte{0})
	m.Write(nonce)
	m.Write(parent)
	return m.Sum(nil)[:floorTagLen]
}

// mint returns a child of the token whose stored hash is parentHash.
func (ft floorTokens) mint(handle, parentHash string) string {
	var body [floorNonceLen + floorParentLen + floorTagLen]byte
	_, _ = rand.Read(body[:floorNonceLen])
	_, _ = hex.Decode(body[floorNonceLen:floorNonceLen+floorParentLen], []byte(parentHash[:2*floorParentLen]))
	copy(body[floorNonceLen+floorParentLen:], ft.tag(handle, body[:floorNonceLen], body[floorNonceLen:floorNonceLen+floorParentLen]))
	return handle + "." + base64.RawURLEncoding.EncodeToString(body[:])
}

// open checks a token's tag and returns its handle and parent reference.
func (ft floorTokens) open(tok string) (string, []byte, bool) {
	dot := strings.IndexByte(tok, '.')
	if dot <= 0 || len(tok) > 200 {
		return "", nil, false
	}
	handle := tok[:dot]
	body, err := base64.RawURLEncoding.Strict().DecodeString(tok[dot+1:])
	if err != nil || len(body) != floorNonceLen+floorParentLen+floorTagLen {
		return "", nil, false
	}
	nonce, parent := body[:floorNonceLen], body[floorNonceLen:floorNonceLen+floorParentLen]
	if !hmac.Equal(body[floorNonceLen+floorParentLen:], ft.tag(handle, nonce, parent)) {
		return "", nil, false
	}
	return handle, parent, true
}

// floorHandler serves POST /auth/session/refresh: header-mode refresh with
// a child token of the session's current one.
func floorHandler(tb testing.TB, db *sql.DB, alg string, ft floorTokens) gin.HandlerFunc {
	key, kid := floorKey(tb, alg)
	const validity = 100 * 24 * time.Hour
	fail := func(c *gin.Context, code int) { c.AbortWithStatus(code) }
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		tok, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		handle, parent, ok := ft.open(tok)
		if !ok {
			fail(c, 401)
			return
		}
		h := hashHex(tok)
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
		current := str("refresh_hash")
		if len(current) < 2*floorParentLen || hex.EncodeToString(parent) != current[:2*floorParentLen] {
			fail(c, 401) // not a child of the current token
			return
		}
		version, _ := row["version"].(int64)
		now := time.Now()
		res, err := db.ExecContext(ctx, floorUpdate, now.Add(validity), h, now, version+1, handle, version)
		if err != nil {
			fail(c, 500)
			return
		}
		if n, _ := res.RowsAffected(); n != 1 {
			fail(c, 401)
			return
		}
		child := ft.mint(handle, h)
		// The access token: the same claims ginauth signs (ginauth/token.go).
		exp := now.Add(time.Hour)
		body, _ := json.Marshal(map[string]any{"sub": str("user_id"), "rsub": str("recipe_user_id"), "tId": str("tenant_id"),
			"sessionHandle": handle, "refreshTokenHash1": hashHex(child), "parentRefreshTokenHash1": h,
			"iat": now.Unix(), "exp": exp.Unix(), "iss": "http://localhost:3001/auth"})
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

// floorServer serves the floor for alg on db and returns its URL, and one
// token it accepts for each of handles (sessions made by ginauth): a child,
// under the floor's MAC key, of the session's current token.
func floorServer(tb testing.TB, db *gorm.DB, handles []string, alg string) (string, []string) {
	sqlDB, err := db.DB()
	if err != nil {
		tb.Fatal(err)
	}
	ft := floorTokens{key: []byte(randHex(32))}
	r := gin.New()
	r.POST("/auth/session/refresh", floorHandler(tb, sqlDB, alg, ft))
	url := listen(tb, r)
	out := make([]string, len(handles))
	for i, h := range handles {
		var current string
		if err := db.Raw("SELECT refresh_hash FROM ginauth_sessions WHERE handle = ?", h).Scan(&current).Error; err != nil || current == "" {
			tb.Fatalf("floor: session %s: %v", h, err)
		}
		out[i] = ft.mint(h, current)
	}
	return url, out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
	// by the floor again, and a superseded token or a token with a wrong
	// tag is refused.
	_, toks2, stop2 := refreshServer(t, db, jws.EdDSA, 1)
	defer stop2()
	furl, ftoks := floorServer(t, db, handlesOf(toks2), jws.EdDSA)
	c1, err := refreshOnce(cl, furl, ftoks[0])
	if err != nil {
		t.Fatalf("floor: %v", err)
	}
	if _, err := refreshOnce(cl, furl, c1); err != nil {
		t.Fatalf("floor, second rotation: %v", err)
	}
	if _, err := refreshOnce(cl, furl, ftoks[0]); err == nil {
		t.Fatal("floor accepted a superseded token")
	}
	if _, err := refreshOnce(cl, furl, toks2[0]); err == nil {
		t.Fatal("floor accepted a token without its tag")
	}
}

// handlesOf returns the session handle of each refresh token.
func handlesOf(toks []string) []string {
	hs := make([]string, len(toks))
	for i, t := range toks {
		hs[i], _, _ = strings.Cut(t, ".")
	}
	return hs
}
