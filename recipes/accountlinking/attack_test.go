package accountlinking_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/accountlinking"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Adversarial tests of account linking: pre-account takeover in every
// order of arrival, and bursts of the Go API on one group. Run on SQLite
// and on the shared PostgreSQL (GINAUTH_TEST_DATABASE_URL), with -race.

// checkInvariants asserts what no sequence of link, unlink and
// createPrimary may break: a linked user's primary is a primary user and
// not itself linked; a primary is linked to nobody; the account-info
// table holds exactly the claims of the primaries' groups (no orphaned
// row, none missing); one primary per address per tenant.
func checkInvariants(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	var users []models.User
	if err := h.db.Find(&users).Error; err != nil {
		t.Fatal(err)
	}
	byID := map[string]models.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	var want []string
	for _, u := range users {
		if u.IsPrimary && u.PrimaryUserID != "" {
			t.Errorf("user %s is primary and linked to %s", u.ID, u.PrimaryUserID)
		}
		if u.PrimaryUserID != "" {
			if p, ok := byID[u.PrimaryUserID]; !ok || !p.IsPrimary || p.PrimaryUserID != "" {
				t.Errorf("user %s is linked to %s, which is not a primary user", u.ID, u.PrimaryUserID)
			}
		}
		if !u.IsPrimary {
			continue
		}
		g, err := h.auth.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tenant := range g.TenantIDs {
			for _, m := range g.LoginMethods {
				if m.Email != "" {
					want = append(want, fmt.Sprintf("%s|email|%s|%s", tenant, ginauth.NormaliseEmail(m.Email), u.ID))
				}
				if m.PhoneNumber != "" {
					want = append(want, fmt.Sprintf("%s|phone|%s|%s", tenant, m.PhoneNumber, u.ID))
				}
				if m.ThirdParty != nil {
					want = append(want, fmt.Sprintf("%s|thirdparty|%s:%s|%s", tenant, m.ThirdParty.ID, m.ThirdParty.UserID, u.ID))
				}
			}
		}
	}
	var rows []models.AccountInfo
	if err := h.db.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", r.TenantID, r.Kind, r.Value, r.PrimaryUserID))
	}
	sort.Strings(want)
	want = compactStrings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("account info rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// expectedLinkErr reports whether err is an answer the Go API may give a
// racing caller: a clear refusal, never a database error.
func expectedLinkErr(err error) bool {
	return err == nil || errors.Is(err, accountlinking.ErrUnlinkPrimary)
}

// 50 concurrent link, unlink and createPrimary calls on one group (a
// primary, two users to link, and a rival primary with the same e-mail)
// answer only statuses or ErrUnlinkPrimary (no deadlock, no database
// error) and leave the invariants of checkInvariants. The users' row locks
// (lockUser) and the account-info key keep them apart; the reference core
// serialises the same calls in its storage layer.
func TestConcurrentLinkUnlinkCreatePrimary(t *testing.T) {
	h := newHarness(t)
	h.link.Store(false) // by hand only
	ctx := context.Background()
	ann := h.epSignUp("ann@example.com")
	bob := h.epSignUp("bob@example.com")
	cat := h.epSignUp("ann+cat@example.com")
	rival := h.epSignUp("rival@example.com")
	// A fourth user with ann's address, through another method: linking it
	// to ann and making it primary race for the same claim.
	dup, err := h.tpSignIn("oidc", "dup", "ann@example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.al.CreatePrimaryUser(ctx, ann); err != nil || res.Status != accountlinking.StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	if res, err := h.al.CreatePrimaryUser(ctx, rival); err != nil || res.Status != accountlinking.StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	var bad atomic.Int32
	ginauthtest.Burst(50, func(i int) {
		var err error
		switch i % 7 {
		case 0:
			_, err = h.al.LinkAccounts(ctx, bob, ann)
		case 1:
			_, err = h.al.UnlinkAccount(ctx, bob)
		case 2:
			_, err = h.al.LinkAccounts(ctx, cat, ann)
		case 3:
			_, err = h.al.CreatePrimaryUser(ctx, cat)
		case 4:
			_, err = h.al.CreatePrimaryUser(ctx, dup.ID)
		case 5:
			_, err = h.al.LinkAccounts(ctx, dup.ID, rival)
		case 6:
			_, err = h.al.UnlinkAccount(ctx, cat)
		}
		if !expectedLinkErr(err) {
			bad.Add(1)
			t.Logf("call %d: %v", i, err)
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d calls failed", bad.Load())
	}
	checkInvariants(t, h)
	// ann's address is one primary's: dup is linked to ann, or to rival
	// (manual linking checks no verification), or a user of its own.
	var owners int64
	h.db.Model(&models.AccountInfo{}).Where("kind = ? AND value = ?", "email", "ann@example.com").Count(&owners)
	if owners != 1 {
		t.Fatalf("%d claims on ann's address", owners)
	}
}

// 50 users with one e-mail, made primary at once: exactly one wins, the
// others answer StatusAccountInfoTaken naming it (the core's
// createPrimaryUser). Without the account-info key several would win.
func TestConcurrentCreatePrimaryOneWins(t *testing.T) {
	h := newHarness(t)
	h.link.Store(false)
	ctx := context.Background()
	ids := make([]string, 50)
	for i := range ids {
		u, err := h.tpSignIn("oidc", fmt.Sprintf("sub-%d", i), "same@example.com", false)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	var ok, taken, bad atomic.Int32
	var winner atomic.Value
	ginauthtest.Burst(len(ids), func(i int) {
		res, err := h.al.CreatePrimaryUser(ctx, ids[i])
		switch {
		case err != nil:
			bad.Add(1)
			t.Log(err)
		case res.Status == accountlinking.StatusOK:
			ok.Add(1)
			winner.Store(ids[i])
		case res.Status == accountlinking.StatusAccountInfoTaken:
			taken.Add(1)
		default:
			bad.Add(1)
			t.Log(res.Status)
		}
	})
	if ok.Load() != 1 || taken.Load() != 49 || bad.Load() != 0 {
		t.Fatalf("ok %d, taken %d, other %d", ok.Load(), taken.Load(), bad.Load())
	}
	checkInvariants(t, h)
	// Everyone else links to the winner by hand: 49 at once.
	w := winner.Load().(string)
	ginauthtest.Burst(len(ids), func(i int) {
		res, err := h.al.LinkAccounts(ctx, ids[i], w)
		if err != nil || res.Status != accountlinking.StatusOK || res.PrimaryUserID != w {
			bad.Add(1)
			t.Logf("%+v %v", res, err)
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d links failed", bad.Load())
	}
	if u := h.user(ids[7]); u.ID != w || len(u.LoginMethods) != 50 {
		t.Fatalf("group %s has %d methods", u.ID, len(u.LoginMethods))
	}
	checkInvariants(t, h)
}

// 50 sign-ups of one address at once, through e-mail/password, a provider
// that vouches for it and passwordless: with verification required, never
// two primary users, and the e-mail/password account (whose address nobody
// proved) is never linked into the group, whatever the order (the
// reference's isSignUpAllowed, isSignInUpAllowedHelper and
// tryLinkingByAccountInfoOrCreatePrimaryUser). Refusals are the FDI's
// statuses, never a 5xx.
func TestConcurrentSignUpsThreeMethods(t *testing.T) {
	for _, require := range []bool{true, false} {
		t.Run(fmt.Sprintf("requireVerification=%v", require), func(t *testing.T) {
			h := newHarness(t)
			h.requireVerification.Store(require)
			ctx := context.Background()
			var bad atomic.Int32
			ginauthtest.Burst(50, func(i int) {
				var err error
				switch i % 3 {
				case 0:
					res := h.client().SignUp("ann@example.com", "correct horse 1")
					if res.Code != 200 {
						err = fmt.Errorf("sign-up: %d %v", res.Code, res.JSON)
					}
				case 1:
					_, err = h.tpSignIn("oidc", "sub-1", "ann@example.com", true)
				case 2:
					_, err = h.pl.SignInUp(ctx, "public", passwordless.EmailContact("ann@example.com"))
				}
				if err != nil && !errors.Is(err, ginauth.ErrSignInNotAllowed) {
					bad.Add(1)
					t.Log(err)
				}
			})
			if bad.Load() != 0 {
				t.Fatalf("%d failed", bad.Load())
			}
			var primaries int64
			h.db.Model(&models.User{}).Where("is_primary = ?", true).Count(&primaries)
			if primaries > 1 {
				t.Fatalf("%d primary users", primaries)
			}
			checkInvariants(t, h)
			if !require {
				return
			}
			var eps []models.EmailPasswordUser
			h.db.Find(&eps)
			for _, ep := range eps {
				u := h.user(ep.UserID)
				if len(u.LoginMethods) > 1 {
					t.Fatalf("the unverified e-mail/password account is linked: %v", recipeUsers(u))
				}
			}
		})
	}
}

// Pre-account takeover, every order of arrival: an attacker signs up with
// the victim's address and a password (unverified); the victim arrives by
// a provider that vouches for the address, or by a passwordless code. With
// RequireVerification the two are never in one group, and the attacker's
// password never opens the victim's account. Mirrors supertokens-node's
// AccountLinking isSignUpAllowed / isSignInAllowed (through
// isSignInUpAllowedHelper: "no primary user" refuses while another user
// has the address unverified; "primary user found" refuses an unverified
// newcomer) and shouldBecomePrimaryUser / tryLinkingByAccountInfo (both
// sides verified). Without RequireVerification the reference links them:
// the app accepted the risk, and so does this test.
func TestPreAccountTakeoverOrders(t *testing.T) {
	type arrival func(h *harness) (string, error)
	attacker := func(h *harness) (string, error) {
		res := h.client().SignUp("victim@example.com", "attacker pass 1")
		if res.Status() != "OK" {
			return "", fmt.Errorf("sign-up refused: %v %v", res.JSON["status"], res.JSON["reason"])
		}
		return res.UserID(), nil
	}
	byProvider := func(h *harness) (string, error) {
		u, err := h.tpSignIn("oidc", "victim-sub", "victim@example.com", true)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	}
	byCode := func(h *harness) (string, error) {
		res, err := h.pl.SignInUp(context.Background(), "public", passwordless.EmailContact("victim@example.com"))
		if err != nil {
			return "", err
		}
		return res.User.ID, nil
	}
	victims := map[string]arrival{"provider": byProvider, "code": byCode}
	for name, victim := range victims {
		for _, attackerFirst := range []bool{true, false} {
			for _, require := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/attackerFirst=%v/require=%v", name, attackerFirst, require), func(t *testing.T) {
					h := newHarness(t)
					h.requireVerification.Store(require)
					var aID, vID string
					var aErr, vErr error
					if attackerFirst {
						aID, aErr = attacker(h)
						vID, vErr = victim(h)
					} else {
						vID, vErr = victim(h)
						aID, aErr = attacker(h)
					}
					if !require {
						if aErr != nil || vErr != nil || aID != vID && h.user(aID).ID != h.user(vID).ID {
							t.Fatalf("without verification the reference links: %v %v", aErr, vErr)
						}
						return
					}
					if attackerFirst {
						// The victim is refused (the reference's ERR_CODE_006 /
						// ERR_CODE_002) rather than made primary next to an
						// unverified account that would then link on verification.
						if aErr != nil || !errors.Is(vErr, ginauth.ErrSignInNotAllowed) {
							t.Fatalf("attacker %v, victim %v", aErr, vErr)
						}
					} else {
						// The attacker's sign-up is refused (ERR_CODE_007).
						if vErr != nil || aErr == nil {
							t.Fatalf("victim %v, attacker %v", vErr, aErr)
						}
					}
					// The attacker pass 1 never opens the victim's group.
					res := h.client().SignIn("victim@example.com", "attacker pass 1")
					if res.Status() == "OK" && vID != "" && res.UserID() == h.user(vID).ID {
						t.Fatalf("the attacker signed in to the victim's account")
					}
					if aID != "" && vID != "" && h.user(aID).ID == h.user(vID).ID {
						t.Fatalf("attacker and victim share a group")
					}
					checkInvariants(t, h)
				})
			}
		}
	}
}

// The Go API with ids no user can have (a NUL, bytes that are not UTF-8,
// 1 MB): an app passing a user-typed id gets ginauth.ErrNotFound, not
// the 503 a PostgreSQL encoding error would become, and nothing changes.
// So do a user's id in upper case or in full-width look-alikes, which
// MariaDB's collation would otherwise match to the user.
func TestHostileIDsGoAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ann := h.epSignUp("ann@example.com")
	if res, err := h.al.CreatePrimaryUser(ctx, ann); err != nil || res.Status != accountlinking.StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	fullwidth := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' {
			return r - '0' + '０'
		}
		return r
	}, ann)
	for _, id := range []string{"a\x00b", "a\xffb", strings.Repeat("x", 1<<20), strings.ToUpper(ann), fullwidth} {
		calls := map[string]error{}
		_, calls["CreatePrimaryUser"] = h.al.CreatePrimaryUser(ctx, id)
		_, calls["CanCreatePrimaryUser"] = h.al.CanCreatePrimaryUser(ctx, id)
		_, calls["LinkAccounts"] = h.al.LinkAccounts(ctx, id, ann)
		_, calls["LinkAccounts to"] = h.al.LinkAccounts(ctx, ann, id)
		_, calls["CanLinkAccounts"] = h.al.CanLinkAccounts(ctx, id, ann)
		_, calls["UnlinkAccount"] = h.al.UnlinkAccount(ctx, id)
		for name, err := range calls {
			if !errors.Is(err, ginauth.ErrNotFound) {
				t.Errorf("%s(%.12q): %v", name, id, err)
			}
		}
	}
	checkInvariants(t, h)
}

// Two unlinked login methods of one address (e-mail/password and a
// provider that does not vouch for it), verified at once by 50 tokens
// (a used token's siblings die with it: ErrInvalidToken): automatic linking after verification (the reference's
// tryLinkingByAccountInfoOrCreatePrimaryUser, from verifyEmailPOST) ends
// in one primary user with both methods, whichever verification wins, and
// never a database error.
func TestConcurrentVerificationOfTwoMethods(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// Made while linking was off: with it on, the second unverified
	// method of an address is refused.
	h.link.Store(false)
	ep := h.epSignUp("ann@example.com")
	tp, err := h.tpSignIn("oidc", "ann-sub", "ann@example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	h.link.Store(true)
	ids := []string{ep, tp.ID}
	tokens := make([]string, 50)
	for i := range tokens {
		if tokens[i], err = h.ev.CreateVerificationToken(ctx, "public", ids[i%2], "ann@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	var bad atomic.Int32
	ginauthtest.Burst(len(tokens), func(i int) {
		if _, _, err := h.ev.VerifyUsingToken(ctx, "public", tokens[i]); err != nil && !errors.Is(err, emailverification.ErrInvalidToken) {
			bad.Add(1)
			t.Log(err)
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d verifications failed", bad.Load())
	}
	// A sign-in after the race links whatever a refused one left.
	if r := h.client().SignIn("ann@example.com", "correct horse 1"); r.Status() != "OK" {
		t.Fatalf("sign-in: %v", r.JSON)
	}
	if _, err := h.tpSignIn("oidc", "ann-sub", "ann@example.com", false); err != nil {
		t.Fatal(err)
	}
	u := h.user(ep)
	if !u.IsPrimaryUser || len(u.LoginMethods) != 2 || h.user(tp.ID).ID != u.ID {
		t.Fatalf("want one group of both methods, got %s %v", u.ID, recipeUsers(u))
	}
	checkInvariants(t, h)
}
