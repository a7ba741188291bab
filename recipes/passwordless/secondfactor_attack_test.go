package passwordless

import (
	"context"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

// Adversarial tests of passwordless as a second factor: codes carried from
// one session to another, from a sign-in flow into a session, across
// tenants, and raced by two sessions. A device is not bound to the session
// that asked for it (nor is it in supertokens-node's consumeCodePOST); what
// protects a session is that the code's contact must be its user's own
// (secondFactor) and that the device is looked up in the session's tenant.

// A code session A asked for, to A's own address, consumed in session B
// (another user who got hold of it): refused with ERR_CODE_017, nothing
// stored on B, B's st-mfa unchanged, and A's factor not completed by it.
// Remove the ownedByOther refusal in consumeForSession and this fails.
func TestSecondFactorCodeCarriedToAnotherSession(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	a, aid := m.signUp("ada@example.com")
	// ada sets up otp-email on her address first, so it is hers.
	_, d := a.createCode(map[string]any{"email": "ada@example.com"})
	code, _ := codeFrom(t, m.waitMail())
	expectStatus(t, a.consume(d, code), "OK")

	a2 := m.signIn("ada@example.com")
	b, bid := m.signUp("eve@example.com")
	_, d = a2.createCode(map[string]any{"email": "ada@example.com"})
	code, _ = codeFrom(t, m.waitMail())
	r := b.consume(d, code)
	expectStatus(t, r, StatusSignInUpNotAllowed)
	if str(r, "reason") != ReasonContactOfAnotherUser {
		t.Fatalf("reason %q", str(r, "reason"))
	}
	if c, v := b.mfaClaim(); v || c[FactorOTPEmail] != nil {
		t.Fatalf("eve's st-mfa c=%v v=%v", c, v)
	}
	if row, err := m.pl.ownRow(context.Background(), m.pl.auth.DB(), bid); err != nil || row != nil {
		t.Fatalf("eve got a passwordless row: %+v %v", row, err)
	}
	if row, err := m.pl.findUser(context.Background(), "public", Contact{Email: "ada@example.com"}); err != nil || row.UserID != aid {
		t.Fatalf("ada's address: %+v %v", row, err)
	}
	if _, v := a2.mfaClaim(); v {
		t.Fatal("eve's use of the code completed ada's factor")
	}
	// The code was used up by the refused attempt (as a sign-in's is):
	// ada asks again.
	expectStatus(t, a2.consume(d, code), StatusRestartFlow)
}

// A code from a sign-in flow (no session: POST /signinup/code without the
// flag) is a code to the contact all the same: consumed with the flag in
// the contact owner's session it completes the factor there and starts no
// session; consumed in another user's session it is refused. SuperTokens'
// consumeCodePOST does not record whether the device was asked for with a
// session either.
func TestSignInFlowCodeConsumedInASession(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	a, _ := m.signUp("ada@example.com")
	_, d := a.createCode(map[string]any{"email": "ada@example.com"})
	code, _ := codeFrom(t, m.waitMail())
	expectStatus(t, a.consume(d, code), "OK")

	b, _ := m.signUp("eve@example.com")
	d = m.startEmail("ada@example.com")
	code, _ = codeFrom(t, m.waitMail())
	expectStatus(t, b.consume(d, code), StatusSignInUpNotAllowed)

	a2 := m.signIn("ada@example.com")
	d = m.startEmail("ada@example.com")
	code, _ = codeFrom(t, m.waitMail())
	before := m.sessions()
	expectStatus(t, a2.consume(d, code), "OK")
	if c, v := a2.mfaClaim(); !v || c[FactorOTPEmail] == nil || m.sessions() != before {
		t.Fatalf("st-mfa c=%v v=%v, sessions %d→%d", c, v, before, m.sessions())
	}
}

// A device of another tenant cannot be consumed in a session: the device
// is looked up in the session's tenant, whatever tenant the path names
// (RESTART_FLOW_ERROR, nothing changes). Looking it up in the path's
// tenant instead would let a code sent in one tenant complete a factor of
// a session of another.
func TestSecondFactorDeviceOfAnotherTenant(t *testing.T) {
	ctx := context.Background()
	mt := multitenancy.New()
	m := newMFAHarness(t, mfaSetup{tenants: mt, mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	for _, id := range []string{"bank", "shop"} {
		if _, err := mt.CreateOrUpdateTenant(ctx, id, multitenancy.TenantConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	s := m.client()
	r := s.cl.Do("POST", "/auth/bank/signup", ginauthtest.Form("email", "ada@example.com", "password", "correct horse 1"), "rid", "emailpassword")
	if r.Status() != "OK" {
		t.Fatalf("sign-up: %d %s", r.Code, r.Body)
	}
	d := m.start("shop", map[string]any{"email": "ada@example.com"})
	code, _ := codeFrom(t, m.waitMail())
	for _, path := range []string{"/auth/bank", "/auth/shop", "/auth"} {
		r := s.do("POST", path+"/signinup/code/consume", map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID,
			"userInputCode": code, "shouldTryLinkingWithSessionUser": true})
		expectStatus(t, r, StatusRestartFlow)
	}
	if c, v := s.mfaClaim(); v || c[FactorOTPEmail] != nil {
		t.Fatalf("st-mfa c=%v v=%v", c, v)
	}
	if n := m.count(&models.PasswordlessUser{}); n != 0 {
		t.Fatalf("%d passwordless rows", n)
	}
	// The shop device is intact: it still signs in there.
	expectStatus(t, m.consumeCode(d, code), "OK")
}

// One right code, 30 consumes at once from two sessions: the owner's and
// another user's. Exactly one consume succeeds, and it is the owner's
// (the other session can only be refused or find the code gone); the
// other user's st-mfa never gets the factor and no session is created.
func TestSecondFactorCodeRacedByTwoSessions(t *testing.T) {
	m := newMFAHarness(t, mfaSetup{mfa: multifactorauth.Config{RequireFactors: []string{FactorOTPEmail}}})
	a, _ := m.signUp("ada@example.com")
	_, d := a.createCode(map[string]any{"email": "ada@example.com"})
	code, _ := codeFrom(t, m.waitMail())
	expectStatus(t, a.consume(d, code), "OK")

	owner := m.signIn("ada@example.com")
	other, _ := m.signUp("eve@example.com")
	_, d = owner.createCode(map[string]any{"email": "ada@example.com"})
	code, _ = codeFrom(t, m.waitMail())
	clone := func(s *session) *session {
		c := *s.cl
		return &session{h: m, cl: &c}
	}
	sessions := m.sessions()
	var mu sync.Mutex
	var ownerOK, otherOK []*session
	ginauthtest.Burst(30, func(i int) {
		src := owner
		if i%2 == 1 {
			src = other
		}
		c := clone(src)
		r := c.consume(d, code)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case status(r) == "OK" && src == owner:
			ownerOK = append(ownerOK, c)
		case status(r) == "OK":
			otherOK = append(otherOK, c)
		case status(r) == StatusRestartFlow, status(r) == StatusSignInUpNotAllowed:
		default:
			t.Errorf("answer %d %s", r.Code, r.Body)
		}
	})
	if len(otherOK) != 0 || len(ownerOK) > 1 {
		t.Fatalf("owner won %d times, the other session %d", len(ownerOK), len(otherOK))
	}
	if len(ownerOK) == 1 {
		if c, v := ownerOK[0].mfaClaim(); !v || c[FactorOTPEmail] == nil {
			t.Fatalf("owner's st-mfa c=%v v=%v", c, v)
		}
	}
	if c, _ := other.mfaClaim(); c[FactorOTPEmail] != nil {
		t.Fatal("the other session got the factor")
	}
	if m.sessions() != sessions {
		t.Fatalf("sessions %d→%d", sessions, m.sessions())
	}
}
