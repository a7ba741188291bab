package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/models"
)

// Fuzzing the HTTP routes that read request bodies: whatever the body, the
// answer is never a 5xx, the handler never panics, and nothing is written
// unless the answer is a success. The body parsers themselves are fuzzed
// in their packages (FuzzParseFormFields, FuzzSignInUpBody, ...); these go
// through the whole route. Seeds: f.Add below and testdata/fuzz.

// watched are the tables a malformed request must not change.
var watched = []string{models.TableUsers, models.TableUserTenants, models.TableEmailPasswordUsers, models.TableSessions,
	models.TablePasswordResetTokens, models.TableEmailVerificationTokens, models.TableVerifiedEmails}

func rowCounts(t testing.TB, a *app) map[string]int64 {
	t.Helper()
	var cols []string
	for _, tb := range watched {
		cols = append(cols, fmt.Sprintf("(SELECT count(*) FROM %s) AS %s", tb, tb))
	}
	out := map[string]any{}
	if err := a.db.Raw("SELECT " + strings.Join(cols, ", ")).Take(&out).Error; err != nil {
		t.Fatalf("row counts: %v", err)
	}
	n := map[string]int64{}
	for k, v := range out {
		switch x := v.(type) {
		case int64:
			n[k] = x
		case int32:
			n[k] = int64(x)
		default:
			t.Fatalf("count %s is %T", k, v)
		}
	}
	return n
}

// fuzzRoute fuzzes one POST route with its body. known signs an account up
// first (fuzzapp@example.com, password pw); session sends that account's
// access token.
func fuzzRoute(f *testing.F, path string, session bool, seeds ...string) {
	rl := ginauth.RateLimitConfig{Store: ginauth.NewMemoryRateLimitStore(), Limits: testlimits.Generous().Limits}
	a := newApp(f, appOptions{rateLimit: &rl})
	owner, _ := a.signedUp("fuzzapp@example.com", pw)
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a.ep.Wait() // reset requests finish in the background
		before := rowCounts(t, a)
		panics := a.panics.Load()
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("st-auth-mode", "header")
		if session {
			req.Header.Set("Authorization", "Bearer "+owner.Access)
		}
		rec := httptest.NewRecorder()
		a.engine.ServeHTTP(rec, req)
		if a.panics.Load() != panics {
			t.Fatalf("panic on %q: %s", body, rec.Body)
		}
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%d on %q: %s", rec.Code, body, rec.Body)
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%d on %q is not JSON: %q", rec.Code, body, rec.Body)
		}
		if rec.Code == 200 && answer["status"] == "OK" {
			return // a well-formed request may write
		}
		a.ep.Wait()
		after := rowCounts(t, a)
		for tb, n := range before {
			if after[tb] != n {
				t.Fatalf("%d %s on %q changed %s from %d to %d rows", rec.Code, rec.Body, body, tb, n, after[tb])
			}
		}
	})
}

var formSeeds = []string{
	`{"formFields":[{"id":"email","value":"fuzz@example.com"},{"id":"password","value":"fuzz-pass-123"}]}`,
	`{"formFields":[{"id":"email","value":"fuzzapp@example.com"},{"id":"password","value":"wrong-pass-123"}]}`,
	`{"formFields":[{"id":"email","value":"fuzzapp@example.com"}]}`,
	`{"formFields":[{"id":"email","value":1},{"id":"password","value":null}]}`,
	`{"formFields":[{"id":"email","value":"a@b.co"},{"id":"email","value":"c@d.co"},{"id":"password","value":"x1x1x1x1x1"}]}`,
	`{"formFields":{"id":"email"}}`,
	`{"formFields":[null,7,"x",{}]}`,
	`{"formFields":[{"id":"email","value":"' OR 1=1; DROP TABLE ginauth_users; --@example.com"},{"id":"password","value":"' OR ''='"}]}`,
	`{"formFields":[{"id":"email","value":"ｆｕｚｚ@ｅｘａｍｐｌｅ.com"},{"id":"password","value":"pässwörd-１２３"}]}`,
	`{"formFields":[{"id":"email","value":"a\u0000b@example.com"},{"id":"password","value":"\ud800\udc00xx12345"}]}`,
	`{"formFields":[{"id":"email","value":"admin@example.com"},{"id":"password","value":"passw0rd-long"}],"formFields":[]}`,
	`{"formFields":[{"id":"email","value":"x@example.com","extra":{"deep":[[[[[[[[[]]]]]]]]]}}]}`,
	`{"formFields":[{"id":"nickname","value":"x"}]}`,
	`{"formFields":[]} {}`,
	`[]`, `null`, `""`, `{`, ``, "\xff\xfe",
}

func FuzzSignUpBody(f *testing.F) { fuzzRoute(f, "/auth/signup", false, formSeeds...) }

func FuzzSignInBody(f *testing.F) { fuzzRoute(f, "/auth/signin", false, formSeeds...) }

func FuzzResetTokenBody(f *testing.F) {
	fuzzRoute(f, "/auth/user/password/reset/token", false, formSeeds...)
}

func FuzzResetPasswordBody(f *testing.F) {
	fuzzRoute(f, "/auth/user/password/reset", false, append([]string{
		`{"method":"token","token":"abc","formFields":[{"id":"password","value":"new-pass-123"}]}`,
		`{"method":"link","token":"abc","formFields":[{"id":"password","value":"new-pass-123"}]}`,
		`{"token":123,"formFields":[{"id":"password","value":"new-pass-123"}]}`,
		`{"token":"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%","formFields":[{"id":"password","value":"x"}]}`,
	}, formSeeds...)...)
}

func FuzzVerifyEmailBody(f *testing.F) {
	fuzzRoute(f, "/auth/user/email/verify", true,
		`{"method":"token","token":"abc"}`, `{"method":"link","token":"abc"}`, `{"token":null}`,
		`{"method":"token","token":["a"]}`, `{"method":"token","token":"' OR 1=1 --"}`, `{}`, ``, `[]`)
}

// Huge bodies (kept out of the fuzz seeds, where they slow mutation down)
// get a 4xx and change nothing, on every body-reading route.
func TestHugeBodies(t *testing.T) {
	a := newApp(t, appOptions{})
	owner, _ := a.signedUp("huge@example.com", pw)
	before := rowCounts(t, a)
	big := strings.Repeat("a", 2<<20)
	bodies := []string{
		`{"formFields":[{"id":"email","value":"` + big + `@example.com"},{"id":"password","value":"x1x1x1x1x1"}]}`,
		`{"formFields":[{"id":"email","value":"huge@example.com"},{"id":"password","value":"` + big + `"}]}`,
		`{"method":"token","token":"` + big + `","formFields":[{"id":"password","value":"new-pass-123"}]}`,
		strings.Repeat("[", 1<<20),
	}
	for _, path := range []string{"/auth/signup", "/auth/signin", "/auth/user/password/reset/token", "/auth/user/password/reset",
		"/auth/user/email/verify", "/auth/user/email/verify/token"} {
		for i, body := range bodies {
			r := owner.do("POST", path, body)
			if r.err != nil || r.code < 400 || r.code >= 500 {
				t.Errorf("%s, body %d (%d bytes): %s", path, i, len(body), r)
			}
		}
	}
	after := rowCounts(t, a)
	for tb, n := range before {
		if after[tb] != n {
			t.Errorf("huge bodies changed %s from %d to %d rows", tb, n, after[tb])
		}
	}
}
