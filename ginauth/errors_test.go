package ginauth

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestZeroErrorSafe: an Error without a Kind (the zero Error, a nil
// *Error) neither panics in Error() nor reaches the client as anything but
// a 500 with the generic message; one with a Kind but no Status or Message
// gets the table's.
func TestZeroErrorSafe(t *testing.T) {
	var nilErr *Error
	for _, e := range []*Error{{}, nilErr, {Message: "secret detail", Err: errors.New("cause")}} {
		if s := e.Error(); !strings.HasPrefix(s, ErrInternal.Error()) {
			t.Errorf("Error() of %#v = %q", e, s)
		}
		if !errors.Is(e, ErrInternal) {
			t.Errorf("%#v is not an ErrInternal", e)
		}
	}
	h := newHarness(t, nil)
	errs := map[string]error{
		"zero":     &Error{},
		"kindless": &Error{Status: 418, Message: "secret detail"},
		"nil":      nilErr,
		"nostatus": &Error{Kind: ErrNotFound},
		"theft":    &Error{Kind: ErrTokenTheft, Message: "custom"},
	}
	h.r.GET("/err", func(c *gin.Context) { h.auth.writeError(c, errs[c.Query("e")]) })
	for _, tc := range []struct {
		e    string
		code int
		msg  string
	}{
		{"zero", 500, "internal server error"},
		{"kindless", 500, "internal server error"},
		{"nil", 500, "internal server error"},
		{"nostatus", 404, "not found"},
		{"theft", 401, "custom"},
	} {
		r := h.client("header").do("GET", "/err?e="+tc.e, "")
		if r.Code != tc.code || r.body["message"] != tc.msg {
			t.Errorf("%s: %d %s", tc.e, r.Code, r.Body)
		}
	}
}

// TestErrorTable: every constructor takes status and message from the one
// table, and wrapped kinds still match what they wrap.
func TestErrorTable(t *testing.T) {
	for kind, k := range errorTable {
		e := NewError(kind, nil)
		if e.Status != k.status || e.Message != k.message || !errors.Is(e, kind) {
			t.Errorf("NewError(%v) = %#v", kind, e)
		}
		if got := asError(kind); got.Kind != kind && kind != ErrConfig && kind != ErrInternal {
			t.Errorf("asError(%v) has kind %v", kind, got.Kind)
		}
	}
	if e := tooLarge(10); e.Status != http.StatusRequestEntityTooLarge || !errors.Is(e, ErrBadRequest) {
		t.Fatalf("tooLarge: %#v", e)
	}
	if e := asError(ErrUnknownTenant); e.Status != http.StatusNotFound || e.Message != "tenant not found" {
		t.Fatalf("a bare ErrUnknownTenant: %#v", e)
	}
	if e := Unauthorised(nil, true); e.Status != 401 || !e.ClearTokens || e.Message != "unauthorised" {
		t.Fatalf("Unauthorised: %#v", e)
	}
	if e := ErrorWithMessage(nil, "", nil); e.Status != 500 || e.Kind != ErrInternal {
		t.Fatalf("ErrorWithMessage(nil): %#v", e)
	}
}

// TestNoErrorLiterals keeps "constructors only" true: outside errors.go no
// non-test source of the module builds an Error as a struct literal, which
// would bypass the error table.
func TestNoErrorLiterals(t *testing.T) {
	lit := regexp.MustCompile(`(^|[^\w.])(ginauth\.)?Error\{`)
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.ToSlash(path) == "../ginauth/errors.go" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if lit.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d builds an Error literal; use a constructor: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
