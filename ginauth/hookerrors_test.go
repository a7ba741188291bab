package ginauth

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestHookErrorKinds(t *testing.T) {
	na := NotAllowed("Account suspended")
	var e *Error
	if !errors.As(na, &e) || e.Status != http.StatusForbidden || e.Message != "Account suspended" || !errors.Is(na, ErrSignInNotAllowed) {
		t.Fatalf("NotAllowed: %#v", na)
	}
	ge := GeneralError("Try tomorrow")
	if !errors.As(ge, &e) || e.Message != "Try tomorrow" || !errors.Is(ge, ErrGeneral) || errors.Is(ge, ErrSignInNotAllowed) {
		t.Fatalf("GeneralError: %#v", ge)
	}
	if got := asError(fmt.Errorf("hook: %w", ErrGeneral)); got.Kind != ErrGeneral || got.Status != http.StatusBadRequest {
		t.Fatalf("a wrapped ErrGeneral became %#v", got)
	}
}

func TestWriteHookError(t *testing.T) {
	h := newHarness(t, nil)
	errs := map[string]error{
		"na":      fmt.Errorf("hook: %w", NotAllowed("Sign-ups are closed (ERR_CODE_001)")),
		"ge":      GeneralError("Try tomorrow"),
		"checked": ErrorWithMessage(ErrSignInNotAllowed, "not for this tenant", nil),
		"other":   errors.New("the hook broke"),
	}
	h.r.GET("/hook", func(c *gin.Context) {
		h.auth.writeHookError(c, errs[c.Query("err")], c.Query("status"))
	})
	for _, tc := range []struct {
		query      string
		code       int
		status     string
		key, value string
	}{
		{"err=na&status=SIGN_UP_NOT_ALLOWED", 200, "SIGN_UP_NOT_ALLOWED", "reason", "Sign-ups are closed (ERR_CODE_001)"},
		{"err=checked&status=SIGN_IN_UP_NOT_ALLOWED", 200, "SIGN_IN_UP_NOT_ALLOWED", "reason", "not for this tenant"},
		// Without a *_NOT_ALLOWED status of its own, a flow answers 403.
		{"err=na", 403, "", "message", "Sign-ups are closed (ERR_CODE_001)"},
		{"err=ge&status=SIGN_IN_NOT_ALLOWED", 200, "GENERAL_ERROR", "message", "Try tomorrow"},
		{"err=ge", 200, "GENERAL_ERROR", "message", "Try tomorrow"},
		{"err=other&status=SIGN_IN_NOT_ALLOWED", 500, "", "message", "internal server error"},
	} {
		r := h.client("header").do("GET", "/hook?"+tc.query, "")
		if r.Code != tc.code || r.body[tc.key] != tc.value || (tc.status != "" && r.body["status"] != tc.status) ||
			(tc.status == "" && r.body["status"] != nil) {
			t.Errorf("%s: %d %s", tc.query, r.Code, r.Body)
		}
	}
}
