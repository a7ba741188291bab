package totp_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// factorState dumps every row the factor routes write, to show that a
// refused request changed nothing.
func (h *harness) factorState() string {
	h.t.Helper()
	db := kit.Of(h.auth).DB()
	var devices []models.TOTPDevice
	var codes []models.RecoveryCode
	for _, q := range []error{
		db.Order("user_id, name").Find(&devices).Error,
		db.Order("user_id, code_hash").Find(&codes).Error,
	} {
		if q != nil {
			h.t.Fatal(q)
		}
	}
	out := ""
	for _, d := range devices {
		out += fmt.Sprintf("device %s/%s verified=%v step=%d secret=%s\n", d.UserID, d.Name, d.Verified, d.LastUsedStep, d.SealedSecret)
	}
	for _, c := range codes {
		out += fmt.Sprintf("code %s/%s used=%v\n", c.UserID, c.CodeHash, c.UsedAt)
	}
	// The lockout counters of the users seen, as the core limiter keys
	// them (ginauth's accountKey); a refused request may leave a row at
	// zero, which counts nothing.
	users := map[string]bool{"u1": true}
	for _, d := range devices {
		users[d.UserID] = true
	}
	for _, c := range codes {
		users[c.UserID] = true
	}
	var ids []string
	for u := range users {
		ids = append(ids, u)
	}
	sort.Strings(ids)
	for _, u := range ids {
		for _, kind := range []string{"totp", "recovery-code"} {
			var rows []models.RateLimit
			key := random.Hash(kind + "\x00account\x00" + ginauth.DefaultTenant + "\x00" + u)
			if err := db.Where("limit_key = ? AND (count > 0 OR open_attempts > 0)", key).Find(&rows).Error; err != nil {
				h.t.Fatal(err)
			}
			for _, r := range rows {
				out += fmt.Sprintf("lockout %s/%s count=%d open=%d until=%v\n", u, kind, r.Count, r.Open, r.ExpiresAt)
			}
		}
	}
	return out
}

// with sends one request with the client's current access token from a
// throwaway client, so that a 401 clearing the tokens does not change cl.
func (cl *client) with(method, path, body string) *resp {
	cl.h.t.Helper()
	c := &ginauthtest.Client{Handler: cl.h.r, RID: "totp", Access: cl.c.Access}
	r := c.Do(method, path, body)
	return &resp{r.ResponseRecorder, r.JSON}
}

// handle returns the client's session handle.
func (cl *client) handle() string {
	cl.h.t.Helper()
	s, _ := cl.c.FrontPayload(cl.h.t)["sessionHandle"].(string)
	if s == "" {
		cl.h.t.Fatal("no session handle in the front token")
	}
	return s
}

// factorUser is a user who set up TOTP (device "phone", verified) and
// recovery codes, with an unverified device "tablet" being enrolled, seen
// through a session that completed TOTP.
type factorUser struct {
	cl            *client
	phone, tablet string // secrets
	codes         []string
}

func newFactorUser(h *harness) *factorUser {
	h.t.Helper()
	u := &factorUser{cl: h.login("u1")}
	u.phone = u.cl.enrol("phone")
	r := u.cl.do("POST", "/auth/totp/device", `{"deviceName":"tablet"}`)
	status(h.t, r, "OK")
	u.tablet = r.body["secret"].(string)
	r = u.cl.do("POST", "/auth/mfa/recovery-codes", "{}")
	status(h.t, r, "OK")
	for _, c := range r.body["codes"].([]any) {
		u.codes = append(u.codes, c.(string))
	}
	h.clock.Advance(30 * time.Second) // fresh codes for what follows
	return u
}

// revoke ends the session the way mode says: the user signs out, the
// dashboard (or the app) revokes the one session, or a password reset
// revokes them all.
func revoke(h *harness, cl *client, mode string) {
	h.t.Helper()
	ctx := context.Background()
	switch mode {
	case "signout":
		status(h.t, cl.with("POST", "/auth/signout", ""), "OK")
	case "RevokeSession":
		if ok, err := h.auth.RevokeSession(ctx, cl.handle()); err != nil || !ok {
			h.t.Fatalf("RevokeSession: %v %v", ok, err)
		}
	case "RevokeAllSessions":
		if _, err := h.auth.RevokeAllSessions(ctx, "u1"); err != nil {
			h.t.Fatal(err)
		}
	}
}

// sensitiveCalls are the routes that change a user's factors, each with a
// body that would succeed and one that would be refused as malformed.
func sensitiveCalls(h *harness, u *factorUser) []struct{ name, path, good, bad string } {
	now := h.clock.Now()
	return []struct{ name, path, good, bad string }{
		{"create", "/auth/totp/device", `{"deviceName":"laptop"}`, `{"deviceName":7}`},
		{"create-default-name", "/auth/totp/device", `{}`, `[`},
		{"replace-unverified", "/auth/totp/device", `{"deviceName":"tablet"}`, `{"deviceName":7}`},
		{"remove", "/auth/totp/device/remove", `{"deviceName":"phone"}`, `{}`},
		{"verify-device", "/auth/totp/device/verify", fmt.Sprintf(`{"deviceName":"tablet","totp":%q}`, refTOTP(h.t, u.tablet, now)), `{"deviceName":"tablet"}`},
		{"verify", "/auth/totp/verify", totpBody(refTOTP(h.t, u.phone, now)), `{}`},
		{"regenerate-recovery-codes", "/auth/mfa/recovery-codes", `{}`, `[`},
		{"use-recovery-code", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, u.codes[0]), `{}`},
	}
}

// TestRevokedSessionCannotChangeFactors (issue 13 item 2): once a session
// is revoked, by sign-out, RevokeSession (the dashboard's revoke) or
// RevokeAllSessions (a password reset), none of the routes that change the
// user's factors accepts its still-unexpired access token: each answers 401
// and clears the tokens, and the devices, recovery codes and attempt
// counters are exactly as before. The malformed-body call fails when a
// route loses Route.Sensitive (it would answer 400: the database check has
// to come before anything else); the good-body call would also catch a
// write made before the check. A fresh session then makes the same call
// successfully, so the refusal is the revocation's doing.
func TestRevokedSessionCannotChangeFactors(t *testing.T) {
	for _, mode := range []string{"signout", "RevokeSession", "RevokeAllSessions"} {
		for i := 0; ; i++ {
			h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
			u := newFactorUser(h)
			calls := sensitiveCalls(h, u)
			if i == len(calls) {
				break
			}
			call := calls[i]
			t.Run(mode+"/"+call.name, func(t *testing.T) {
				h.t = t
				// The access token still verifies statelessly, and is cached.
				code(t, u.cl.with("GET", "/secret", ""), 200)
				revoke(h, u.cl, mode)
				code(t, u.cl.with("GET", "/secret", ""), 200)
				before := h.factorState()
				for _, body := range []string{call.bad, call.good} {
					r := u.cl.with("POST", call.path, body)
					code(t, r, 401)
					if r.body["message"] != "unauthorised" || r.Header().Get("front-token") != "remove" {
						t.Fatalf("%s %s: %s %v", call.path, body, r.Body, r.Header())
					}
				}
				if after := h.factorState(); after != before {
					t.Fatalf("a refused %s changed the database:\nbefore\n%s\nafter\n%s", call.name, before, after)
				}
				// A live session that completed its factors may do it.
				fresh := h.login("u1")
				status(t, fresh.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, u.codes[1])), "OK")
				status(t, fresh.do("POST", call.path, call.good), "OK")
			})
		}
	}
}

// TestSensitiveWriteConfirmsSessionInTransaction: a revocation that lands
// after the route's first session check but before its write still stops
// the write, because the write's own transaction confirms the session
// (Session.LockTx). Without that, POST /totp/device created the device and
// POST /totp/device/verify marked the device verified and then answered
// 401. The revocation is made from app callbacks the routes call between
// the two points.
func TestSensitiveWriteConfirmsSessionInTransaction(t *testing.T) {
	var mu sync.Mutex
	armed := map[string]func(){}
	fire := func(point string) {
		mu.Lock()
		fn := armed[point]
		delete(armed, point)
		mu.Unlock()
		if fn != nil {
			fn()
		}
	}
	h := newHarness(t, func(s *setup) {
		s.totp.UserIdentifier = func(ctx context.Context, userID string) (string, error) {
			fire("identifier")
			return userID, nil
		}
		s.mfa.RequiredSecondaryFactors = func(ctx context.Context, userID, tenantID string) ([]string, error) {
			fire("requirements")
			return []string{"totp"}, nil
		}
	})
	arm := func(point string, cl *client) {
		handle := cl.handle()
		mu.Lock()
		armed[point] = func() {
			if _, err := h.auth.RevokeSession(context.Background(), handle); err != nil {
				t.Error(err)
			}
		}
		mu.Unlock()
	}

	u := newFactorUser(h)
	before := h.factorState()
	arm("identifier", u.cl)
	code(t, u.cl.with("POST", "/auth/totp/device", `{"deviceName":"laptop"}`), 401)
	if after := h.factorState(); after != before {
		t.Fatalf("create wrote after the revocation:\n%s\n%s", before, after)
	}

	cl := h.login("u1")
	status(t, cl.do("POST", "/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, u.codes[1])), "OK")
	before = h.factorState()
	arm("requirements", cl)
	r := cl.with("POST", "/auth/totp/device/verify", fmt.Sprintf(`{"deviceName":"tablet","totp":%q}`, refTOTP(t, u.tablet, h.clock.Now())))
	code(t, r, 401)
	if after := h.factorState(); after != before {
		t.Fatalf("device verification wrote after the revocation:\n%s\n%s", before, after)
	}

	// Checking a code: the revocation lands while the factor's completion
	// is prepared, before the code's transaction.
	for _, call := range []struct{ path, body string }{
		{"/auth/totp/verify", totpBody(refTOTP(t, u.phone, h.clock.Now()))},
		{"/auth/mfa/recovery-code", fmt.Sprintf(`{"code":%q}`, u.codes[2])},
	} {
		cl := h.login("u1")
		before := h.factorState()
		arm("requirements", cl)
		code(t, cl.with("POST", call.path, call.body), 401)
		if after := h.factorState(); after != before {
			t.Fatalf("%s wrote after the revocation:\n%s\n%s", call.path, before, after)
		}
	}
}

// TestRevocationDuringBurst: 30 parallel factor changes through one
// session while it is revoked. Each answers OK or 401; every OK create left
// its device and no 401 did; the recovery codes are one whole set; and
// nothing changes once RevokeSession has returned (a write that confirmed
// the session first made the revocation wait for its commit).
func TestRevocationDuringBurst(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.mfa.RequireFactors = []string{"totp"}
		s.totp.MaxDevices = 100
	})
	u := newFactorUser(h)
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	answers := map[string]int{}
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &ginauthtest.Client{Handler: h.r, RID: "totp", Access: u.cl.c.Access}
			started <- struct{}{}
			var r *ginauthtest.Response
			name := fmt.Sprintf("d%02d", i)
			if i%2 == 0 {
				r = c.Do("POST", "/auth/totp/device", fmt.Sprintf(`{"deviceName":%q}`, name))
			} else {
				r = c.Do("POST", "/auth/mfa/recovery-codes", "{}")
			}
			mu.Lock()
			defer mu.Unlock()
			answers[fmt.Sprint(r.Code, " ", r.JSON["status"], r.JSON["message"])]++
			if i%2 == 0 && r.Code == 200 {
				created[name]++
			}
		}()
	}
	for i := 0; i < n/3; i++ {
		<-started
	}
	if _, err := h.auth.RevokeSession(context.Background(), u.cl.handle()); err != nil {
		t.Fatal(err)
	}
	atRevocation := h.factorState()
	wg.Wait()
	if after := h.factorState(); after != atRevocation {
		t.Fatalf("writes after the revocation returned:\n%s\n%s", atRevocation, after)
	}
	for a := range answers {
		if a != "200 OK<nil>" && a != "401 <nil>unauthorised" {
			t.Fatalf("answers %v", answers)
		}
	}
	if answers["401 <nil>unauthorised"] == 0 {
		t.Logf("the revocation came after every request (answers %v)", answers)
	}
	devices, err := h.totp.ListDevices(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		if d.Name != "phone" && d.Name != "tablet" && created[d.Name] != 1 {
			t.Fatalf("device %s exists, but its request was refused", d.Name)
		}
	}
	if len(devices) != len(created)+2 {
		t.Fatalf("%d devices for %d created", len(devices), len(created))
	}
	if left, err := h.mfa.RemainingRecoveryCodes(t.Context(), "u1"); err != nil || left != 10 {
		t.Fatalf("recovery codes: %d %v", left, err)
	}
}

// TestCreateDeviceTwelveTimes (issue 12 item 3): auth-react's TOTP setup
// screen calls POST /totp/device with no deviceName each time it mounts.
// As in the SuperTokens core's Totp.createDevice, the default name counts
// the verified devices ("TOTP Device 0" for none) and an unverified device
// of that name is replaced, so the twelfth call still works and its secret
// verifies; the earlier secrets are gone.
func TestCreateDeviceTwelveTimes(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	cl := h.login("u1")
	var secrets []string
	for i := 0; i < 12; i++ {
		r := cl.do("POST", "/auth/totp/device", "")
		status(t, r, "OK")
		if r.body["deviceName"] != "TOTP Device 0" {
			t.Fatalf("call %d: %s", i+1, r.Body)
		}
		secrets = append(secrets, r.body["secret"].(string))
	}
	devices, err := h.totp.ListDevices(t.Context(), "u1")
	if err != nil || len(devices) != 1 || devices[0].Verified {
		t.Fatalf("devices %+v %v", devices, err)
	}
	first := fmt.Sprintf(`{"deviceName":"TOTP Device 0","totp":%q}`, refTOTP(t, secrets[0], h.clock.Now()))
	if refTOTP(t, secrets[0], h.clock.Now()) != refTOTP(t, secrets[11], h.clock.Now()) {
		status(t, cl.do("POST", "/auth/totp/device/verify", first), "INVALID_TOTP_ERROR")
	}
	last := fmt.Sprintf(`{"deviceName":"TOTP Device 0","totp":%q}`, refTOTP(t, secrets[11], h.clock.Now()))
	r := cl.do("POST", "/auth/totp/device/verify", last)
	status(t, r, "OK")
	if r.body["wasAlreadyVerified"] != false || !cl.mfaSatisfied() {
		t.Fatalf("verify: %s, st-mfa %v", r.Body, cl.mfa())
	}

	// Now one device is verified: the next default name is "TOTP Device 1",
	// and the verified name cannot be taken.
	r = cl.do("POST", "/auth/totp/device", "{}")
	status(t, r, "OK")
	if r.body["deviceName"] != "TOTP Device 1" {
		t.Fatalf("after one verified device: %s", r.Body)
	}
	status(t, cl.do("POST", "/auth/totp/device", `{"deviceName":"TOTP Device 0"}`), "DEVICE_ALREADY_EXISTS_ERROR")
	if devices, _ := h.totp.ListDevices(t.Context(), "u1"); len(devices) != 2 {
		t.Fatalf("devices %+v", devices)
	}
}

// TestCreateDeviceConcurrently: a setup screen mounted twice at once
// (React's strict mode) sends two creates together; a burst of 12 leaves
// one unverified device, every call answered OK, and the screen's next
// mount enrols and verifies normally.
func TestCreateDeviceConcurrently(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.mfa.RequireFactors = []string{"totp"} })
	cl := h.login("u1")
	var mu sync.Mutex
	answers := map[string]int{}
	ginauthtest.Burst(12, func(int) {
		c := &ginauthtest.Client{Handler: h.r, RID: "totp", Access: cl.c.Access}
		r := c.Do("POST", "/auth/totp/device", "")
		mu.Lock()
		answers[fmt.Sprint(r.Code, " ", r.JSON["status"], " ", r.JSON["deviceName"])]++
		mu.Unlock()
	})
	if len(answers) != 1 || answers["200 OK TOTP Device 0"] != 12 {
		t.Fatalf("answers %v", answers)
	}
	if devices, err := h.totp.ListDevices(t.Context(), "u1"); err != nil || len(devices) != 1 {
		t.Fatalf("devices %+v %v", devices, err)
	}
	r := cl.do("POST", "/auth/totp/device", "")
	status(t, r, "OK")
	body := fmt.Sprintf(`{"deviceName":"TOTP Device 0","totp":%q}`, refTOTP(t, r.body["secret"].(string), h.clock.Now()))
	status(t, cl.do("POST", "/auth/totp/device/verify", body), "OK")
}

// TestDefaultNameSkipsVerifiedNames: as the core's Totp.createDevice, the
// default name starts at the number of verified devices and steps past a
// name a verified device holds.
func TestDefaultNameSkipsVerifiedNames(t *testing.T) {
	h := newHarness(t, nil)
	cl := h.login("u1")
	cl.enrol("TOTP Device 1")
	r := cl.do("POST", "/auth/totp/device", "{}")
	status(t, r, "OK")
	if r.body["deviceName"] != "TOTP Device 2" {
		t.Fatalf("got %s", r.Body)
	}
	// Replacing does not count towards MaxDevices.
	for i := 0; i < 20; i++ {
		status(t, cl.do("POST", "/auth/totp/device", `{"deviceName":"tablet"}`), "OK")
	}
}

// TestVerifyVerifiedDevice: verifying a device that is verified already
// answers OK with wasAlreadyVerified true without checking the code, as
// the core's Totp.verifyDevice. Unlike supertokens-node's verifyDevicePOST
// it does not complete the factor (nor run AfterVerify), since no code was
// checked: a wrong code must not renew a session's TOTP completion.
func TestVerifyVerifiedDevice(t *testing.T) {
	afterVerify := 0
	h := newHarness(t, func(s *setup) {
		s.totp.AfterVerify = func(ctx context.Context, s *ginauth.Session, deviceName string) error { afterVerify++; return nil }
	})
	cl := h.login("u1")
	secret := cl.enrol("phone")
	afterVerify = 0
	wrong := "000000"
	if refTOTP(t, secret, h.clock.Now()) == wrong {
		wrong = "111111"
	}
	before := h.factorState()
	completed := cl.mfa()["c"].(map[string]any)["totp"]
	h.clock.Advance(time.Minute)
	r := cl.do("POST", "/auth/totp/device/verify", fmt.Sprintf(`{"deviceName":"phone","totp":%q}`, wrong))
	status(t, r, "OK")
	if r.body["wasAlreadyVerified"] != true || r.Header().Get("front-token") != "" || afterVerify != 0 {
		t.Fatalf("verify: %s, front-token %q, AfterVerify %d", r.Body, r.Header().Get("front-token"), afterVerify)
	}
	if cl.mfa()["c"].(map[string]any)["totp"] != completed {
		t.Fatal("the TOTP completion time moved without a code")
	}
	if after := h.factorState(); after != before {
		t.Fatalf("the state changed:\n%s\n%s", before, after)
	}
}
