package kitrecipe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/tests/kitrecipe"
)

// TestKitIsEnough runs the example recipe end to end: its route behind the
// router, its table, its claim in a new session, its rate limit, its
// user-delete hook and its "not set up" error.
func TestKitIsEnough(t *testing.T) {
	if err := kitrecipe.New().Set(context.Background(), "u", "", "beta"); !errors.Is(err, kitrecipe.ErrNotSetUp) || !errors.Is(err, kit.ErrNotSetUp) {
		t.Fatalf("before setup: %v", err)
	}
	db := testdb.Open(t)
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&kitrecipe.Flag{}); err != nil {
		t.Fatal(err)
	}
	rec := kitrecipe.New()
	a, err := ginauth.New(ginauth.Config{DB: db,
		AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{rec},
		RateLimit: ginauth.RateLimitConfig{Store: ginauth.NewMemoryRateLimitStore(), Limits: map[ginauth.Action]ginauth.Limit{
			kitrecipe.ActionSetFlag: {PerAccount: ginauth.Rule{Max: 2, Window: time.Minute}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	userID, _, err := kit.Of(a).CreateUser(ctx, db, ginauth.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	s, tokens, err := a.CreateSessionTokens(ctx, ginauth.NewSession{UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.AccessTokenPayload()["flags"]; !ok {
		t.Fatalf("the claim is not in a new session's payload: %v (%v)", s.AccessTokenPayload(), got)
	}
	r := gin.New()
	r.Use(a.Middleware())
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/auth/flags", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	if w := post(`{"name":"beta"}`); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"OK"`) {
		t.Fatalf("set: %d %s", w.Code, w.Body)
	}
	// Bad input: a clear 400, nothing written.
	if w := post(`{"nom":"x"}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Missing input param: name") {
		t.Fatalf("bad body: %d %s", w.Code, w.Body)
	}
	// The third attempt is over the rule of two per account.
	if w := post(`{"name":"gamma"}`); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %s", w.Code, w.Body)
	}
	if flags, err := rec.Flags(ctx, userID); err != nil || !slices.Equal(flags, []string{"beta"}) {
		t.Fatalf("flags = %v, %v", flags, err)
	}
	if ok, err := a.DeleteUser(ctx, userID); !ok || err != nil {
		t.Fatalf("DeleteUser = %v, %v", ok, err)
	}
	if flags, err := rec.Flags(ctx, userID); err != nil || len(flags) != 0 {
		t.Fatalf("after the user's deletion: %v, %v", flags, err)
	}
}
