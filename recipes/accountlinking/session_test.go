package accountlinking_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Sign-up and sign-in inside a session ("connect Google to this account"):
// the body's shouldTryLinkingWithSessionUser, the session user made
// primary, the new login method linked to it, the session kept. The rules
// mirror supertokens-node's AuthUtils.checkAuthTypeAndLinkingStatus,
// tryAndMakeSessionUserIntoAPrimaryUser, tryLinkingBySession and
// postAuthChecks, and the e-mail/password and third-party APIs' error
// codes (signUpPOST, signInPOST, signInUpPOST).

// connectHarness is the harness with a session-checking route; extra
// recipes (multifactorauth) join AnyTenant.
func connectHarness(t *testing.T, extra ...ginauth.Recipe) *harness {
	t.Helper()
	h := newHarness(t, append([]ginauth.Recipe{recipetest.AnyTenant()}, extra...)...)
	h.r.GET("/me", h.auth.VerifySession(ginauth.VerifyOptions{OverrideGlobalClaimValidators: noClaims}), func(c *gin.Context) {
		s := ginauth.MustSession(c)
		c.JSON(http.StatusOK, gin.H{"userId": s.UserID(), "recipeUserId": s.RecipeUserID(), "handle": s.Handle()})
	})
	return h
}

func noClaims([]claims.Validator, *gin.Context) []claims.Validator { return nil }

// signedIn returns a client with a session of a new e-mail/password user
// whose address is verified.
func (h *harness) signedIn(email string) (*ginauthtest.Client, string) {
	h.t.Helper()
	c := h.client()
	res := c.SignUp(email, "correct horse 1")
	if res.Status() != "OK" {
		h.t.Fatalf("sign-up %s: %d %v", email, res.Code, res.JSON)
	}
	h.verify(res.UserID(), email)
	return c, res.UserID()
}

// connect posts a third-party sign-in-up through the test provider for
// subject and email (vouched for when verified), with flag as
// shouldTryLinkingWithSessionUser (omitted when nil).
func connect(c *ginauthtest.Client, subject, email string, verified bool, flag any) *ginauthtest.Response {
	body := map[string]any{"thirdPartyId": "fake", "oAuthTokens": map[string]any{"access_token": fakeToken(subject, email, verified)}}
	if flag != nil {
		body[kit.FieldShouldTryLinking] = flag
	}
	c.RID = "thirdparty"
	defer func() { c.RID = "emailpassword" }()
	return c.Do("POST", "/auth/signinup", body)
}

// me returns the session the client holds, as the server sees it.
func me(t *testing.T, c *ginauthtest.Client) map[string]any {
	t.Helper()
	res := c.Do("GET", "/me", "")
	if res.Code != http.StatusOK {
		t.Fatalf("/me: %d %s", res.Code, res.Body)
	}
	return res.JSON
}

func (h *harness) count(model any) int64 {
	h.t.Helper()
	var n int64
	if err := h.db.Model(model).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func expectRefusal(t *testing.T, res *ginauthtest.Response, status, code string) {
	t.Helper()
	if res.Code != http.StatusOK || res.Status() != status || !strings.HasSuffix(res.Str("reason"), "("+code+")") {
		t.Fatalf("want 200 %s (%s), got %d %s", status, code, res.Code, res.Body)
	}
}

// Connecting a provider account inside a session links it to the session
// user, keeps the session (no new tokens without MFA) and hands the
// session to ShouldDoAutomaticAccountLinking. Mirrors
// checkAuthTypeAndLinkingStatus, tryLinkingBySession and postAuthChecks.
func TestConnectThirdPartyToSessionUser(t *testing.T) {
	h := connectHarness(t)
	c, ann := h.signedIn("ann@example.com")
	before := me(t, c)
	access := c.AccessToken()
	h.withSession.Store(0)

	res := connect(c, "g-1", "ann.private@gmail.com", true, true)
	if res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("connect: %d %s", res.Code, res.Body)
	}
	if res.Header().Get("st-access-token") != "" || res.Header().Get("front-token") != "" {
		t.Fatalf("a connect without MFA sends no new tokens: %v", res.Header())
	}
	u := h.user(ann)
	if !u.IsPrimaryUser || len(u.LoginMethods) != 2 {
		t.Fatalf("session user after connect: primary=%v %v", u.IsPrimaryUser, recipeUsers(u))
	}
	after := me(t, c)
	if c.AccessToken() != access || after["handle"] != before["handle"] || after["userId"] != ann {
		t.Fatalf("the session must stay: before %v after %v", before, after)
	}
	if h.withSession.Load() == 0 {
		t.Fatal("ShouldDoAutomaticAccountLinking never saw the session")
	}
	// Signing in with the connected account later lands in the same user.
	fresh := h.client()
	if res := connect(fresh, "g-1", "ann.private@gmail.com", true, false); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("sign-in with the connected account: %d %s", res.Code, res.Body)
	}
}

// The flag's three values, as the reference's loadSessionInAuthAPIIfNeeded
// and checkAuthTypeAndLinkingStatus read them.
func TestConnectFlagValues(t *testing.T) {
	t.Run("absent links when the app says so", func(t *testing.T) {
		h := connectHarness(t)
		c, ann := h.signedIn("ann@example.com")
		if res := connect(c, "g-1", "x@gmail.com", true, nil); res.Status() != "OK" || res.UserID() != ann {
			t.Fatalf("connect without the flag: %d %s", res.Code, res.Body)
		}
		if n := len(h.user(ann).LoginMethods); n != 2 {
			t.Fatalf("login methods %d", n)
		}
	})
	t.Run("absent signs in on its own when the app says not to link", func(t *testing.T) {
		h := connectHarness(t)
		c, ann := h.signedIn("ann@example.com")
		h.link.Store(false)
		access := c.AccessToken()
		res := connect(c, "g-1", "x@gmail.com", true, nil)
		if res.Status() != "OK" || res.UserID() == ann || c.AccessToken() == access {
			t.Fatalf("a new user with a new session, got %d %s", res.Code, res.Body)
		}
		if got := me(t, c)["userId"]; got != res.UserID() {
			t.Fatalf("the new session is %v's", got)
		}
	})
	t.Run("false signs in on its own", func(t *testing.T) {
		h := connectHarness(t)
		c, ann := h.signedIn("ann@example.com")
		access := c.AccessToken()
		res := connect(c, "g-1", "x@gmail.com", true, false)
		if res.Status() != "OK" || res.UserID() == ann || c.AccessToken() == access {
			t.Fatalf("flag false: a new user with a new session, got %d %s", res.Code, res.Body)
		}
		if n := len(h.user(ann).LoginMethods); n != 1 {
			t.Fatalf("nothing linked to the old user: %d methods", n)
		}
	})
	t.Run("true without a session is a 401", func(t *testing.T) {
		h := connectHarness(t)
		users := h.count(&models.User{})
		if res := connect(h.client(), "g-1", "x@gmail.com", true, true); res.Code != http.StatusUnauthorized {
			t.Fatalf("want 401, got %d %s", res.Code, res.Body)
		}
		if h.count(&models.User{}) != users {
			t.Fatal("a refused connect wrote a user")
		}
	})
	t.Run("true with an invalid session is a 401", func(t *testing.T) {
		h := connectHarness(t)
		c, _ := h.signedIn("ann@example.com")
		c.Access = c.Access[:len(c.Access)-4] + "AAAA"
		users := h.count(&models.User{})
		if res := connect(c, "g-1", "x@gmail.com", true, true); res.Code != http.StatusUnauthorized {
			t.Fatalf("want 401, got %d %s", res.Code, res.Body)
		}
		if h.count(&models.User{}) != users {
			t.Fatal("a refused connect wrote a user")
		}
	})
	t.Run("not a boolean is a 400", func(t *testing.T) {
		h := connectHarness(t)
		c, _ := h.signedIn("ann@example.com")
		if res := connect(c, "g-1", "x@gmail.com", true, "yes"); res.Code != http.StatusBadRequest {
			t.Fatalf("want 400, got %d %s", res.Code, res.Body)
		}
		res := c.Do("POST", "/auth/signup", map[string]any{kit.FieldShouldTryLinking: 1,
			"formFields": []map[string]any{{"id": "email", "value": "b@example.com"}, {"id": "password", "value": "correct horse 1"}}})
		if res.Code != http.StatusBadRequest {
			t.Fatalf("sign-up: want 400, got %d %s", res.Code, res.Body)
		}
	})
	t.Run("true when the app refuses is a 400", func(t *testing.T) {
		h := connectHarness(t)
		c, _ := h.signedIn("ann@example.com")
		h.link.Store(false)
		users := h.count(&models.User{})
		if res := connect(c, "g-1", "x@gmail.com", true, true); res.Code != http.StatusBadRequest {
			t.Fatalf("want 400, got %d %s", res.Code, res.Body)
		}
		if h.count(&models.User{}) != users {
			t.Fatal("a refused connect wrote a user")
		}
	})
}

// A session user whose own address is unverified is not made primary
// while verification is required: the e-mail verification claim's 403
// (tryAndMakeSessionUserIntoAPrimaryUser).
func TestConnectNeedsVerifiedSessionUser(t *testing.T) {
	h := connectHarness(t)
	c := h.client()
	if res := c.SignUp("ann@example.com", "correct horse 1"); res.Status() != "OK" {
		t.Fatal(res.Body)
	}
	users := h.count(&models.User{})
	res := connect(c, "g-1", "x@gmail.com", true, true)
	if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), "st-ev") {
		t.Fatalf("want 403 st-ev, got %d %s", res.Code, res.Body)
	}
	if h.count(&models.User{}) != users {
		t.Fatal("a refused connect wrote a user")
	}
}

// A provider account whose address is not vouched for is not linked while
// verification is required (ERR_CODE_020), unless the session user has the
// same address verified; with verification not required it is.
func TestConnectUnverifiedProviderAccount(t *testing.T) {
	h := connectHarness(t)
	c, ann := h.signedIn("ann@example.com")
	users := h.count(&models.User{})
	expectRefusal(t, connect(c, "g-1", "other@gmail.com", false, true), "SIGN_IN_UP_NOT_ALLOWED", "ERR_CODE_020")
	if h.count(&models.User{}) != users {
		t.Fatal("a refused connect wrote a user")
	}
	// The session user's own verified address proves the new method's.
	if res := connect(c, "g-2", "ann@example.com", false, true); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("same verified address: %d %s", res.Code, res.Body)
	}
	h.requireVerification.Store(false)
	if res := connect(c, "g-3", "other@gmail.com", false, true); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("verification not required: %d %s", res.Code, res.Body)
	}
	if n := len(h.user(ann).LoginMethods); n != 3 {
		t.Fatalf("login methods %d", n)
	}
}

// A provider account that is another primary user's login method is not
// moved to the session user (ERR_CODE_021), nor one whose address another
// primary user holds (ERR_CODE_022).
func TestConnectAnotherUsersAccount(t *testing.T) {
	h := connectHarness(t)
	c, ann := h.signedIn("ann@example.com")
	bob, _ := h.signedIn("bob@example.com")
	if res := connect(bob, "g-bob", "bob@gmail.com", true, true); res.Status() != "OK" {
		t.Fatalf("bob connects: %s", res.Body)
	}
	expectRefusal(t, connect(c, "g-bob", "bob@gmail.com", true, true), "SIGN_IN_UP_NOT_ALLOWED", "ERR_CODE_021")
	expectRefusal(t, connect(c, "g-x", "bob@example.com", true, true), "SIGN_IN_UP_NOT_ALLOWED", "ERR_CODE_022")
	if n := len(h.user(ann).LoginMethods); n != 1 {
		t.Fatalf("ann got %v", recipeUsers(h.user(ann)))
	}
}

// E-mail and password inside a session: adding a password for the
// address the session user has verified links it (and it counts as
// verified); another, unverified address is refused before anything is
// written (ERR_CODE_013: the reference creates the account first).
// Mirrors signUpPOST's preAuthChecks (verifiedInSessionUser) and
// tryLinkingBySession.
func TestConnectPasswordSignUp(t *testing.T) {
	h := connectHarness(t)
	c := h.client()
	if res := connect(c, "g-1", "ann@example.com", true, false); res.Status() != "OK" {
		t.Fatalf("provider sign-up: %s", res.Body)
	}
	ann := me(t, c)["userId"].(string)
	signUp := func(email string) *ginauthtest.Response {
		return c.Do("POST", "/auth/signup", map[string]any{kit.FieldShouldTryLinking: true,
			"formFields": []map[string]any{{"id": "email", "value": email}, {"id": "password", "value": "correct horse 1"}}})
	}
	users := h.count(&models.User{})
	expectRefusal(t, signUp("other@example.com"), "SIGN_UP_NOT_ALLOWED", "ERR_CODE_013")
	if h.count(&models.User{}) != users {
		t.Fatal("a refused sign-up wrote a user")
	}
	res := signUp("ann@example.com")
	if res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("add a password: %d %s", res.Code, res.Body)
	}
	u := h.user(ann)
	var ep *ginauth.LoginMethod
	for i, m := range u.LoginMethods {
		if m.RecipeID == "emailpassword" {
			ep = &u.LoginMethods[i]
		}
	}
	if ep == nil || !ep.Verified {
		t.Fatalf("the password's login method: %+v", u.LoginMethods)
	}
	if me(t, c)["userId"] != ann {
		t.Fatal("session changed")
	}
	// The password now signs in to the same user.
	if res := h.client().SignIn("ann@example.com", "correct horse 1"); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("sign-in with the added password: %s", res.Body)
	}
}

// Signing in inside a session with another account's password links that
// account when its address is verified, and is refused (ERR_CODE_009)
// when verification is required and it is not. Mirrors signInPOST.
func TestConnectPasswordSignIn(t *testing.T) {
	h := connectHarness(t)
	h.link.Store(false)
	old := h.epSignUp("old@example.com") // unverified, never primary
	h.link.Store(true)
	c, ann := h.signedIn("ann@example.com")
	signIn := func() *ginauthtest.Response {
		return c.Do("POST", "/auth/signin", map[string]any{kit.FieldShouldTryLinking: true,
			"formFields": []map[string]any{{"id": "email", "value": "old@example.com"}, {"id": "password", "value": "correct horse 1"}}})
	}
	expectRefusal(t, signIn(), "SIGN_IN_NOT_ALLOWED", "ERR_CODE_009")
	// Verified without becoming a primary user of its own (which would
	// make it another primary's: ERR_CODE_010).
	h.link.Store(false)
	h.verify(old, "old@example.com")
	h.link.Store(true)
	if res := signIn(); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("sign-in of a verified account: %d %s", res.Code, res.Body)
	}
	if u := h.user(old); u.ID != ann {
		t.Fatalf("old account not linked: %v", u.ID)
	}
	if me(t, c)["userId"] != ann {
		t.Fatal("session changed")
	}
	// Again: the account is the session user's already (a factor completed).
	if res := signIn(); res.Status() != "OK" || res.UserID() != ann {
		t.Fatalf("second sign-in: %d %s", res.Code, res.Body)
	}
}

// Under MFA a connect completes the factor on the session (st-mfa updated,
// same session) and is refused when the factor may not be set up now.
// Mirrors filterOutInvalidSecondFactorsOrThrowIfAllAreInvalid and
// postAuthChecks' markFactorAsCompleteInSession.
func TestConnectCompletesFactor(t *testing.T) {
	t.Run("completes", func(t *testing.T) {
		h := connectHarness(t, multifactorauth.New(multifactorauth.Config{}))
		c, ann := h.signedIn("ann@example.com")
		handle := me(t, c)["handle"]
		if res := connect(c, "g-1", "x@gmail.com", true, true); res.Status() != "OK" || res.UserID() != ann {
			t.Fatalf("connect: %d %s", res.Code, res.Body)
		}
		mfa, _ := c.FrontPayload(t)["st-mfa"].(map[string]any)
		done, _ := mfa["c"].(map[string]any)
		if done["thirdparty"] == nil || done["emailpassword"] == nil {
			t.Fatalf("st-mfa %v", mfa)
		}
		if me(t, c)["handle"] != handle {
			t.Fatal("a new session was made")
		}
		// Signing in again with the linked account inside the session
		// completes the factor again: nothing to link, nothing to set up.
		if res := connect(c, "g-1", "x@gmail.com", true, true); res.Status() != "OK" || res.UserID() != ann {
			t.Fatalf("completion: %d %s", res.Code, res.Body)
		}
		if me(t, c)["handle"] != handle || len(h.user(ann).LoginMethods) != 2 {
			t.Fatal("a completion changed the session or the user")
		}
	})
	t.Run("not allowed now", func(t *testing.T) {
		h := connectHarness(t, multifactorauth.New(multifactorauth.Config{RequireFactors: []string{passwordless.FactorOTPEmail}}))
		c, ann := h.signedIn("ann@example.com")
		users := h.count(&models.User{})
		res := connect(c, "g-1", "x@gmail.com", true, true)
		if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), "st-mfa") {
			t.Fatalf("want 403 st-mfa, got %d %s", res.Code, res.Body)
		}
		if h.count(&models.User{}) != users || len(h.user(ann).LoginMethods) != 1 {
			t.Fatal("a refused connect changed something")
		}
	})
}

// The same connect sent 20 times at once links the account once; every
// answer is OK and names the session user.
func TestConnectBurstLinksOnce(t *testing.T) {
	h := connectHarness(t)
	c, ann := h.signedIn("ann@example.com")
	codes := ginauthtest.BurstCodes(20, func(int) int {
		cc := *c
		res := connect(&cc, "g-1", "x@gmail.com", true, true)
		if res.Status() != "OK" || res.UserID() != ann {
			return -res.Code
		}
		return res.Code
	})
	if codes[http.StatusOK] != 20 {
		t.Fatalf("answers %v", codes)
	}
	var n int64
	h.db.Model(&models.ThirdPartyUser{}).Where("third_party_user_id = ?", "g-1").Count(&n)
	if n != 1 || len(h.user(ann).LoginMethods) != 2 {
		t.Fatalf("%d provider accounts, ann has %v", n, recipeUsers(h.user(ann)))
	}
}

// The same password sign-in inside a session, 20 times at once, links the
// account once.
func TestConnectPasswordBurstLinksOnce(t *testing.T) {
	h := connectHarness(t)
	h.link.Store(false)
	old := h.epSignUp("old@example.com")
	h.verify(old, "old@example.com")
	h.link.Store(true)
	c, ann := h.signedIn("ann@example.com")
	body := map[string]any{kit.FieldShouldTryLinking: true,
		"formFields": []map[string]any{{"id": "email", "value": "old@example.com"}, {"id": "password", "value": "correct horse 1"}}}
	codes := ginauthtest.BurstCodes(20, func(int) int {
		cc := *c
		res := cc.Do("POST", "/auth/signin", body)
		if res.Status() != "OK" || res.UserID() != ann {
			return -res.Code
		}
		return res.Code
	})
	if codes[http.StatusOK] != 20 {
		t.Fatalf("answers %v", codes)
	}
	if u := h.user(old); u.ID != ann || len(u.LoginMethods) != 2 {
		t.Fatalf("old linked to %s with %v", u.ID, recipeUsers(u))
	}
}

// Two users connecting the same new provider account at once: one gets
// it, the other the reference's refusal (ERR_CODE_021, or ERR_CODE_022
// when its address decides first); never both.
func TestConnectRaceTwoSessions(t *testing.T) {
	h := connectHarness(t)
	for round := range 5 {
		a, ann := h.signedIn(fmt.Sprintf("ann%d@example.com", round))
		b, bob := h.signedIn(fmt.Sprintf("bob%d@example.com", round))
		subject := fmt.Sprintf("g-race-%d", round)
		var won atomic.Int32
		refusals := make([]string, 2)
		ginauthtest.Burst(2, func(i int) {
			c := []*ginauthtest.Client{a, b}[i]
			cc := *c
			res := connect(&cc, subject, subject+"@gmail.com", true, true)
			switch {
			case res.Status() == "OK":
				won.Add(1)
			case res.Status() == "SIGN_IN_UP_NOT_ALLOWED":
				refusals[i] = res.Str("reason")
			default:
				refusals[i] = fmt.Sprintf("%d %s", res.Code, res.Body)
			}
		})
		if won.Load() != 1 {
			t.Fatalf("round %d: %d winners, refusals %q", round, won.Load(), refusals)
		}
		for _, r := range refusals {
			if r != "" && !strings.HasSuffix(r, "(ERR_CODE_021)") && !strings.HasSuffix(r, "(ERR_CODE_022)") {
				t.Fatalf("round %d: refusal %q", round, r)
			}
		}
		na, nb := len(h.user(ann).LoginMethods), len(h.user(bob).LoginMethods)
		if na+nb != 3 {
			t.Fatalf("round %d: ann %d bob %d login methods", round, na, nb)
		}
	}
}

// Phone numbers take part in the sign-up and sign-in checks as e-mails do
// (the reference's isSignInUpAllowedHelper lists users by phone number
// too): an unverified new login method with a primary user's number is
// refused while verification is required.
func TestSignUpCheckedByPhone(t *testing.T) {
	h := connectHarness(t)
	ctx := context.Background()
	phone := "+14155550123"
	res, err := h.pl.SignInUp(ctx, "public", passwordless.Contact{PhoneNumber: phone})
	if err != nil || !res.User.IsPrimaryUser {
		t.Fatalf("the phone's user is a primary user: %+v %v", res, err)
	}
	l := kit.Of(h.auth).Linker()
	info := kit.AccountInfo{RecipeID: "passwordless", PhoneNumber: phone}
	if ok, err := l.SignUpAllowed(ctx, "public", info, false); err != nil || ok {
		t.Fatalf("unverified sign-up with a primary's phone number: allowed=%v %v", ok, err)
	}
	if ok, err := l.SignUpAllowed(ctx, "public", info, true); err != nil || !ok {
		t.Fatalf("verified sign-up with a primary's verified phone number: allowed=%v %v", ok, err)
	}
	h.link.Store(false)
	if ok, err := l.SignUpAllowed(ctx, "public", info, false); err != nil || !ok {
		t.Fatalf("without linking: allowed=%v %v", ok, err)
	}
}
