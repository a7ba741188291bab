package emailpassword

import (
	"net/http"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
)

// credentialsBody is a sign-up or sign-in body; flag, when not nil, is
// its shouldTryLinkingWithSessionUser.
func credentialsBody(email, password string, flag any) map[string]any {
	b := map[string]any{"formFields": []map[string]any{{"id": FieldEmail, "value": email}, {"id": FieldPassword, "value": password}}}
	if flag != nil {
		b["shouldTryLinkingWithSessionUser"] = flag
	}
	return b
}

// Without the account-linking recipe nothing can be linked to a session
// user, as in the reference's checkAuthTypeAndLinkingStatus (which throws
// when shouldDoAutomaticAccountLinking is not defined and the flag is
// true): true with a session is a 500 and writes nothing, true without one
// a 401 (loadSessionInAuthAPIIfNeeded); absent or false is a sign-in as
// before, which a stale access token does not disturb.
func TestTryLinkWithoutAccountLinking(t *testing.T) {
	h := newHarness(t, nil)
	const pw = "correct horse 1"
	h.mustSignUp("ann@example.com", pw)
	c := &ginauthtest.Client{Handler: h.r, RID: "emailpassword"}
	if res := c.Do("POST", "/auth/signin", credentialsBody("ann@example.com", pw, nil)); res.Status() != "OK" {
		t.Fatalf("sign-in: %s", res.Body)
	}
	users := h.count(&models.User{})
	if res := c.Do("POST", "/auth/signup", credentialsBody("bob@example.com", pw, true)); res.Code != http.StatusInternalServerError {
		t.Fatalf("flag true with a session: want 500, got %d %s", res.Code, res.Body)
	}
	anon := &ginauthtest.Client{Handler: h.r, RID: "emailpassword"}
	if res := anon.Do("POST", "/auth/signup", credentialsBody("bob@example.com", pw, true)); res.Code != http.StatusUnauthorized {
		t.Fatalf("flag true without a session: want 401, got %d %s", res.Code, res.Body)
	}
	if res := anon.Do("POST", "/auth/signin", credentialsBody("ann@example.com", pw, "yes")); res.Code != http.StatusBadRequest {
		t.Fatalf("flag not a boolean: want 400, got %d %s", res.Code, res.Body)
	}
	if n := h.count(&models.User{}); n != users {
		t.Fatalf("refused requests wrote users: %d -> %d", users, n)
	}
	for _, flag := range []any{nil, false} {
		c.Access = "stale"
		if res := c.Do("POST", "/auth/signin", credentialsBody("ann@example.com", pw, flag)); res.Status() != "OK" {
			t.Fatalf("flag %v with a stale token: %d %s", flag, res.Code, res.Body)
		}
	}
}
