package passwordless

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/userroles"
)

// These tests run passwordless as a second factor: a first factor
// (emailpassword, or thirdparty through the test's /login route), then a
// code created and consumed with shouldTryLinkingWithSessionUser: true.
// They mirror supertokens-node's passwordless createCodePOST and
// consumeCodePOST with a session (AuthUtils.preAuthChecks and
// postAuthChecks: the factor marked complete in the same session, no new
// session), without its account linking.

type mfaSetup struct {
	pl     func(*Config)
	mfa    multifactorauth.Config
	limits *ginauth.RateLimitConfig
	ev     bool
	roles  *userroles.Recipe
	// tenants replaces the test tenant policy with the multitenancy recipe.
	tenants *multitenancy.Recipe
}

type mfaHarness struct {
	*harness
	mfa    *multifactorauth.Recipe
	tp     *thirdparty.Recipe
	events *recipetest.Events
}

// newMFAHarness builds passwordless (e-mail or phone) with emailpassword,
// thirdparty and multifactorauth, and a /login?user=&factor= route.
func newMFAHarness(t *testing.T, st mfaSetup) *mfaHarness {
	t.Helper()
	m := &mfaHarness{mfa: multifactorauth.New(st.mfa), events: &recipetest.Events{},
		tp: thirdparty.New(thirdparty.Config{Providers: []thirdparty.Provider{{ID: "acme", Name: "Acme",
			AuthURL: "https://idp.invalid/auth", TokenURL: "https://idp.invalid/token", UserInfoURL: "https://idp.invalid/userinfo",
			Clients: []thirdparty.Client{{ClientID: "c", ClientSecret: "s"}}}}})}
	recipes := []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), m.tp, m.mfa}
	if st.ev {
		recipes = append(recipes, emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional}))
	}
	if st.roles != nil {
		recipes = append(recipes, st.roles)
	}
	if st.tenants != nil {
		recipes = append(recipes, st.tenants)
	}
	limits := st.limits
	if limits == nil {
		g := recipetest.GenerousLimits()
		limits = &g
	}
	m.harness = newHarnessWith(t, harnessOpts{rateLimit: limits, recipes: recipes, onEvent: m.events.Hook, noAnyTenant: st.tenants != nil, cfg: func(c *Config) {
		c.ContactMethod = ContactEmailOrPhone
		if st.pl != nil {
			st.pl(c)
		}
	}})
	m.r.POST("/login", recipetest.Login(m.auth, "thirdparty"))
	return m
}

// session is a frontend holding a session in header mode.
type session struct {
	h  *mfaHarness
	cl *ginauthtest.Client
}

func (m *mfaHarness) client() *session {
	return &session{h: m, cl: &ginauthtest.Client{Handler: m.r, RID: "passwordless"}}
}

// signUp signs up with e-mail and password and returns the session.
func (m *mfaHarness) signUp(email string) (*session, string) {
	m.t.Helper()
	s := m.client()
	return s, recipetest.SignUpWithPassword(m.t, s.cl, email)
}

func (m *mfaHarness) signIn(email string) *session {
	m.t.Helper()
	s := m.client()
	recipetest.SignInWithPassword(m.t, s.cl, email)
	return s
}

func (s *session) do(method, path string, body any) *resp {
	s.h.t.Helper()
	r := s.cl.Do(method, path, body)
	return &resp{r.ResponseRecorder, r.JSON}
}

// mfaClaim returns st-mfa from the front token: completed factors and v.
func (s *session) mfaClaim() (map[string]any, bool) {
	s.h.t.Helper()
	v, _ := s.cl.FrontPayload(s.h.t)[multifactorauth.ClaimKey].(map[string]any)
	c, _ := v["c"].(map[string]any)
	ok, _ := v["v"].(bool)
	return c, ok
}

// createCode asks for a second-factor code to a contact.
func (s *session) createCode(contact map[string]any) (*resp, device) {
	s.h.t.Helper()
	body := map[string]any{"shouldTryLinkingWithSessionUser": true}
	for k, v := range contact {
		body[k] = v
	}
	r := s.do("POST", "/auth/signinup/code", body)
	return r, device{deviceID: str(r, "deviceId"), pre: str(r, "preAuthSessionId")}
}

func (s *session) consume(d device, code string) *resp {
	s.h.t.Helper()
	return s.do("POST", "/auth/signinup/code/consume", map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID,
		"userInputCode": code, "shouldTryLinkingWithSessionUser": true})
}

func (s *session) info() *resp {
	s.h.t.Helper()
	r := s.do("PUT", "/auth/mfa/info", "{}")
	expectStatus(s.h.t, r, "OK")
	return r
}

func list(r *resp, path ...string) []string {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (m *mfaHarness) sessions() int64 { return m.count(&models.Session{}) }

// TestOTPEmailSecondFactorSetUpThenComplete: a user who signed up with
// e-mail and password and must complete otp-email sets it up with a code
// to their address, in the same session (same user, same session row, st-mfa
// c["otp-email"] set, v true, no new session); the address becomes their
// passwordless login method, and a later password sign-in completes
// otp-email with a code to it.
func TestOTPEmailSecondFactorSetUpThenComplete(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{ev: true, mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	s, uid := m.signUp("ada@example.com")
	if c, v := s.mfaClaim(); v || c["emailpassword"] == nil {
		t.Fatalf("after sign-up st-mfa c=%v v=%v; want emailpassword completed, v false", c, v)
	}
	if r := s.do("GET", "/me", ""); r.Code != 403 {
		t.Fatalf("/me before the second factor: %d", r.Code)
	}
	info := s.info()
	if next := list(info, "factors", "next"); !slices.Equal(next, []string{FactorOTPEmail}) {
		t.Fatalf("next = %v", next)
	}
	// Only what the requirement asks for next may be set up before it is met.
	if al := list(info, "factors", "allowedToSetup"); !slices.Equal(al, []string{FactorOTPEmail}) {
		t.Fatalf("allowedToSetup = %v", al)
	}
	if em := list(info, "emails", FactorOTPEmail); !slices.Equal(em, []string{"ada@example.com"}) {
		t.Fatalf("emails = %v", info.body["emails"])
	}
	sessionsBefore := m.sessions()

	r, d := s.createCode(map[string]any{"email": "ada@example.com"})
	expectStatus(t, r, "OK")
	if str(r, "flowType") != string(FlowUserInputCode) {
		t.Fatalf("flowType %q; a second factor sends a code only", str(r, "flowType"))
	}
	mail := m.waitMail()
	code, link := codeFrom(t, mail)
	if code == "" || link != "" {
		t.Fatalf("second-factor e-mail: code %q link %q; want a code and no link", code, link)
	}
	r = s.consume(d, code)
	expectStatus(t, r, "OK")
	if r.body["createdNewRecipeUser"] != true {
		t.Fatalf("set-up: createdNewRecipeUser = %v", r.body["createdNewRecipeUser"])
	}
	if u, _ := r.body["user"].(map[string]any); u["id"] != uid {
		t.Fatalf("user %v, want the session user %s", u["id"], uid)
	}
	c, v := s.mfaClaim()
	if !v || c[FactorOTPEmail] == nil || c["emailpassword"] == nil {
		t.Fatalf("st-mfa after the code: c=%v v=%v", c, v)
	}
	if got := m.sessions(); got != sessionsBefore {
		t.Fatalf("%d sessions, want %d: the code must not start a session", got, sessionsBefore)
	}
	if r := s.do("GET", "/me", ""); r.Code != 200 || str(r, "userId") != uid {
		t.Fatalf("/me after the second factor: %d %s", r.Code, r.Body)
	}
	u, err := m.auth.GetUser(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, lm := range u.LoginMethods {
		methods = append(methods, lm.RecipeID+":"+lm.Email)
	}
	if !slices.Contains(methods, "passwordless:ada@example.com") || !slices.Contains(methods, "emailpassword:ada@example.com") {
		t.Fatalf("login methods %v; want the address as a passwordless login method too", methods)
	}

	// A later sign-in: otp-email is set up, and its code completes it.
	s2 := m.signIn("ada@example.com")
	if _, v := s2.mfaClaim(); v {
		t.Fatal("a new password session must need the second factor again")
	}
	info = s2.info()
	if al := list(info, "factors", "alreadySetup"); !slices.Contains(al, FactorOTPEmail) {
		t.Fatalf("alreadySetup = %v", al)
	}
	r, d = s2.createCode(map[string]any{"email": "Ada@Example.com "})
	expectStatus(t, r, "OK")
	code, _ = codeFrom(t, m.waitMail())
	before := m.sessions()
	r = s2.consume(d, code)
	expectStatus(t, r, "OK")
	if r.body["createdNewRecipeUser"] != false {
		t.Fatalf("completion: createdNewRecipeUser = %v", r.body["createdNewRecipeUser"])
	}
	if _, v := s2.mfaClaim(); !v || m.sessions() != before {
		t.Fatalf("v=%v sessions %d→%d", v, before, m.sessions())
	}
	// A proven address is verified for the session user.
	ev, _ := kit.Find[*emailverification.Recipe](m.auth, "emailverification")
	if ok, err := ev.IsVerified(context.Background(), uid, "ada@example.com"); err != nil || !ok {
		t.Fatalf("verified = %v, %v", ok, err)
	}
}

// TestSecondFactorCodeRefusals covers who may use a code in a session.
func TestSecondFactorCodeRefusals(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	// Without a session the flag is refused (SuperTokens: UNAUTHORISED
	// "Session not found but shouldTryLinkingWithSessionUser is true").
	if r, _ := m.client().createCode(map[string]any{"email": "x@example.com"}); r.Code != 401 {
		t.Fatalf("flag without a session: %d %s", r.Code, r.Body)
	}

	// Another user's contact: the code is sent (the answer does not say
	// whose the address is), but consuming it is refused and changes
	// nothing in the session.
	bob := m.start("", map[string]any{"email": "bob@example.com"})
	bc, _ := codeFrom(t, m.waitMail())
	expectStatus(t, m.consumeCode(bob, bc), "OK")
	s, uid := m.signUp("ada@example.com")
	sessions := m.sessions()
	r, d := s.createCode(map[string]any{"email": "bob@example.com"})
	expectStatus(t, r, "OK")
	code, _ := codeFrom(t, m.waitMail())
	r = s.consume(d, code)
	expectStatus(t, r, StatusSignInUpNotAllowed)
	if str(r, "reason") != ReasonContactOfAnotherUser {
		t.Fatalf("reason %q", str(r, "reason"))
	}
	if c, v := s.mfaClaim(); v || c[FactorOTPEmail] != nil || m.sessions() != sessions {
		t.Fatalf("refused code changed the session: c=%v v=%v", c, v)
	}
	if row, err := m.pl.findUser(context.Background(), "public", Contact{Email: "bob@example.com"}); err != nil || row.UserID == uid {
		t.Fatalf("bob's login method: %v %v", row, err)
	}

	// Set up otp-email on ada's address; a new password session may then
	// not set up another address (a stolen password must not be enough to
	// enrol the thief's contact): 403 invalid claim, nothing sent.
	r, d = s.createCode(map[string]any{"email": "ada@example.com"})
	expectStatus(t, r, "OK")
	code, _ = codeFrom(t, m.waitMail())
	expectStatus(t, s.consume(d, code), "OK")
	s2 := m.signIn("ada@example.com")
	r, _ = s2.createCode(map[string]any{"email": "eve@example.com"})
	if r.Code != 403 || !strings.Contains(r.Body.String(), "st-mfa") {
		t.Fatalf("set-up before completing the set-up factor: %d %s", r.Code, r.Body)
	}
	if len(m.mail.ch) != 0 {
		t.Fatal("a refused set-up sent a code")
	}
	// With v true (ada's first session), another address is still refused:
	// the account has one address for codes.
	r, _ = s.createCode(map[string]any{"email": "eve@example.com"})
	expectStatus(t, r, StatusSignInUpNotAllowed)
	if str(r, "reason") != ReasonContactTaken || len(m.mail.ch) != 0 {
		t.Fatalf("second address: %s", r.Body)
	}

	// shouldTryLinkingWithSessionUser false with a session is a sign-in
	// (SuperTokens' checkAuthTypeAndLinkingStatus: a first factor): a new
	// session for the contact's user.
	r = s2.do("POST", "/auth/signinup/code", map[string]any{"email": "bob@example.com", "shouldTryLinkingWithSessionUser": false})
	expectStatus(t, r, "OK")
	code, _ = codeFrom(t, m.waitMail())
	before := m.sessions()
	r = s2.do("POST", "/auth/signinup/code/consume", map[string]any{"preAuthSessionId": str(r, "preAuthSessionId"),
		"deviceId": str(r, "deviceId"), "userInputCode": code, "shouldTryLinkingWithSessionUser": false})
	expectStatus(t, r, "OK")
	if m.sessions() != before+1 || m.lastFactor() != FactorOTPEmail {
		t.Fatalf("flag false: sessions %d→%d", before, m.sessions())
	}
	if u, _ := r.body["user"].(map[string]any); u["id"] == uid {
		t.Fatal("flag false signed in as the session user")
	}
}

// TestSecondFactorRevokedSessionWritesNothing: a session revoked between
// sending and consuming the code gets 401, and the code is not used up and
// no contact is stored (the code, the contact and st-mfa are written in
// one transaction that confirms the session).
func TestSecondFactorRevokedSessionWritesNothing(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPPhone}}})
	s, uid := m.signUp("ada@example.com")
	r, d := s.createCode(map[string]any{"phoneNumber": "+14155550100"})
	expectStatus(t, r, "OK")
	sms := m.waitSMS()
	if sms.Link != "" || sms.Code == "" {
		t.Fatalf("second-factor SMS: %+v", sms)
	}
	if _, err := m.auth.RevokeAllSessions(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if r := s.consume(d, sms.Code); r.Code != 401 {
		t.Fatalf("revoked session: %d %s", r.Code, r.Body)
	}
	if n := m.count(&models.PasswordlessCode{}); n != 1 {
		t.Fatalf("%d codes left, want the unused one", n)
	}
	if n := m.count(&models.PasswordlessUser{}); n != 0 {
		t.Fatalf("%d passwordless rows: the phone must not be stored", n)
	}
}

// adminsNeedOTPPhone is the per-user requirement of the SMS tests: users
// with the role "admin" must complete otp-phone.
func adminsNeedOTPPhone(roles *userroles.Recipe) func(ctx context.Context, userID, tenantID string) ([]string, error) {
	return func(ctx context.Context, userID, tenantID string) ([]string, error) {
		rs, err := roles.GetRolesForUser(ctx, tenantID, userID)
		if err != nil || !slices.Contains(rs, "admin") {
			return nil, err
		}
		return []string{FactorOTPPhone}, nil
	}
}

// TestSMSCodeSecondFactorFlow is the documented SMS 2FA flow end to end:
// "otp-phone for admins"; a third-party admin signs in, enrols a phone with
// an SMS code through the SMSSender, later signs in again and completes
// otp-phone with a code to the phone on record. Wrong codes count against
// the device (failedCodeInputAttemptCount / maximumCodeInputAttempts), the
// last allowed one ends it (RESTART_FLOW_ERROR, as SuperTokens'
// consumeCode), a resend adds a code that works, and a non-admin needs no
// second factor.
func TestSMSCodeSecondFactorFlow(t *testing.T) {
	ctx := context.Background()
	roles := userroles.New()
	m := newMFAHarness(t, mfaSetup{roles: roles, pl: func(c *Config) { c.MaxCodeInputAttempts = 3 },
		mfa: multifactorauth.Config{RequiredSecondaryFactors: adminsNeedOTPPhone(roles)}})
	admin, _, err := m.tp.SignInUp(ctx, "public", "acme", "admin-1", "root@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := roles.AddRoleToUser(ctx, "public", admin.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	login := func(uid string) *session {
		s := m.client()
		if r := s.do("POST", "/login?user="+uid, ""); r.Code != 200 {
			t.Fatalf("login: %d %s", r.Code, r.Body)
		}
		return s
	}
	// A non-admin (e-mail and password) is done after the first factor.
	if plain, _ := m.signUp("plain@example.com"); !func() bool { _, v := plain.mfaClaim(); return v }() {
		t.Fatal("a non-admin must not need otp-phone")
	}

	s := login(admin.ID)
	if c, v := s.mfaClaim(); v || c["thirdparty"] == nil {
		t.Fatalf("admin after third-party sign-in: c=%v v=%v", c, v)
	}
	info := s.info()
	if next := list(info, "factors", "next"); !slices.Equal(next, []string{FactorOTPPhone}) {
		t.Fatalf("next = %v", next)
	}
	if ph := list(info, "phoneNumbers", FactorOTPPhone); len(ph) != 0 {
		t.Fatalf("phoneNumbers before set-up = %v", ph)
	}
	r, d := s.createCode(map[string]any{"phoneNumber": "+1 415 555 0100"})
	expectStatus(t, r, "OK")
	first := m.waitSMS()
	if first.To != "+14155550100" || first.Code == "" || first.Link != "" || !strings.Contains(first.Body, first.Code) {
		t.Fatalf("SMS %+v body %q", first, first.Body)
	}
	// Two wrong codes count; the third (the limit) ends the device.
	for i := 1; i <= 2; i++ {
		r := s.consume(d, wrongCode(first.Code))
		expectStatus(t, r, StatusIncorrectCode)
		if num(r, "failedCodeInputAttemptCount") != i || num(r, "maximumCodeInputAttempts") != 3 {
			t.Fatalf("attempt %d: %s", i, r.Body)
		}
	}
	expectStatus(t, s.consume(d, wrongCode(first.Code)), StatusRestartFlow)
	expectStatus(t, s.consume(d, first.Code), StatusRestartFlow) // the device is gone, its code too
	if _, v := s.mfaClaim(); v {
		t.Fatal("wrong codes completed the factor")
	}
	// Start again; a resend adds a code, which works (with the session).
	r, d = s.createCode(map[string]any{"phoneNumber": "+14155550100"})
	expectStatus(t, r, "OK")
	m.waitSMS()
	expectStatus(t, s.do("POST", "/auth/signinup/code/resend", map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID,
		"shouldTryLinkingWithSessionUser": true}), "OK")
	resent := m.waitSMS()
	if resent.Link != "" {
		t.Fatal("a second-factor resend sent a link")
	}
	expectStatus(t, s.consume(d, resent.Code), "OK")
	if c, v := s.mfaClaim(); !v || c[FactorOTPPhone] == nil {
		t.Fatalf("after the SMS code: c=%v v=%v", c, v)
	}
	u, err := m.auth.GetUser(ctx, admin.ID)
	if err != nil || !slices.Contains(u.PhoneNumbers, "+14155550100") {
		t.Fatalf("user %+v, %v: the phone must be on record", u, err)
	}

	// Next sign-in: the code goes to the phone on record.
	s = login(admin.ID)
	info = s.info()
	if ph := list(info, "phoneNumbers", FactorOTPPhone); !slices.Equal(ph, []string{"+14155550100"}) {
		t.Fatalf("phoneNumbers = %v", ph)
	}
	if al := list(info, "factors", "alreadySetup"); !slices.Contains(al, FactorOTPPhone) {
		t.Fatalf("alreadySetup = %v", al)
	}
	// Before completing it, another phone cannot be set up.
	if r, _ := s.createCode(map[string]any{"phoneNumber": "+14155550199"}); r.Code != 403 {
		t.Fatalf("second phone before completion: %d %s", r.Code, r.Body)
	}
	r, d = s.createCode(map[string]any{"phoneNumber": "+14155550100"})
	expectStatus(t, r, "OK")
	r = s.consume(d, m.waitSMS().Code)
	expectStatus(t, r, "OK")
	if r.body["createdNewRecipeUser"] != false {
		t.Fatalf("completion: %s", r.Body)
	}
	if _, v := s.mfaClaim(); !v {
		t.Fatal("otp-phone not completed")
	}
}

// TestSecondFactorCodeBursts: 20 wrong codes at once against one device
// use exactly the device's allowed attempts (the counter is one UPDATE in
// the checking transaction), and 20 consumes of the right code at once
// complete the factor exactly once, in the same session, and never start
// another.
func TestSecondFactorCodeBursts(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	s, _ := m.signUp("ada@example.com")
	_, d := s.createCode(map[string]any{"email": "ada@example.com"})
	code, _ := codeFrom(t, m.waitMail())
	clone := func() *session {
		c := *s.cl
		return &session{h: m, cl: &c}
	}
	statuses := map[string]int{}
	counts := map[int]bool{}
	var mu sync.Mutex
	ginauthtest.Burst(20, func(int) {
		r := clone().consume(d, wrongCode(code))
		mu.Lock()
		defer mu.Unlock()
		statuses[status(r)]++
		if status(r) == StatusIncorrectCode {
			counts[num(r, "failedCodeInputAttemptCount")] = true
		}
	})
	max := DefaultMaxCodeInputAttempts
	if statuses[StatusIncorrectCode] != max-1 || len(counts) != max-1 || statuses[StatusRestartFlow] != 20-(max-1) {
		t.Fatalf("answers %v, counts %v; want %d distinct wrong-code answers, the rest RESTART_FLOW_ERROR", statuses, counts, max-1)
	}
	locked := 0
	for _, e := range m.events.OfType(ginauth.EventSignInFailed) {
		if strings.Contains(e.Detail, "device revoked") {
			locked++
		}
	}
	if locked != 1 || m.count(&models.PasswordlessDevice{}) != 0 {
		t.Fatalf("%d lockouts, %d devices; want the device ended once", locked, m.count(&models.PasswordlessDevice{}))
	}

	_, d = s.createCode(map[string]any{"email": "ada@example.com"})
	code, _ = codeFrom(t, m.waitMail())
	sessions, created := m.sessions(), len(m.factors)
	var ok []*session
	ginauthtest.Burst(20, func(int) {
		c := clone()
		r := c.consume(d, code)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case status(r) == "OK":
			ok = append(ok, c)
		case status(r) == StatusRestartFlow, status(r) == StatusSignInUpNotAllowed, r.Code == 403:
			// The code is gone, or (for a request that read the user
			// after the winner stored the address) the set-up is refused.
		default:
			t.Errorf("burst answer %d %s", r.Code, r.Body)
		}
	})
	if len(ok) != 1 {
		t.Fatalf("%d consumes succeeded, want exactly 1", len(ok))
	}
	if c, v := ok[0].mfaClaim(); !v || c[FactorOTPEmail] == nil {
		t.Fatalf("winner's st-mfa c=%v v=%v", c, v)
	}
	if m.sessions() != sessions || len(m.factors) != created {
		t.Fatalf("sessions %d→%d, created %d→%d: a code must never start a session", sessions, m.sessions(), created, len(m.factors))
	}
	if n := m.count(&models.PasswordlessUser{}); n != 1 {
		t.Fatalf("%d passwordless rows, want the one set-up", n)
	}
}

// TestOTPPhoneRequiredPerTenant: the multitenancy recipe's per-tenant
// RequiredSecondaryFactors make otp-phone required in one tenant and not in
// another; in the tenant that asks, PUT /mfa/info offers it and an SMS code
// set up in that tenant's session completes it.
func TestOTPPhoneRequiredPerTenant(t *testing.T) {
	ctx := context.Background()
	mt := multitenancy.New()
	m := newMFAHarness(t, mfaSetup{tenants: mt, mfa: multifactorauth.Config{RequiredSecondaryFactors: mt.RequiredSecondaryFactors}})
	if _, err := mt.CreateOrUpdateTenant(ctx, "bank", multitenancy.TenantConfig{RequiredSecondaryFactors: []string{FactorOTPPhone}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mt.CreateOrUpdateTenant(ctx, "shop", multitenancy.TenantConfig{}); err != nil {
		t.Fatal(err)
	}
	signUp := func(tenant string) *session {
		s := m.client()
		r := s.cl.Do("POST", "/auth/"+tenant+"/signup", ginauthtest.Form("email", "ada@example.com", "password", recipetest.Password), "rid", "emailpassword")
		if r.Status() != "OK" {
			t.Fatalf("sign-up in %s: %d %s", tenant, r.Code, r.Body)
		}
		return s
	}
	if _, v := signUp("shop").mfaClaim(); !v {
		t.Fatal("shop requires no second factor")
	}
	s := signUp("bank")
	if _, v := s.mfaClaim(); v {
		t.Fatal("bank requires otp-phone")
	}
	info := s.do("PUT", "/auth/bank/mfa/info", "{}")
	expectStatus(t, info, "OK")
	if next := list(info, "factors", "next"); !slices.Equal(next, []string{FactorOTPPhone}) {
		t.Fatalf("next = %v", next)
	}
	r := s.do("POST", "/auth/bank/signinup/code", map[string]any{"phoneNumber": "+14155550100", "shouldTryLinkingWithSessionUser": true})
	expectStatus(t, r, "OK")
	r = s.do("POST", "/auth/bank/signinup/code/consume", map[string]any{"preAuthSessionId": str(r, "preAuthSessionId"),
		"deviceId": str(r, "deviceId"), "userInputCode": m.waitSMS().Code, "shouldTryLinkingWithSessionUser": true})
	expectStatus(t, r, "OK")
	if c, v := s.mfaClaim(); !v || c[FactorOTPPhone] == nil {
		t.Fatalf("st-mfa c=%v v=%v", c, v)
	}
	if _, err := m.pl.GetUserByPhoneNumber(ctx, "bank", "+14155550100"); err != nil {
		t.Fatalf("the phone is on record in the bank tenant: %v", err)
	}
}

// TestSecondFactorWithoutMFARecipe: without the multifactorauth recipe a
// code with the flag still goes to the session's user (the contact is
// stored on them) and starts no session; there is no claim to update.
func TestSecondFactorWithoutMFARecipe(t *testing.T) {
	g := recipetest.GenerousLimits()
	h := newHarnessWith(t, harnessOpts{rateLimit: &g, recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{})}})
	m := &mfaHarness{harness: h}
	s, uid := m.signUp("ada@example.com")
	r, d := s.createCode(map[string]any{"email": "ada@example.com"})
	expectStatus(t, r, "OK")
	code, _ := codeFrom(t, m.waitMail())
	before := m.sessions()
	r = s.consume(d, code)
	expectStatus(t, r, "OK")
	if u, _ := r.body["user"].(map[string]any); u["id"] != uid || m.sessions() != before {
		t.Fatalf("user %v, sessions %d→%d", u["id"], before, m.sessions())
	}
	if row, err := m.pl.findUser(context.Background(), "public", Contact{Email: "ada@example.com"}); err != nil || row.UserID != uid {
		t.Fatalf("row %v, %v", row, err)
	}
	// The address set up next to a password is a required second factor
	// for RequiredSecondaryFactors; a user who signs in only with codes
	// has none.
	if got, err := m.pl.RequiredSecondaryFactors(context.Background(), uid, "public"); err != nil ||
		!slices.Equal(got, []string{FactorOTPEmail, FactorLinkEmail}) {
		t.Fatalf("RequiredSecondaryFactors = %v, %v", got, err)
	}
	res, err := m.pl.SignInUp(context.Background(), "", Contact{Email: "codes@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.pl.RequiredSecondaryFactors(context.Background(), res.User.ID, "public"); err != nil || got != nil {
		t.Fatalf("codes-only user: %v, %v", got, err)
	}
}
