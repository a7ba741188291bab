package emailpassword

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// TestBadInput: malformed requests get a clear 4xx (or, for values that are
// well-formed but unacceptable, a FIELD_ERROR) and change nothing.
func TestBadInput(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SignUpFields = []FormField{{ID: "name", Optional: true}} })
	// Over the recipe's body cap in short strings: a single long one is
	// refused by the core's input check first (ginauth/input.go).
	huge := `{"formFields":[{"id":"email","value":"a@b.io"},{"id":"password","value":"secret123"}],"pad":[` + strings.Repeat(`"a1a1a1a1",`, 10<<10) + `""]}`
	sqlEmail := `x'; DROP TABLE ginauth_users; --@b.io`
	cases := []struct {
		name, path, body string
		code             int
		msg              string // substring of the 400 message, or the FIELD_ERROR error
	}{
		{"no body", "/auth/signup", "", 400, "JSON object"},
		{"not JSON", "/auth/signup", `{"formFields":`, 400, "JSON object"},
		{"array body", "/auth/signup", `[]`, 400, "JSON object"},
		{"two objects", "/auth/signup", `{} {}`, 400, "single JSON object"},
		{"formFields missing", "/auth/signup", `{}`, 400, "Missing input param: formFields"},
		{"formFields null", "/auth/signin", `{"formFields":null}`, 400, "Missing input param: formFields"},
		{"formFields not an array", "/auth/signup", `{"formFields":{"id":"email"}}`, 400, "must be an array"},
		{"field not an object", "/auth/signup", `{"formFields":["email"]}`, 400, "must be an array"},
		{"id not a string", "/auth/signup", `{"formFields":[{"id":7,"value":"a@b.io"}]}`, 400, "id must be a non-empty string"},
		{"id missing", "/auth/signup", `{"formFields":[{"value":"a@b.io"}]}`, 400, "id must be a non-empty string"},
		{"email a number", "/auth/signup", `{"formFields":[{"id":"email","value":12},{"id":"password","value":"secret123"}]}`, 400, `"email" must be a string`},
		{"password an object", "/auth/signin", `{"formFields":[{"id":"email","value":"a@b.io"},{"id":"password","value":{"$gt":""}}]}`, 400, `"password" must be a string`},
		{"unknown field", "/auth/signup", ginauthtest.Form("email", "a@b.io", "password", "secret123", "isAdmin", true), 400, `Are you sending too many formFields? Unknown field "isAdmin"`},
		{"too many fields", "/auth/signin", ginauthtest.Form("email", "a@b.io", "password", "secret123", "name", "x"), 400, "Are you sending too many formFields?"},
		{"duplicate field", "/auth/signup", ginauthtest.Form("email", "a@b.io", "email", "b@b.io"), 400, "more than once"},
		{"huge body", "/auth/signup", huge, 413, "larger than 65536 bytes"},
		{"invalid UTF-8", "/auth/signup", "{\"formFields\":[{\"id\":\"email\",\"value\":\"a\xff@b.io\"},{\"id\":\"password\",\"value\":\"secret123\"}]}", 400, "UTF-8"},
		{"escaped lone surrogate", "/auth/signup", `{"formFields":[{"id":"email","value":"a\ud800@b.io"},{"id":"password","value":"secret123"}]}`, 200, MsgEmailInvalid},
		{"control character", "/auth/signup", ginauthtest.Form("email", "a\x01b@b.io", "password", "secret123"), 200, MsgEmailInvalid},
		{"NUL", "/auth/signup", ginauthtest.Form("email", "a\x00b@b.io", "password", "secret123"), 400, "NUL"},
		{"SQL in email", "/auth/signup", ginauthtest.Form("email", sqlEmail, "password", "secret123"), 200, MsgEmailInvalid},
		{"SQL in sign-in", "/auth/signin", ginauthtest.Form("email", `" OR 1=1 --@b.io`, "password", `' OR '1'='1`), 200, MsgEmailInvalid},
		{"reset: token missing", "/auth/user/password/reset", `{"formFields":[{"id":"password","value":"secret123"}]}`, 400, "Please provide the password reset token"},
		{"reset: token a number", "/auth/user/password/reset", `{"token":5,"formFields":[{"id":"password","value":"secret123"}]}`, 400, "must be a string"},
		{"reset: bad method", "/auth/user/password/reset", `{"method":"link","token":"t","formFields":[{"id":"password","value":"secret123"}]}`, 400, `method must be "token"`},
		{"reset: email field", "/auth/user/password/reset", `{"token":"t","formFields":[{"id":"email","value":"a@b.io"}]}`, 400, "Unknown field"},
		{"reset token: formFields missing", "/auth/user/password/reset/token", `{"email":"a@b.io"}`, 400, "Missing input param: formFields"},
		{"reset token: bad email", "/auth/user/password/reset/token", ginauthtest.Form("email", "a@@b.io"), 200, MsgEmailInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", tc.path, tc.body)
			if r.Code != tc.code {
				t.Fatalf("status %d, want %d: %.200s", r.Code, tc.code, r.Body)
			}
			if tc.code == 200 {
				ff, _ := json.Marshal(r.body["formFields"])
				if status(r) != "FIELD_ERROR" || !strings.Contains(string(ff), tc.msg) {
					t.Fatalf("got %s, want FIELD_ERROR %q", r.Body, tc.msg)
				}
			} else if msg, _ := r.body["message"].(string); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	for _, m := range []any{&models.User{}, &models.EmailPasswordUser{}, &models.PasswordResetToken{}, &models.Session{}} {
		if n := h.count(m); n != 0 {
			t.Fatalf("bad input created %d rows of %T", n, m)
		}
	}
	h.noMail()
	// The tables the SQL-looking input named are still there.
	if !kit.Of(h.auth).DB().Migrator().HasTable(models.TableUsers) {
		t.Fatal("users table gone")
	}
	// A SQL-looking password is just a password.
	expectStatus(t, h.signUp("bobby@b.io", `Robert'); DROP TABLE ginauth_users;--1`), "OK")
	expectStatus(t, h.signIn("bobby@b.io", `Robert'); DROP TABLE ginauth_users;--1`), "OK")
}

// TestRouteGroupMode: the recipe's routes work the same registered as gin
// routes.
func TestRouteGroupMode(t *testing.T) {
	h := newHarness(t, nil)
	h.r = gin.New()
	h.auth.RegisterRoutes(h.r)
	expectStatus(t, h.signUp("a@b.io", "secret123"), "OK")
	expectStatus(t, h.do("POST", "/auth/acme/signup", ginauthtest.Form("email", "a@b.io", "password", "secret123")), "OK")
	w := httptest.NewRecorder()
	h.r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/auth/signup/email/exists", nil))
	if w.Code != 400 {
		t.Fatalf("missing email param: %d", w.Code)
	}
}

func FuzzParseFormFields(f *testing.F) {
	f.Add([]byte(ginauthtest.Form("email", "a@b.io", "password", "secret123")))
	f.Add([]byte(`{"formFields":[{"id":"email","value":null},{"id":"name","value":[1,{"a":2}]}]}`))
	f.Add([]byte(`{"formFields":[{"id":"","value":1}],"token":7}`))
	f.Add([]byte("{\"formFields\":\"\xff\"}"))
	allowed := map[string]bool{FieldEmail: true, FieldPassword: true, "name": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil || obj == nil {
			return
		}
		fields, err := parseFormFields(obj, allowed)
		if err != nil {
			return
		}
		if len(fields) > len(allowed) {
			t.Fatalf("%d fields", len(fields))
		}
		for id, f := range fields {
			if !allowed[id] {
				t.Fatalf("unknown id %q accepted", id)
			}
			if _, ok := f.value.(string); (id == FieldEmail || id == FieldPassword) && f.present && !ok {
				t.Fatalf("%s is %T", id, f.value)
			}
		}
		if e := fields[FieldEmail]; e.present && e.str() != NormaliseEmail(e.str()) {
			t.Fatalf("email %q not normalised", e.str())
		}
	})
}
