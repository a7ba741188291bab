package ginauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// The input check's parts. The walk of every route with every hostile
// value, on SQLite and PostgreSQL, is tests/security TestHostileInputEveryRoute.

func TestCheckString(t *testing.T) {
	for _, tc := range []struct {
		s, msg string
		max    int
	}{
		{"fine ü", "", 0},
		{"a\x00b", "x contains a NUL character", 0},
		{"a\xffb", "x is not valid UTF-8", 0},
		{"abcd", "x is longer than 3 bytes", 3},
		{"abc", "", 3},
	} {
		err := checkString("x", tc.s, tc.max)
		got := ""
		if err != nil {
			got = err.(*Error).Message
			if err.(*Error).Status != http.StatusBadRequest {
				t.Errorf("%q: status %d", tc.s, err.(*Error).Status)
			}
		}
		if got != tc.msg {
			t.Errorf("checkString(%q) = %q, want %q", tc.s, got, tc.msg)
		}
	}
}

// Every string and key of a JSON body, however deep, is checked; syntax
// errors are left to the handler.
func TestCheckJSONBody(t *testing.T) {
	long := strings.Repeat("a", MaxInputStringBytes+1)
	for _, tc := range []struct{ body, msg string }{
		{`{"a":"b","c":[1,true,null,{"d":"e"}],"f":{}}`, ""},
		{`{"a":"b\u0000"}`, "a JSON string contains a NUL character"},
		{`{"a\u0000":"b"}`, "a JSON object key contains a NUL character"},
		{`{"a":{"b":[{"c\u0000":1}]}}`, "a JSON object key contains a NUL character"},
		{`{"a":[{},"\u0000"]}`, "a JSON string contains a NUL character"},
		{`{"a":{},"b\u0000":1}`, "a JSON object key contains a NUL character"},
		{`{"a":"` + long + `"}`, "a JSON string is longer than 16384 bytes"},
		{`{"` + long + `":1}`, "a JSON object key is longer than 16384 bytes"},
		{"{\"a\":\"\xff\"}", "the request body is not valid UTF-8"},
		{"{\"a\":\x00}", "the request body contains a NUL byte"},
		{`{"a":`, ""},
		{`not json \u0000`, ""},
	} {
		err := checkJSONBody([]byte(tc.body))
		got := ""
		if err != nil {
			got = err.(*Error).Message
		}
		if got != tc.msg {
			t.Errorf("checkJSONBody(%.40q) = %q, want %q", tc.body, got, tc.msg)
		}
	}
}

func TestCheckJSONValue(t *testing.T) {
	if err := checkJSONValue("the metadata", map[string]any{"a": []any{"b", map[string]string{"c": "d"}}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{
		map[string]any{"a\x00": 1},
		map[string]any{"a": []any{map[string]string{"c": "\x00"}}},
	} {
		err := checkJSONValue("the metadata", v)
		if err == nil || !strings.Contains(err.Error(), "NUL") || !strings.Contains(err.(*Error).Message, "the metadata") {
			t.Errorf("checkJSONValue(%q) = %v", v, err)
		}
	}
}

// testRecipe is a recipe made of a Setup function.
type testRecipe struct {
	id    string
	setup func(r *Registrar) error
}

func (r *testRecipe) ID() string                 { return r.id }
func (r *testRecipe) Setup(reg *Registrar) error { return r.setup(reg) }

// The router answers hostile input on its routes, through Middleware and
// RegisterRoutes, with a 400 before the handler runs; a recipe's
// OnBadInput writer answers for its routes; app routes are not touched.
func TestRouterInputCheck(t *testing.T) {
	ran := 0
	rc := &testRecipe{id: "probe", setup: func(r *Registrar) error {
		r.OnBadInput(func(c *gin.Context, err *Error) {
			c.String(err.Status, "page: "+err.Message)
		})
		return r.Handle(Route{Method: http.MethodPost, Path: "/probe", Handler: func(c *gin.Context) {
			ran++
			c.JSON(200, gin.H{"status": "OK"})
		}})
	}}
	h := newHarness(t, func(c *Config) { c.Recipes = []Recipe{rc} })
	rr := gin.New()
	h.auth.RegisterRoutes(rr)
	h.r.GET("/auth-free", func(c *gin.Context) { c.String(200, c.Query("q")) })

	do := func(e *gin.Engine, method, target, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatal(err)
		}
		req.URL = u
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		return w
	}
	for _, e := range []*gin.Engine{h.r, rr} {
		for _, tc := range []struct {
			name, target, ctype, body string
			hdr                       []string
			code                      int
			msg                       string
		}{
			{"fine", "/auth/probe", "application/json", `{"a":"b"}`, nil, 200, ""},
			{"query NUL", "/auth/probe?x=a%00", "", "", nil, 400, `the query parameter "x" contains a NUL character`},
			{"query %FF", "/auth/probe?x=%FF", "", "", nil, 400, `the query parameter "x" is not valid UTF-8`},
			{"query name", "/auth/probe?%00=1", "", "", nil, 400, "a query parameter name contains a NUL character"},
			{"query long", "/auth/probe?x=" + strings.Repeat("a", MaxInputStringBytes+1), "", "", nil, 400, `the query parameter "x" is longer than 16384 bytes`},
			{"JSON key", "/auth/probe", "application/json", `{"a":{"b\u0000":1}}`, nil, 400, "a JSON object key contains a NUL character"},
			{"form", "/auth/probe", "application/x-www-form-urlencoded", "a=%FF", nil, 400, `the form field "a" is not valid UTF-8`},
			{"form long", "/auth/probe", "application/x-www-form-urlencoded", "a=" + strings.Repeat("a", MaxFormValueBytes+1), nil, 400, `the form field "a" is longer than 262144 bytes`},
			{"header", "/auth/probe", "", "", []string{"rid", "\x00"}, 400, `the header "rid" contains a NUL character`},
			{"tenant path", "/auth/a%00b/probe", "", "", nil, 400, "the request path contains a NUL character"},
			{"body too big", "/auth/probe", "application/json", `{"a":"` + strings.Repeat("a", MaxRequestBodyBytes) + `"}`, nil, 413, "the request body is larger than 1048576 bytes"},
		} {
			before := ran
			w := do(e, "POST", tc.target, tc.ctype, tc.body, tc.hdr...)
			if w.Code != tc.code || (tc.msg != "" && w.Body.String() != "page: "+tc.msg) {
				t.Errorf("%s: %d %s, want %d %q", tc.name, w.Code, w.Body, tc.code, tc.msg)
			}
			if tc.code != 200 && ran != before {
				t.Errorf("%s: the handler ran", tc.name)
			}
		}
	}
	// Core routes answer FDI's {"message": ...}.
	w := do(h.r, "POST", "/auth/signout?x=%00", "", "")
	if w.Code != 400 || w.Body.String() != `{"message":"the query parameter \"x\" contains a NUL character"}` {
		t.Errorf("signout: %d %s", w.Code, w.Body)
	}
	// A path under the base path that no route serves: Middleware answers
	// bad bytes and an over-long tenant id, and passes the rest on.
	for target, code := range map[string]int{
		"/auth/nothing%00": 400,
		"/auth/" + strings.Repeat("t", 65) + "/probe": 400,
		"/auth/nothing":          404,
		"/auth/bad_tenant/probe": 404,
	} {
		if w := do(h.r, "POST", target, "", ""); w.Code != code {
			t.Errorf("%s: %d %s, want %d", target, w.Code, w.Body, code)
		}
	}
	// App routes are the app's business.
	if w := do(h.r, "GET", "/auth-free?q=%FF", "", ""); w.Code != 200 {
		t.Errorf("app route: %d %s", w.Code, w.Body)
	}
}
