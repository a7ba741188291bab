package totp_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/totp"
)

// RFC 6238 appendix B.
func TestRFC6238Vectors(t *testing.T) {
	seed := "1234567890"
	keys := map[totp.Algorithm][]byte{
		totp.SHA1:   []byte(strings.Repeat(seed, 2)),
		totp.SHA256: []byte(strings.Repeat(seed, 3) + "12"),
		totp.SHA512: []byte(strings.Repeat(seed, 6) + "1234"),
	}
	vectors := []struct {
		unix                 int64
		sha1, sha256, sha512 string
	}{
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000, "65353130", "77737706", "47863826"},
	}
	for _, v := range vectors {
		for alg, want := range map[totp.Algorithm]string{totp.SHA1: v.sha1, totp.SHA256: v.sha256, totp.SHA512: v.sha512} {
			t.Run(fmt.Sprintf("%s/%d", alg, v.unix), func(t *testing.T) {
				got, err := totp.Code(keys[alg], time.Unix(v.unix, 0), totp.Params{Algorithm: alg, Digits: 8})
				if err != nil || got != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
			})
		}
	}
	// The 6-digit code is the last six digits of the 8-digit one.
	got, _ := totp.Code(keys[totp.SHA1], time.Unix(59, 0), totp.Params{})
	if got != "287082" {
		t.Fatalf("6 digits: %q", got)
	}
	if _, err := totp.Code(keys[totp.SHA1], time.Unix(59, 0), totp.Params{Algorithm: "MD5"}); err == nil {
		t.Fatal("MD5 accepted")
	}
}

func TestEnrolVerifyAndMFAClaim(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	cl := h.login("u1")
	if m := cl.mfa(); m["v"] != false || m["c"].(map[string]any)["emailpassword"] == nil {
		t.Fatalf("st-mfa after sign-in: %v", m)
	}
	if _, ok := cl.mfa()["t"]; ok {
		t.Fatal("st-mfa has a t field")
	}
	r := cl.do("GET", "/secret", "")
	code(t, r, 403)
	if errs := r.body["claimValidationErrors"].([]any); errs[0].(map[string]any)["id"] != "st-mfa" {
		t.Fatalf("403 body %s", r.Body)
	}

	// PUT /mfa/info, with and without a body.
	for _, body := range []string{"", "{}"} {
		r = cl.do("PUT", "/auth/mfa/info", body)
		status(t, r, "OK")
		f := r.body["factors"].(map[string]any)
		if fmt.Sprint(f["alreadySetup"], f["allowedToSetup"], f["next"]) != "[] [totp] [totp]" {
			t.Fatalf("factors %v", f)
		}
		if r.body["emails"] == nil || r.body["phoneNumbers"] == nil {
			t.Fatalf("info %s", r.Body)
		}
	}

	r = cl.do("POST", "/auth/totp/device", "{}")
	status(t, r, "OK")
	if r.body["deviceName"] != "TOTP Device 0" || r.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %s", r.Body)
	}
	secret := r.body["secret"].(string)
	u, err := url.Parse(r.body["qrCodeString"].(string))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Test App:u1" {
		t.Fatalf("qrCodeString %q", r.body["qrCodeString"])
	}
	q := u.Query()
	if q.Get("secret") != secret || q.Get("issuer") != "Test App" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("qrCodeString %q", u)
	}
	// The name of an unverified device replaces it, with a new secret.
	r = cl.do("POST", "/auth/totp/device", `{"deviceName":"TOTP Device 0"}`)
	status(t, r, "OK")
	if r.body["secret"] == secret {
		t.Fatal("the replaced device kept its secret")
	}
	secret = r.body["secret"].(string)

	r = cl.do("GET", "/auth/totp/device/list", "")
	status(t, r, "OK")
	if fmt.Sprint(r.body["devices"]) != "[map[name:TOTP Device 0 period:30 skew:1 verified:false]]" {
		t.Fatalf("devices %v", r.body["devices"])
	}

	status(t, cl.do("POST", "/auth/totp/device/verify", `{"deviceName":"nope","totp":"123456"}`), "UNKNOWN_DEVICE_ERROR")
	wrong := "000000"
	if refTOTP(t, secret, h.clock.Now()) == wrong {
		wrong = "111111"
	}
	r = cl.do("POST", "/auth/totp/device/verify", `{"deviceName":"TOTP Device 0","totp":"`+wrong+`"}`)
	status(t, r, "INVALID_TOTP_ERROR")
	if r.body["currentNumberOfFailedAttempts"] != 1.0 || r.body["maxNumberOfFailedAttempts"] != 5.0 {
		t.Fatalf("invalid: %s", r.Body)
	}
	if cl.mfaSatisfied() {
		t.Fatal("v true before the second factor")
	}
	r = cl.do("POST", "/auth/totp/device/verify", `{"deviceName":"TOTP Device 0","totp":"`+refTOTP(t, secret, h.clock.Now())+`"}`)
	status(t, r, "OK")
	if r.body["wasAlreadyVerified"] != false || r.Header().Get("front-token") == "" {
		t.Fatalf("verify: %s %v", r.Body, r.Header())
	}
	if m := cl.mfa(); m["v"] != true || m["c"].(map[string]any)["totp"] == nil {
		t.Fatalf("st-mfa after TOTP: %v", m)
	}
	code(t, cl.do("GET", "/secret", ""), 200) // same session, upgraded in place
	status(t, cl.do("POST", "/auth/totp/device", `{"deviceName":"TOTP Device 0"}`), "DEVICE_ALREADY_EXISTS_ERROR")

	r = cl.do("PUT", "/auth/mfa/info", "")
	f := r.body["factors"].(map[string]any)
	if fmt.Sprint(f["alreadySetup"], f["next"]) != "[totp] []" || r.Header().Get("front-token") != "" {
		t.Fatalf("info after: %s (front-token %q)", r.Body, r.Header().Get("front-token"))
	}
	r = cl.do("GET", "/auth/totp/device/list", "")
	if fmt.Sprint(r.body["devices"]) != "[map[name:TOTP Device 0 period:30 skew:1 verified:true]]" {
		t.Fatalf("devices %v", r.body["devices"])
	}

	// A new sign-in needs TOTP again, and may not enrol another device
	// before completing the one it has.
	cl2 := h.login("u1")
	code(t, cl2.do("GET", "/secret", ""), 403)
	code(t, cl2.do("POST", "/auth/totp/device", `{"deviceName":"attacker"}`), 403)
	code(t, cl2.do("POST", "/auth/totp/device/remove", `{"deviceName":"TOTP Device 0"}`), 403)
	r = cl2.do("PUT", "/auth/mfa/info", "")
	f = r.body["factors"].(map[string]any)
	if fmt.Sprint(f["alreadySetup"], f["allowedToSetup"], f["next"]) != "[totp] [] [totp]" {
		t.Fatalf("info, second sign-in: %v", f)
	}
	h.clock.Advance(30 * time.Second)
	status(t, cl2.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))), "OK")
	code(t, cl2.do("GET", "/secret", ""), 200)
	status(t, cl2.do("POST", "/auth/totp/device", `{"deviceName":"phone 2"}`), "OK")
	r = cl2.do("POST", "/auth/totp/device/remove", `{"deviceName":"TOTP Device 0"}`)
	status(t, r, "OK")
	if r.body["didDeviceExist"] != true {
		t.Fatal(r.Body)
	}
	if r = cl2.do("POST", "/auth/totp/device/remove", `{"deviceName":"TOTP Device 0"}`); r.body["didDeviceExist"] != false {
		t.Fatal(r.Body)
	}
}

func TestReplayAndDrift(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	secret := h.login("u1").enrol("phone")
	h.clock.Advance(10 * time.Minute)
	now := h.clock.Now()
	at := func(steps int) string { return refTOTP(t, secret, now.Add(time.Duration(steps)*30*time.Second)) }

	cl := h.login("u1")
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(at(-2))), "INVALID_TOTP_ERROR") // beyond the skew
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(at(2))), "INVALID_TOTP_ERROR")
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(at(-1))), "OK") // within the skew
	cl = h.login("u1")
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(at(-1))), "INVALID_TOTP_ERROR") // replay
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(at(1))), "OK")
	cl = h.login("u1")
	// The current step is older than the last one used: refused too.
	r := cl.do("POST", "/auth/totp/verify", totpBody(at(0)))
	status(t, r, "INVALID_TOTP_ERROR")
	if r.body["currentNumberOfFailedAttempts"] != 1.0 {
		t.Fatalf("a success resets the count: %s", r.Body)
	}
	h.clock.Advance(60 * time.Second)
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))), "OK")

	// Codes are exactly six digits.
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		status(t, h.login("u1").do("POST", "/auth/totp/verify", totpBody(bad)), "INVALID_TOTP_ERROR")
	}
}

func TestLockout(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	secret := h.login("u1").enrol("phone")
	cl := h.login("u1")
	wrong := func() string {
		if refTOTP(t, secret, h.clock.Now()) == "000000" {
			return "111111"
		}
		return "000000"
	}
	for i := 1; i <= 5; i++ {
		r := cl.do("POST", "/auth/totp/verify", totpBody(wrong()))
		status(t, r, "INVALID_TOTP_ERROR")
		if r.body["currentNumberOfFailedAttempts"] != float64(i) || r.body["maxNumberOfFailedAttempts"] != 5.0 {
			t.Fatalf("attempt %d: %s", i, r.Body)
		}
	}
	h.clock.Advance(60 * time.Second)
	r := cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))) // right, but locked
	status(t, r, "LIMIT_REACHED_ERROR")
	if r.body["retryAfterMs"] != float64((14 * time.Minute).Milliseconds()) {
		t.Fatalf("retryAfterMs: %s", r.Body)
	}
	// Device verification shares the limit.
	if _, err := h.totp.CreateDevice(context.Background(), "u1", "tablet"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.totp.VerifyDevice(context.Background(), "u1", "tablet", "123456"); !errors.Is(err, multifactorauth.ErrLimitReached) {
		t.Fatalf("device verification during a lockout: %v", err)
	}
	if cl.mfaSatisfied() {
		t.Fatal("locked out, yet satisfied")
	}
	h.clock.Advance(14 * time.Minute)
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))), "OK")
	if !cl.mfaSatisfied() {
		t.Fatal("v false after the lockout expired and a right code")
	}
}

// Concurrent guesses cannot race past the limit.
func TestLockoutConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	secret := h.login("u1").enrol("phone")
	wrong := "000000"
	if refTOTP(t, secret, h.clock.Now()) == wrong {
		wrong = "111111"
	}
	var mu sync.Mutex
	counts := map[string]int{}
	ginauthtest.Burst(12, func(int) {
		err := func() error {
			_, err := h.totp.VerifyCode(context.Background(), "u1", wrong)
			return err
		}()
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, multifactorauth.ErrInvalidCode):
			counts["invalid"]++
		case errors.Is(err, multifactorauth.ErrLimitReached):
			counts["limit"]++
		default:
			counts[fmt.Sprint(err)]++
		}
	})
	if counts["invalid"] != 5 || counts["limit"] != 7 {
		t.Fatalf("outcomes %v", counts)
	}
}

func TestRecoveryCodes(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	cl := h.login("u1")
	code(t, cl.do("POST", "/auth/mfa/recovery-codes", ""), 403) // not satisfied yet
	cl.enrol("phone")
	r := cl.do("POST", "/auth/mfa/recovery-codes", "")
	status(t, r, "OK")
	if r.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("recovery codes may be cached")
	}
	codes := r.body["codes"].([]any)
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	first := codes[0].(string)

	lost := h.login("u1") // the phone is lost
	code(t, lost.do("GET", "/secret", ""), 403)
	r = lost.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, strings.ToUpper(first)))
	status(t, r, "OK")
	if r.body["remainingCodes"] != 9.0 {
		t.Fatalf("remaining: %s", r.Body)
	}
	if m := lost.mfa(); m["v"] != true || m["c"].(map[string]any)["recovery-code"] == nil {
		t.Fatalf("st-mfa after a recovery code: %v", m)
	}
	code(t, lost.do("GET", "/secret", ""), 200)

	again := h.login("u1")
	r = again.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, first))
	status(t, r, "INVALID_RECOVERY_CODE_ERROR")
	if r.body["currentNumberOfFailedAttempts"] != 1.0 || r.body["maxNumberOfFailedAttempts"] != 5.0 {
		t.Fatal(r.Body)
	}

	// Regenerating invalidates the old, unused codes.
	r = lost.do("POST", "/auth/mfa/recovery-codes", "{}")
	status(t, r, "OK")
	fresh := r.body["codes"].([]any)[3].(string)
	status(t, again.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, codes[1])), "INVALID_RECOVERY_CODE_ERROR")
	status(t, again.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, fresh)), "OK")
	code(t, again.do("GET", "/secret", ""), 200)

	// Malformed requests.
	code(t, again.do("POST", "/auth/mfa/recovery-code", `{}`), 400)
	code(t, again.do("POST", "/auth/mfa/recovery-code", `{"code":5}`), 400)
	code(t, again.do("POST", "/auth/mfa/recovery-code", `[`), 400)
}

func TestSecretsSealedAtRest(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.login("u1")
	r := cl.do("POST", "/auth/totp/device", `{"deviceName":"phone"}`)
	status(t, r, "OK")
	secret := r.body["secret"].(string)
	raw, err := totp.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := kit.Of(h.auth).DB().Raw("SELECT * FROM " + models.TableTOTPDevices).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			s := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			if strings.Contains(strings.ToUpper(s), secret) || strings.Contains(s, string(raw)) {
				t.Fatalf("column %s holds the secret in the clear: %q", cols[i], s)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d rows", n)
	}

	// A sealed secret copied to another user's device does not open.
	var d models.TOTPDevice
	kit.Of(h.auth).DB().Where("user_id = ?", "u1").Take(&d)
	if !strings.HasPrefix(d.SealedSecret, "v1.") {
		t.Fatalf("sealed %q", d.SealedSecret)
	}
	d.UserID = "u2"
	d.Verified = true
	if err := kit.Of(h.auth).DB().Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := h.totp.VerifyCode(context.Background(), "u2", refTOTP(t, secret, h.clock.Now())); !errors.Is(err, ginauth.ErrInternal) {
		t.Fatalf("moved secret: %v", err)
	}
}

func TestSecretKeyRequired(t *testing.T) {
	for name, key := range map[string][]byte{"missing": nil, "short": make([]byte, 16), "long": make([]byte, 64)} {
		t.Run(name, func(t *testing.T) {
			db := ginauthtest.OpenDB(t)
			_, err := ginauth.New(ginauth.Config{DB: db,
				AppInfo: ginauth.AppInfo{APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
				Recipes: []ginauth.Recipe{totp.New(totp.Config{SecretKey: key})}})
			if !errors.Is(err, totp.ErrSecretKey) || !errors.Is(err, ginauth.ErrConfig) || !strings.Contains(err.Error(), "SecretKey") {
				t.Fatalf("err %v", err)
			}
			if err := (totp.Config{SecretKey: key}).Validate(); !errors.Is(err, totp.ErrSecretKey) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	cfg := totp.Config{SecretKey: testKey}
	if s := fmt.Sprintf("%v %#v", cfg, cfg); strings.Contains(s, string(testKey)) || strings.Contains(s, "48 49") {
		t.Fatalf("config prints its key: %s", s)
	}
}

// SuperTokens' documented 2FA pattern: a BooleanClaim "2fa-completed", false
// at session creation, required on every route, set true by the second
// factor. The TOTP routes skip global validators, so they stay reachable.
func TestTwoFACompletedBooleanClaim(t *testing.T) {
	secondFactor := claims.NewBoolean("2fa-completed", func(ctx context.Context, userID, tenantID string) (bool, bool, error) {
		return false, true, nil
	})
	var auth *ginauth.Auth
	h := newHarness(t, func(s *setup) {
		s.noMFA = true
		s.cfg.Session.Claims = []claims.Claim{secondFactor}
		s.cfg.Session.GlobalValidators = []claims.Validator{secondFactor.IsTrue()}
		s.totp.AfterVerify = func(ctx context.Context, sess *ginauth.Session, _ string) error {
			return sess.SetClaimValue(ctx, secondFactor.Update(true, kit.Of(auth).Now()))
		}
	})
	auth = h.auth
	cl := h.login("u1")
	r := cl.do("GET", "/secret", "")
	code(t, r, 403)
	if !strings.Contains(r.Body.String(), `"id":"2fa-completed"`) {
		t.Fatal(r.Body)
	}
	secret := cl.enrol("phone")
	code(t, cl.do("GET", "/secret", ""), 200)

	cl = h.login("u1")
	code(t, cl.do("GET", "/secret", ""), 403)
	h.clock.Advance(30 * time.Second)
	status(t, cl.do("POST", "/auth/totp/verify", totpBody(refTOTP(t, secret, h.clock.Now()))), "OK")
	code(t, cl.do("GET", "/secret", ""), 200)
	if _, ok := cl.mfa()["v"]; ok {
		t.Fatal("st-mfa without the multifactorauth recipe")
	}
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, nil)
	anon := h.client()
	code(t, anon.do("POST", "/auth/totp/verify", totpBody("123456")), 401)
	code(t, anon.do("PUT", "/auth/mfa/info", ""), 401)
	cl := h.login("u1")
	for _, tc := range []struct {
		path, body, msg string
		code            int
	}{
		{"/auth/totp/verify", `{`, "the request body must be a JSON object", 400},
		{"/auth/totp/verify", `[]`, "the request body must be a JSON object", 400},
		{"/auth/totp/verify", `{} {}`, "the request body must hold a single JSON object", 400},
		{"/auth/totp/verify", "{\"totp\":\"1\xff\"}", "the request body is not valid UTF-8", 400},
		{"/auth/totp/verify", `{}`, "Missing input param: totp", 400},
		{"/auth/totp/verify", `{"totp":123456}`, "totp must be a string", 400},
		{"/auth/totp/device/verify", `{"totp":"123456"}`, "Missing input param: deviceName", 400},
		{"/auth/totp/device", `{"deviceName":7}`, "deviceName must be a string", 400},
		{"/auth/totp/device", `{"deviceName":"` + strings.Repeat("x", 300) + `"}`, "deviceName is longer than 256 bytes", 400},
		{"/auth/totp/device/remove", `{"deviceName":"` + strings.Repeat("x", 5000) + `"}`, "the request body is larger than 4096 bytes", 413},
	} {
		r := cl.do("POST", tc.path, tc.body)
		code(t, r, tc.code)
		if r.body["message"] != tc.msg {
			t.Fatalf("%s %s: %s", tc.path, tc.body, r.Body)
		}
	}
	status(t, cl.do("POST", "/auth/totp/verify", totpBody("123456")), "UNKNOWN_USER_ID_ERROR")
}

func TestPerUserRequirementAndDeletion(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.mfa.RequiredSecondaryFactors = func(ctx context.Context, userID, tenantID string) ([]string, error) {
			if userID == "admin" {
				return []string{"totp"}, nil
			}
			return nil, nil
		}
	})
	bob := h.login("bob")
	if !bob.mfaSatisfied() {
		t.Fatal("bob needs no second factor")
	}
	code(t, bob.do("GET", "/secret", ""), 200)
	admin := h.login("admin")
	code(t, admin.do("GET", "/secret", ""), 403)
	admin.enrol("phone")
	code(t, admin.do("GET", "/secret", ""), 200)
	if _, err := h.mfa.GenerateRecoveryCodes(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	admin.do("POST", "/auth/totp/verify", totpBody("000000"))

	if _, err := h.auth.DeleteUser(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []any{&models.TOTPDevice{}, &models.RecoveryCode{}} {
		var n int64
		kit.Of(h.auth).DB().Model(m).Where("user_id = ?", "admin").Count(&n)
		if n != 0 {
			t.Fatalf("%T: %d rows left", m, n)
		}
	}
}

// RegisterRoutes serves the same handlers as Middleware.
func TestRegisterRoutes(t *testing.T) {
	h := newHarness(t, nil)
	e := gin.New()
	h.auth.RegisterRoutes(e)
	found := map[string]bool{}
	for _, rt := range e.Routes() {
		found[rt.Method+" "+rt.Path] = true
	}
	for _, want := range []string{"POST /auth/totp/device", "GET /auth/totp/device/list", "POST /auth/totp/device/remove",
		"POST /auth/totp/device/verify", "POST /auth/totp/verify", "PUT /auth/mfa/info", "POST /auth/mfa/recovery-code"} {
		if !found[want] {
			t.Fatalf("%s not registered", want)
		}
	}
}
