package recipetest

import (
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

// Password is the password of the first-factor accounts SignUpWithPassword
// and SignInWithPassword make and use.
const Password = "correct horse 1"

// SignUpWithPassword signs c up with email and Password through the
// emailpassword recipe, the first factor of the second-factor tests (the
// request carries rid emailpassword whatever c.RID says, so c keeps
// talking to its own recipe afterwards). It fails the test unless the
// answer is OK and returns the new user's id; c holds the session.
func SignUpWithPassword(t testing.TB, c *ginauthtest.Client, email string) string {
	t.Helper()
	return passwordFactor(t, c, "/signup", email)
}

// SignInWithPassword is SignUpWithPassword's sign-in: a new session for
// the account with email, made with the first factor only.
func SignInWithPassword(t testing.TB, c *ginauthtest.Client, email string) string {
	t.Helper()
	return passwordFactor(t, c, "/signin", email)
}

func passwordFactor(t testing.TB, c *ginauthtest.Client, path, email string) string {
	t.Helper()
	base := c.APIBasePath
	if base == "" {
		base = "/auth"
	}
	r := c.Do("POST", base+path, ginauthtest.Form("email", email, "password", Password), "rid", "emailpassword")
	if r.Code != 200 || r.Status() != "OK" {
		t.Fatalf("recipetest: password %s of %s: %d %s", path, email, r.Code, r.Body)
	}
	return r.UserID()
}
