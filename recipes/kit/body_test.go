package kit

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginauth/ginauth/ginauth"
)

func TestReadJSONObject(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		optional bool
		code     int
		msg      string
	}{
		{"object", `{"a":"b"}`, false, 200, ""},
		{"empty optional", ``, true, 200, ""},
		{"empty required", `  `, false, 400, "the request body is empty: send a JSON object"},
		{"array", `[1]`, false, 400, "the request body must be a JSON object"},
		{"null", `null`, false, 400, "the request body must be a JSON object"},
		{"broken", `{"a":`, false, 400, "the request body must be a JSON object"},
		{"two objects", `{}{}`, false, 400, "the request body must hold a single JSON object"},
		{"bad utf-8", "{\"a\":\"\xff\"}", false, 400, "the request body is not valid UTF-8"},
		{"too large", `{"a":"` + strings.Repeat("x", 200) + `"}`, false, 413, "the request body is larger than 100 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			obj, err := ReadJSONObject(c, 100, tc.optional)
			if tc.code == 200 {
				if err != nil || obj == nil {
					t.Fatalf("ReadJSONObject = %v, %v", obj, err)
				}
				return
			}
			e, ok := err.(*ginauth.Error)
			if !ok || e.Status != tc.code || e.Message != tc.msg {
				t.Fatalf("err = %#v, want %d %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestDecodeJSONAndStringField(t *testing.T) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("POST", "/", strings.NewReader(`{"n":"x"}`))
	var v struct {
		N int `json:"n"`
	}
	if err := DecodeJSON(c, &v, 0); err == nil || err.(*ginauth.Error).Message != "the field n has the wrong type: expected int" {
		t.Fatalf("DecodeJSON: %v", err)
	}
	c.Request = httptest.NewRequest("POST", "/", strings.NewReader(`{"s":"abc","n":1,"z":null}`))
	obj, _ := ReadJSONObject(c, 0, false)
	if s, err := StringField(obj, "s", 3, true); s != "abc" || err != nil {
		t.Fatalf("StringField s = %q, %v", s, err)
	}
	for _, tc := range []struct {
		name, msg string
		max       int
	}{
		{"s", "s is longer than 2 bytes", 2},
		{"n", "n must be a string", 10},
		{"z", "Missing input param: z", 10},
		{"missing", "Missing input param: missing", 10},
	} {
		if _, err := StringField(obj, tc.name, tc.max, true); err == nil || err.(*ginauth.Error).Message != tc.msg {
			t.Errorf("StringField(%s) = %v, want %q", tc.name, err, tc.msg)
		}
	}
	if s, err := StringField(obj, "missing", 10, false); s != "" || err != nil {
		t.Fatalf("optional missing field: %q, %v", s, err)
	}
}

// The body helpers check on their own when an app calls them from its own
// route, which the router did not check.
func TestBodyHelpersRefuseNUL(t *testing.T) {
	for _, body := range []string{`{"email":"a\u0000@example.com"}`, `{"nested":{"k\u0000":"v"}}`} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
		if _, err := ReadJSONObject(c, 0, false); err == nil || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("ReadJSONObject(%s) = %v", body, err)
		}
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
		var v map[string]any
		if err := DecodeJSON(c, &v, 0); err == nil || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("DecodeJSON(%s) = %v", body, err)
		}
	}
	// A member the router let through (it checks bodies of auth routes
	// itself) is checked again when read.
	m := map[string]json.RawMessage{"s": json.RawMessage(`"a\u0000"`)}
	if _, err := StringField(m, "s", 10, true); err == nil || err.(*ginauth.Error).Message != "s contains a NUL character" {
		t.Fatalf("StringField: %v", err)
	}
}
