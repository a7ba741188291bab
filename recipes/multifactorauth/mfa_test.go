package multifactorauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
	"github.com/ginauth/ginauth/recipes/kit"
	mfa "github.com/ginauth/ginauth/recipes/multifactorauth"
)

func init() { gin.SetMode(gin.TestMode) }

// fakeEmailPassword stands in for the emailpassword recipe: it gives every
// user with id "ep-*" an emailpassword login method.
type fakeEmailPassword struct{}

func (fakeEmailPassword) ID() string { return "emailpassword" }
func (fakeEmailPassword) Setup(reg *ginauth.Registrar) error {
	reg.AddLoginMethods(func(ctx context.Context, db *gorm.DB, userID string) ([]ginauth.LoginMethod, error) {
		return []ginauth.LoginMethod{{RecipeID: "emailpassword", RecipeUserID: userID, Email: "me@example.com"}}, nil
	})
	return nil
}

type harness struct {
	t      *testing.T
	auth   *ginauth.Auth
	mfa    *mfa.Recipe
	clock  *ginauthtest.Clock
	r      *gin.Engine
	events *recipetest.Events
}

// newHarness raises the rate limits out of the tests' way; the tests of
// the limits use newHarnessLimits with ginauth's defaults.
func newHarness(t *testing.T, cfg mfa.Config, extra ...ginauth.Recipe) *harness {
	t.Helper()
	return newHarnessLimits(t, cfg, recipetest.GenerousLimits(), extra...)
}

func newHarnessLimits(t *testing.T, cfg mfa.Config, limits ginauth.RateLimitConfig, extra ...ginauth.Recipe) *harness {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	clk := ginauthtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	h := &harness{t: t, mfa: mfa.New(cfg), clock: clk, events: &recipetest.Events{}}
	a, err := ginauth.New(ginauth.Config{
		DB:        db,
		AppInfo:   ginauth.AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Now:       clk.Now,
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		Recipes:   append([]ginauth.Recipe{h.mfa}, extra...),
		RateLimit: limits,
		Hooks:     ginauth.Hooks{OnEvent: h.events.Hook},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	h.r = gin.New()
	h.r.Use(a.Middleware())
	h.r.POST("/login", recipetest.Login(a, ""))
	// A stand-in second factor: completes ?factor= in the session.
	h.r.POST("/complete", a.VerifySession(ginauth.VerifyOptions{SkipClaims: true}), func(c *gin.Context) {
		if err := h.mfa.MarkFactorCompleted(c.Request.Context(), ginauth.MustSession(c), c.Query("factor")); err != nil {
			kit.Of(a).WriteError(c, err)
			return
		}
		c.JSON(200, gin.H{"status": "OK"})
	})
	h.r.POST("/drop-claim", a.VerifySession(ginauth.VerifyOptions{SkipClaims: true}), func(c *gin.Context) {
		if err := ginauth.MustSession(c).RemoveClaim(c.Request.Context(), h.mfa.Claim()); err != nil {
			kit.Of(a).WriteError(c, err)
			return
		}
		c.JSON(200, gin.H{})
	})
	h.r.GET("/secret", a.VerifySession(), func(c *gin.Context) { c.JSON(200, gin.H{}) })
	h.r.GET("/totp-only", a.VerifySession(ginauth.VerifyOptions{SkipClaims: true}),
		a.RequireClaim(h.mfa.Claim().HasCompletedFactors(mfa.Factor("totp"))), func(c *gin.Context) { c.JSON(200, gin.H{}) })
	return h
}

// client keeps a frontend's tokens in header mode.
type client struct {
	h *harness
	c *ginauthtest.Client
}

type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

// client returns a frontend without a session.
func (h *harness) client() *client {
	return &client{h: h, c: &ginauthtest.Client{Handler: h.r, RID: "multifactorauth"}}
}

func (h *harness) login(user, factor string) *client {
	h.t.Helper()
	cl := h.client()
	if r := cl.do("POST", "/login?user="+user+"&factor="+factor, ""); r.Code != 200 {
		h.t.Fatalf("login: %d %s", r.Code, r.Body)
	}
	return cl
}

func (cl *client) do(method, path, body string) *resp {
	cl.h.t.Helper()
	r := cl.c.Do(method, path, body)
	return &resp{r.ResponseRecorder, r.JSON}
}

// value returns st-mfa as the frontend reads it from the front token.
func (cl *client) value() (mfa.Value, bool) {
	cl.h.t.Helper()
	return mfa.GetValue(cl.c.FrontPayload(cl.h.t))
}

func code(t *testing.T, r *resp, want int) {
	t.Helper()
	if r.Code != want {
		t.Fatalf("got %d %s, want %d", r.Code, r.Body, want)
	}
}

func TestSessionCreation(t *testing.T) {
	t.Run("first factor recorded in seconds", func(t *testing.T) {
		h := newHarness(t, mfa.Config{})
		cl := h.login("u1", "emailpassword")
		v, ok := cl.value()
		if !ok || !v.Satisfied || v.Completed["emailpassword"] != h.clock.Now().Unix() || len(v.Completed) != 1 {
			t.Fatalf("st-mfa %+v %v", v, ok)
		}
		code(t, cl.do("GET", "/secret", ""), 200)
	})
	t.Run("no factor, nothing recorded", func(t *testing.T) {
		h := newHarness(t, mfa.Config{RequireFactors: []string{"totp"}})
		cl := h.login("u1", "")
		v, ok := cl.value()
		if !ok || v.Satisfied || len(v.Completed) != 0 {
			t.Fatalf("st-mfa %+v %v", v, ok)
		}
		code(t, cl.do("GET", "/secret", ""), 403)
	})
	t.Run("disallowed first factor", func(t *testing.T) {
		h := newHarness(t, mfa.Config{FirstFactors: []string{"emailpassword"}})
		r := h.client().do("POST", "/login?user=u1&factor=thirdparty", "")
		code(t, r, 403)
		if !strings.Contains(r.Body.String(), "cannot be used to sign in") {
			t.Fatal(r.Body)
		}
		h.login("u1", "emailpassword")
	})
}

func TestMarkFactorCompletedUpgradesInPlace(t *testing.T) {
	h := newHarness(t, mfa.Config{RequireFactors: []string{"otp-email", "totp"}})
	cl := h.login("u1", "emailpassword")
	r := cl.do("GET", "/secret", "")
	code(t, r, 403)
	want := `{"claimValidationErrors":[{"id":"st-mfa","reason":{"completedFactors":["emailpassword"],"message":"not all required factors are completed"}}],"message":"invalid claim"}`
	if r.Body.String() != want {
		t.Fatalf("403 body %s", r.Body)
	}
	access := cl.c.Access
	h.clock.Advance(time.Minute)
	r = cl.do("POST", "/complete?factor=otp-email", "")
	code(t, r, 200)
	if cl.c.Access == access || r.Header().Get("front-token") == "" || r.Header().Get("st-refresh-token") != "" {
		t.Fatalf("no new access token alone: %v", r.Header())
	}
	v, _ := cl.value()
	if !v.Satisfied || v.Completed["otp-email"] != h.clock.Now().Unix() {
		t.Fatalf("st-mfa %+v", v)
	}
	code(t, cl.do("GET", "/secret", ""), 200)
	code(t, cl.do("GET", "/totp-only", ""), 403) // satisfied, yet no TOTP
	cl.do("POST", "/complete?factor=recovery-code", "")
	code(t, cl.do("GET", "/totp-only", ""), 200) // a recovery code stands in for TOTP

	// The payload is stored: a refresh keeps it.
	info, err := h.auth.ListSessions(context.Background(), "u1")
	if err != nil || len(info) != 1 {
		t.Fatal(err)
	}
	if v, _ := mfa.GetValue(info[0].AccessTokenPayload); !v.Satisfied {
		t.Fatalf("stored %+v", v)
	}
}

func TestRefetchWhenMissing(t *testing.T) {
	h := newHarness(t, mfa.Config{})
	cl := h.login("u1", "emailpassword")
	code(t, cl.do("POST", "/drop-claim", ""), 200)
	if _, ok := cl.value(); ok {
		t.Fatal("claim still there")
	}
	r := cl.do("GET", "/secret", "")
	code(t, r, 200)
	v, ok := cl.value()
	if !ok || !v.Satisfied || len(v.Completed) != 0 || r.Header().Get("front-token") == "" {
		t.Fatalf("refetched %+v %v", v, ok)
	}
}

func TestRequirementsHook(t *testing.T) {
	h := newHarness(t, mfa.Config{
		Requirements: func(ctx context.Context, in mfa.RequirementsInput) ([]mfa.Requirement, error) {
			return []mfa.Requirement{mfa.AllOf("otp-email", "totp")}, nil
		},
	})
	cl := h.login("u1", "emailpassword")
	cl.do("POST", "/complete?factor=otp-email", "")
	code(t, cl.do("GET", "/secret", ""), 403)
	cl.do("POST", "/complete?factor=totp", "")
	code(t, cl.do("GET", "/secret", ""), 200)
}

func TestInfo(t *testing.T) {
	h := newHarness(t, mfa.Config{RequireFactors: []string{"totp"}}, fakeEmailPassword{})
	if err := h.mfa.RegisterFactor("totp", func(ctx context.Context, userID string) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	uid, _, err := kit.Of(h.auth).CreateUser(context.Background(), kit.Of(h.auth).DB(), "")
	if err != nil {
		t.Fatal(err)
	}
	cl := h.login(uid, "emailpassword")
	r := cl.do("PUT", "/auth/mfa/info", "{}")
	code(t, r, 200)
	want := `{"status":"OK","factors":{"alreadySetup":["emailpassword"],"allowedToSetup":["totp"],"next":["totp"]},"emails":{"emailpassword":["me@example.com"]},"phoneNumbers":{}}`
	if r.Body.String() != want {
		t.Fatalf("info\n got %s\nwant %s", r.Body, want)
	}
	if r.Header().Get("front-token") != "" {
		t.Fatal("unchanged claim, yet a new token")
	}
	// Requirements changed since sign-in: PUT /mfa/info brings v up to date.
	var mu sync.Mutex
	required := map[string]bool{}
	h2 := newHarness(t, mfa.Config{RequiredSecondaryFactors: func(ctx context.Context, userID, tenantID string) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		if required[userID] {
			return []string{"totp"}, nil
		}
		return nil, nil
	}})
	cl = h2.login("u1", "emailpassword")
	code(t, cl.do("GET", "/secret", ""), 200)
	mu.Lock()
	required["u1"] = true
	mu.Unlock()
	r = cl.do("PUT", "/auth/mfa/info", "")
	code(t, r, 200)
	if v, _ := cl.value(); v.Satisfied || r.Header().Get("front-token") == "" {
		t.Fatalf("st-mfa not refreshed: %+v", v)
	}
	code(t, cl.do("GET", "/secret", ""), 403)
	code(t, cl.do("PUT", "/auth/mfa/info", `[1]`), 400)
	code(t, h2.client().do("PUT", "/auth/mfa/info", ""), 401)
}

func TestRecoveryCodesGoAPI(t *testing.T) {
	h := newHarness(t, mfa.Config{RequireFactors: []string{"totp"}, RecoveryCodes: mfa.RecoveryCodeConfig{Count: 3, MaxFailedAttempts: 2}})
	ctx := context.Background()
	codes, err := h.mfa.GenerateRecoveryCodes(ctx, "u1")
	if err != nil || len(codes) != 3 {
		t.Fatal(codes, err)
	}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 {
			t.Fatalf("code %q", c)
		}
	}
	// Case, separators and look-alike letters do not matter.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
	if err := h.mfa.ConsumeRecoveryCode(ctx, "u1", typed); err != nil {
		t.Fatal(err)
	}
	if err := h.mfa.ConsumeRecoveryCode(ctx, "u2", codes[1]); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("another user's code: %v", err)
	}
	if n, _ := h.mfa.RemainingRecoveryCodes(ctx, "u1"); n != 2 {
		t.Fatalf("remaining %d", n)
	}
	var inv *mfa.InvalidCodeError
	if err := h.mfa.ConsumeRecoveryCode(ctx, "u1", codes[0]); !errors.As(err, &inv) || inv.FailedAttempts != 1 {
		t.Fatalf("reuse: %v", err)
	}
	_ = h.mfa.ConsumeRecoveryCode(ctx, "u1", "nonsense")
	var lim *mfa.LimitReachedError
	if err := h.mfa.ConsumeRecoveryCode(ctx, "u1", codes[1]); !errors.As(err, &lim) || lim.RetryAfterMs() != (15*time.Minute).Milliseconds() {
		t.Fatalf("locked: %v", err)
	}
	h.clock.Advance(15 * time.Minute)
	if err := h.mfa.ConsumeRecoveryCode(ctx, "u1", codes[1]); err != nil {
		t.Fatal(err)
	}

	// The package-level functions use the instance the context carries,
	// never the default one: without it they fail with ErrNoInstance (a
	// 500 naming the fix).
	ginauth.SetDefault(h.auth)
	defer ginauth.SetDefault(nil)
	if _, err := mfa.GenerateRecoveryCodes(ctx, "u3"); !errors.Is(err, ginauth.ErrNoInstance) || !errors.Is(err, ginauth.ErrInternal) {
		t.Fatalf("without an instance in the context: %v", err)
	}
	if codes, err := mfa.GenerateRecoveryCodes(ginauth.NewContext(ctx, h.auth), "u3"); err != nil || len(codes) != 3 {
		t.Fatal(err)
	}
}

func TestValidatorsOnPayloads(t *testing.T) {
	var p claims.Payload
	if err := json.Unmarshal([]byte(`{"st-mfa":{"c":{"emailpassword":1767322000,"recovery-code":1767322100},"v":false}}`), &p); err != nil {
		t.Fatal(err)
	}
	v, ok := mfa.GetValue(p)
	if !ok || v.Satisfied || v.Completed["emailpassword"] != 1767322000 {
		t.Fatalf("%+v", v)
	}
	now := time.Now()
	c := mfa.New().Claim()
	cases := []struct {
		v    claims.Validator
		fail string
	}{
		{c.IsSatisfied(), "not all required factors are completed"},
		{c.HasCompletedFactors(mfa.Factor("emailpassword")), ""},
		{c.HasCompletedFactors(mfa.Factor("totp")), ""}, // the recovery code stands in
		{c.HasCompletedFactors(mfa.Factor("otp-email")), "factor validation failed"},
		{c.HasCompletedFactors(mfa.OneOf("otp-email", "link-email")), "none of the factors is completed"},
		{c.HasCompletedFactors(mfa.AllOf("emailpassword", "otp-email", "otp-phone")), "some factors are not completed"},
		{c.HasCompletedFactors(), ""},
	}
	for i, tc := range cases {
		errs := claims.Check(p, []claims.Validator{tc.v}, now)
		got := ""
		if len(errs) > 0 {
			got, _ = errs[0].Reason["message"].(string)
			if errs[0].ID != "st-mfa" {
				t.Fatalf("%d: id %q", i, errs[0].ID)
			}
		}
		if got != tc.fail {
			t.Fatalf("%d: got %q want %q (%v)", i, got, tc.fail, errs)
		}
	}
	if !c.IsSatisfied().ShouldRefetch(claims.Payload{}, now) || c.IsSatisfied().ShouldRefetch(p, now) {
		t.Fatal("refetch only when missing")
	}
	b, _ := json.Marshal(mfa.Value{Completed: map[string]int64{"totp": 5}, Satisfied: true}.Payload())
	if string(b) != `{"st-mfa":{"c":{"totp":5},"v":true}}` {
		t.Fatal(string(b))
	}
}

// TestCodeLimit: the lockout of one kind of code on the core limiter
// (SuperTokens core's Totp.checkAndStoreCode semantics: MaxAttempts wrong
// codes in a row lock the user until Lockout after the last one).
func TestCodeLimit(t *testing.T) {
	h := newHarness(t, mfa.Config{})
	k := kit.Of(h.auth)
	l := mfa.CodeLimit{Kind: "sms", MaxAttempts: 2, Lockout: time.Minute}
	ctx := context.Background()
	wrong := func() (bool, error) { return false, nil }
	right := func() (bool, error) { return true, nil }
	boom := errors.New("boom")
	var inv *mfa.InvalidCodeError
	if err := l.Attempt(ctx, k, "", "u", wrong); !errors.As(err, &inv) || inv.FailedAttempts != 1 || inv.MaxAttempts != 2 {
		t.Fatal(err)
	}
	if err := l.Attempt(ctx, k, "", "u", func() (bool, error) { return false, boom }); err != boom {
		t.Fatalf("check error: %v", err)
	}
	if err := l.Attempt(ctx, k, "", "u", right); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_ = l.Attempt(ctx, k, "", "u", wrong)
	}
	h.clock.Advance(59 * time.Second)
	var lim *mfa.LimitReachedError
	if err := l.Attempt(ctx, k, "", "u", right); !errors.As(err, &lim) || lim.RetryAfterMs() != 1000 {
		t.Fatalf("locked: %v", err)
	}
	if err := l.Attempt(ctx, k, "", "other", right); err != nil {
		t.Fatal(err)
	}
	if err := l.Attempt(ctx, k, "tenant2", "u", right); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
	if err := l.Reset(ctx, k, "", "u"); err != nil {
		t.Fatal(err)
	}
	if err := l.Attempt(ctx, k, "", "u", right); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	for i := 0; i < 2; i++ {
		_ = l.Attempt(ctx, k, "", "u", wrong)
	}
	h.clock.Advance(time.Minute)
	if err := l.Attempt(ctx, k, "", "u", right); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

// TestPackageValidatorUsesTheServingInstancesSubstitutes: the
// package-level HasCompletedFactors validator (one value for every
// instance) takes the recovery-code stand-in rule from the recipe of the
// instance serving the request (claims.Bind), not from another instance
// nor from "the recipe set up last".
func TestPackageValidatorUsesTheServingInstancesSubstitutes(t *testing.T) {
	withCodes := newHarness(t, mfa.Config{})
	withoutCodes := newHarness(t, mfa.Config{RecoveryCodes: mfa.RecoveryCodeConfig{Disabled: true}})
	var p claims.Payload
	if err := json.Unmarshal([]byte(`{"st-mfa":{"c":{"emailpassword":1767322000,"recovery-code":1767322100},"v":true}}`), &p); err != nil {
		t.Fatal(err)
	}
	v := mfa.HasCompletedFactors(mfa.Factor(mfa.FactorTOTP))
	check := func(h *harness) *claims.ValidationError {
		bound := claims.Bind(ginauth.NewContext(context.Background(), h.auth), []claims.Validator{v})
		return bound[0].Validate(p, time.Now())
	}
	if e := check(withCodes); e != nil {
		t.Fatalf("recovery code stands in for totp where codes are on: %+v", e)
	}
	if e := check(withoutCodes); e == nil {
		t.Fatal("recovery code stood in for totp in the instance where codes are disabled")
	}
}
