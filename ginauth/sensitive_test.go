package ginauth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

// sensitiveRecipe serves two routes that verify the session with the zero
// VerifyOptions: one registered Sensitive, one not.
type sensitiveRecipe struct{}

func (sensitiveRecipe) ID() string { return "test-sensitive" }

func (sensitiveRecipe) Setup(r *Registrar) error {
	a := r.Auth()
	h := func(c *gin.Context) {
		s, err := a.GetSession(c, VerifyOptions{})
		if err != nil {
			a.writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "OK", "userId": s.UserID(), "sensitive": IsSensitive(c)})
	}
	if err := r.Handle(Route{Method: http.MethodPost, Path: "/t/sensitive", Handler: h, Sensitive: true}); err != nil {
		return err
	}
	return r.Handle(Route{Method: http.MethodPost, Path: "/t/plain", Handler: h})
}

// TestSensitiveRouteChecksDatabase: a route registered with
// Route.Sensitive refuses a revoked session at once, although the handler
// asks for no database check and the access token is still valid (and
// cached); the same handler on a plain route still lets the token through.
// It fails when the router stops marking sensitive routes or when
// getSessionCtx stops honouring the mark.
func TestSensitiveRouteChecksDatabase(t *testing.T) {
	for _, serve := range []string{"middleware", "register-routes"} {
		for _, mode := range []string{"cookie", "header"} {
			t.Run(serve+"/"+mode, func(t *testing.T) {
				h := newHarness(t, func(c *Config) { c.Recipes = append(c.Recipes, sensitiveRecipe{}) })
				if serve == "register-routes" {
					e := gin.New()
					h.auth.RegisterRoutes(e)
					h.r = ginWithLogin(h, e)
				}
				cl := h.client(mode)
				cl.login("u1")
				for _, p := range []string{"/auth/t/sensitive", "/auth/t/plain"} {
					r := cl.do("POST", p, "{}")
					expect(t, r, 200, "")
					if r.body["sensitive"] != (p == "/auth/t/sensitive") {
						t.Fatalf("%s: IsSensitive %v", p, r.body["sensitive"])
					}
				}
				handle, _ := cl.frontPayload()["up"].(map[string]any)["sessionHandle"].(string)
				if ok, err := h.auth.RevokeSession(context.Background(), handle); err != nil || !ok {
					t.Fatalf("revoke %q: %v %v", handle, ok, err)
				}
				// The plain route verifies statelessly: the token lives on.
				expect(t, cl.do("POST", "/auth/t/plain", "{}"), 200, "")
				r := cl.do("POST", "/auth/t/sensitive", "{}")
				expect(t, r, 401, "unauthorised")
				if r.Header().Get("front-token") != "remove" {
					t.Fatalf("tokens not cleared: %v", r.Header())
				}
			})
		}
	}
}

// ginWithLogin puts the harness's /login route next to e's auth routes.
func ginWithLogin(h *harness, e *gin.Engine) *gin.Engine {
	a := h.auth
	e.POST("/login", func(c *gin.Context) {
		if _, err := a.CreateSession(c, NewSession{UserID: c.Query("user")}); err != nil {
			a.writeError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	})
	return e
}

// TestLockTx: inside a transaction, LockTx accepts a live session, answers
// 401 (tokens cleared) for a revoked or expired one, and holds the row so
// that a revocation started meanwhile waits for the commit.
func TestLockTx(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	s, _, err := h.auth.CreateSessionTokens(ctx, NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	db := h.auth.db

	// A revocation waits for the transaction holding the lock.
	locked := make(chan struct{})
	release := make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- db.Transaction(func(tx *gorm.DB) error {
			if err := s.LockTx(ctx, tx); err != nil {
				close(locked)
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	revoked := make(chan error, 1)
	go func() {
		_, err := h.auth.RevokeSession(ctx, s.Handle())
		revoked <- err
	}()
	select {
	case err := <-revoked:
		close(release)
		t.Fatalf("the revocation did not wait for the lock holder: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	if err := <-revoked; err != nil {
		t.Fatalf("revocation: %v", err)
	}

	// Once revoked, LockTx refuses and the caller's transaction rolls back.
	err = db.Transaction(func(tx *gorm.DB) error { return s.LockTx(ctx, tx) })
	var e *Error
	if !errors.As(err, &e) || e.Status != 401 || !e.ClearTokens {
		t.Fatalf("LockTx after revocation: %v", err)
	}

	// An expired session is refused too.
	s2, _, err := h.auth.CreateSessionTokens(ctx, NewSession{UserID: "u2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Transaction(func(tx *gorm.DB) error { return s2.LockTx(ctx, tx) }); err != nil {
		t.Fatalf("LockTx on a live session: %v", err)
	}
	h.clock.Advance(200 * 24 * time.Hour)
	if err := db.Transaction(func(tx *gorm.DB) error { return s2.LockTx(ctx, tx) }); !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("LockTx on an expired session: %v", err)
	}
}

// TestMergeIntoAccessTokenPayloadTx: the payload is stored with the
// caller's transaction (a rollback leaves it as it was, and nothing is
// sent), the new token goes out only through send, and a revoked session
// is refused with 401.
func TestMergeIntoAccessTokenPayloadTx(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	s, _, err := h.auth.CreateSessionTokens(ctx, NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	db := h.auth.db
	stored := func() any {
		info, err := h.auth.GetSessionInfo(ctx, s.Handle())
		if err != nil {
			t.Fatal(err)
		}
		return info.AccessTokenPayload["k"]
	}

	rollback := errors.New("rolled back")
	err = db.Transaction(func(tx *gorm.DB) error {
		if _, err := s.MergeIntoAccessTokenPayloadTx(ctx, tx, map[string]any{"k": "lost"}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) || stored() != nil || s.AccessTokenPayload()["k"] != nil {
		t.Fatalf("after a rollback: %v, stored %v, session %v", err, stored(), s.AccessTokenPayload()["k"])
	}

	var send func() error
	err = db.Transaction(func(tx *gorm.DB) error {
		var err error
		send, err = s.MergeIntoAccessTokenPayloadTx(ctx, tx, map[string]any{"k": "kept", "sub": "mallory"})
		return err
	})
	if err != nil || stored() != "kept" {
		t.Fatalf("commit: %v, stored %v", err, stored())
	}
	if s.AccessTokenPayload()["k"] != nil {
		t.Fatal("the session's token changed before send")
	}
	if err := send(); err != nil || s.AccessTokenPayload()["k"] != "kept" || s.UserID() != "u1" {
		t.Fatalf("send: %v, payload %v", err, s.AccessTokenPayload())
	}

	if _, err := h.auth.RevokeSession(ctx, s.Handle()); err != nil {
		t.Fatal(err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		_, err := s.MergeIntoAccessTokenPayloadTx(ctx, tx, map[string]any{"k": "late"})
		return err
	})
	var e *Error
	if !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("revoked: %v", err)
	}
}
