package multi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
)

const password = "correct horse battery staple 42"

// TestAcrossInstances runs the checks that share one set of three instances.
func TestAcrossInstances(t *testing.T) {
	dsn, _ := database(t)
	in := startInstances(t, dsn, 3, "LOW_ARGON2=1")
	lb := startProxy(t, in)

	t.Run("sign in on one, refresh on another, verify on the third", func(t *testing.T) {
		a := client(in[0].base, "")
		expect(t, 200, "sign-up")(a.signUp("hop@example.com", password))
		si := expect(t, 200, "sign-in on i1")(a.signIn("hop@example.com", password))
		b := client(in[1].base, "")
		rf := expect(t, 200, "refresh on i2")(b.refresh(si.refresh))
		if rf.access == "" || rf.refresh == "" || rf.instance != "i2" {
			t.Fatalf("refresh on i2 gave no tokens (instance %q)", rf.instance)
		}
		c := client(in[2].base, "")
		v := expect(t, 200, "verify on i3")(c.get("/sessioninfo-db", rf.access))
		if v.instance != "i3" || v.body["userId"] == "" {
			t.Fatalf("verify on i3: %v", v.body)
		}
	})

	t.Run("a replayed refresh token is theft whichever instance sees it", func(t *testing.T) {
		for i := range in {
			email := fmt.Sprintf("replay%d@example.com", i)
			a := client(in[0].base, "")
			expect(t, 200, "sign-up")(a.signUp(email, password))
			// The owner refreshes on i2 and uses the new token on i3: the
			// first token is now superseded everywhere.
			first := a.mustSignIn(t, email)
			second := expect(t, 200, "refresh on i2")(client(in[1].base, "").refresh(first))
			expect(t, 200, "refresh on i3")(client(in[2].base, "").refresh(second.refresh))
			thief := client(in[i].base, "")
			r := expect(t, 401, "replay on "+in[i].name)(thief.refresh(first))
			if r.status != "token theft detected" {
				t.Fatalf("replay on %s: %q, want token theft detected", in[i].name, r.status)
			}
			// The theft revoked that session: the owner's newest token fails too.
			last := client(in[(i+1)%3].base, "")
			if r := expect(t, 401, "owner after theft")(last.get("/sessioninfo-db", second.access)); r.status == "" {
				t.Fatal("no message")
			}
		}
	})

	t.Run("a burst over all instances is held to the per-account cap exactly", func(t *testing.T) {
		const email, burst = "burst@example.com", 40
		a := client(lb.base, "198.51.100.1")
		expect(t, 200, "sign-up")(a.signUp(email, password))
		maxPerAccount := ginauth.DefaultLimits()[ginauth.ActionSignIn].PerAccount.Max
		statuses := make([]string, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each attempt from its own address, so only the account's
				// cap can stop them.
				c := client(lb.base, fmt.Sprintf("198.51.100.%d", 10+i))
				r, err := c.signIn(email, "wrong password "+fmt.Sprint(i))
				if err != nil {
					statuses[i] = err.Error()
					return
				}
				statuses[i] = fmt.Sprintf("%d %s", r.code, r.status)
			}()
		}
		wg.Wait()
		counts := map[string]int{}
		for _, s := range statuses {
			counts[s]++
		}
		checked := counts["200 WRONG_CREDENTIALS_ERROR"] + counts["200 OK"]
		if checked != maxPerAccount {
			t.Fatalf("%d of %d attempts had their password checked, want exactly %d: %v", checked, burst, maxPerAccount, counts)
		}
		if counts["429 "+limited(statuses)] != burst-maxPerAccount {
			t.Fatalf("answers: %v", counts)
		}
		// The account is now locked on every instance, even for the owner.
		for _, x := range in {
			c := client(x.base, "198.51.100.250")
			expect(t, 429, "the right password on "+x.name+" after the burst")(c.signIn(email, password))
		}
	})

	t.Run("a burst over all instances is held to the per-address cap exactly", func(t *testing.T) {
		const burst = 35
		maxPerIP := ginauth.DefaultLimits()[ginauth.ActionSignUp].PerIP.Max
		codes := make([]int, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := client(lb.base, "203.0.113.7")
				r, err := c.signUp(fmt.Sprintf("many%d@example.com", i), password)
				if err == nil {
					codes[i] = r.code
				}
			}()
		}
		wg.Wait()
		ok, limited := 0, 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 429:
				limited++
			}
		}
		if ok != maxPerIP || limited != burst-maxPerIP {
			t.Fatalf("%d sign-ups passed and %d were limited from one address, want %d and %d", ok, limited, maxPerIP, burst-maxPerIP)
		}
	})

	t.Run("a revocation is seen by CheckDatabase on every instance", func(t *testing.T) {
		a := client(in[0].base, "")
		expect(t, 200, "sign-up")(a.signUp("revoke@example.com", password))
		si := expect(t, 200, "sign-in")(a.signIn("revoke@example.com", password))
		for _, x := range in {
			c := client(x.base, "")
			expect(t, 200, "before sign-out on "+x.name)(c.get("/sessioninfo-db", si.access))
		}
		b := client(in[1].base, "")
		expect(t, 200, "sign-out on i2")(b.do("POST", "/auth/signout", si.access, nil))
		for _, x := range in {
			c := client(x.base, "")
			expect(t, 401, "CheckDatabase on "+x.name+" after sign-out")(c.get("/sessioninfo-db", si.access))
		}
	})
}

// TestKeyRotationAcrossInstances: a signing key one instance creates is
// accepted by the others at once, without waiting for their periodic reload.
func TestKeyRotationAcrossInstances(t *testing.T) {
	dsn, _ := database(t)
	const rotation = 3 * time.Second
	in := startInstances(t, dsn, 3, "LOW_ARGON2=1", "KEY_ROTATION="+rotation.String())
	a := client(in[0].base, "")
	expect(t, 200, "sign-up")(a.signUp("keys@example.com", password))
	first := expect(t, 200, "sign-in")(a.signIn("keys@example.com", password))
	kid0 := kidOf(t, first.access)
	// Let the key's signing time pass; only i1 sees traffic meanwhile.
	time.Sleep(rotation + 500*time.Millisecond)
	next := expect(t, 200, "sign-in after the rotation")(a.signIn("keys@example.com", password))
	if kid := kidOf(t, next.access); kid == kid0 {
		t.Fatalf("i1 still signs with %s after the rotation interval", kid)
	}
	for _, x := range in[1:] {
		c := client(x.base, "")
		expect(t, 200, "the new key's token on "+x.name)(c.get("/sessioninfo", next.access))
		expect(t, 200, "the old key's token on "+x.name)(c.get("/sessioninfo", first.access))
	}
}

// TestInstanceKilledUnderLoad: one instance is killed (SIGKILL) while
// clients sign up, sign in, verify and refresh through the proxy. Every
// client finishes through the others, and the database holds no
// half-written sign-up or session.
func TestInstanceKilledUnderLoad(t *testing.T) {
	dsn, db := database(t)
	in := startInstances(t, dsn, 3, "LOW_ARGON2=1")
	lb := startProxy(t, in)
	const clients, rounds = 12, 6
	wait := runClients(lb, "load", clients, rounds)
	// Kill i3 once it is in the middle of the clients' work (a fixed sleep
	// was too short on a loaded machine).
	for deadline := time.Now().Add(60 * time.Second); lb.served[2].Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	in[2].kill()
	before := lb.served[2].Load()
	errs := wait()
	if before == 0 {
		t.Fatal("the killed instance had served nothing: the test did not kill it under load")
	}
	if lb.served[0].Load()+lb.served[1].Load() == 0 || lb.served[2].Load() != before {
		t.Fatalf("served per instance: %d %d %d", lb.served[0].Load(), lb.served[1].Load(), lb.served[2].Load())
	}
	for _, err := range errs {
		t.Error(err)
	}
	var users, logins, orphans int64
	db.Table(models.TableUsers).Count(&users)
	db.Table(models.TableEmailPasswordUsers).Count(&logins)
	db.Raw("SELECT COUNT(*) FROM " + models.TableSessions + " s WHERE NOT EXISTS (SELECT 1 FROM " +
		models.TableUsers + " u WHERE u.id = s.user_id)").Scan(&orphans)
	if users != clients || logins != clients {
		t.Fatalf("%d users and %d e-mail/password logins for %d sign-ups: a half-written sign-up", users, logins, clients)
	}
	if orphans != 0 {
		t.Fatalf("%d sessions of no user", orphans)
	}
}

// runClients starts n clients running script through lb, each with its own
// address and account (prefix<i>@example.com); the returned wait gives the
// errors of those that failed once all have finished.
func runClients(lb *proxy, prefix string, n, rounds int) (wait func() []error) {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- script(client(lb.base, fmt.Sprintf("192.0.2.%d", i+1)), fmt.Sprintf("%s%d@example.com", prefix, i), rounds)
		}()
	}
	return func() []error {
		wg.Wait()
		close(errs)
		var out []error
		for err := range errs {
			if err != nil {
				out = append(out, err)
			}
		}
		return out
	}
}

// script is one client's life: sign up, then rounds of sign-in, verify and
// refresh. A request that a dying instance drops is retried once, as the
// SDKs retry a failed network call; every answer must then be the right one.
func script(c *fdi, email string, rounds int) error {
	retry := func(f func() (*answer, error)) (*answer, error) {
		a, err := f()
		if err != nil || a.code == 502 {
			return f()
		}
		return a, err
	}
	a, err := retry(func() (*answer, error) { return c.signUp(email, password) })
	// A sign-up whose answer was lost with the killed instance may have
	// committed: its retry then finds the address taken.
	if err != nil || a.code != 200 || (a.status != "OK" && !strings.Contains(fmt.Sprint(a.body), "already exists")) {
		return fmt.Errorf("%s: sign-up: %v %v", email, err, a)
	}
	for r := range rounds {
		si, err := retry(func() (*answer, error) { return c.signIn(email, password) })
		if err != nil || si.status != "OK" {
			return fmt.Errorf("%s round %d: sign-in: %v %+v", email, r, err, si)
		}
		v, err := retry(func() (*answer, error) { return c.get("/sessioninfo-db", si.access) })
		if err != nil || v.code != 200 {
			return fmt.Errorf("%s round %d: verify: %v %+v", email, r, err, v)
		}
		rf, err := retry(func() (*answer, error) { return c.refresh(si.refresh) })
		if err != nil || rf.code != 200 || rf.access == "" {
			return fmt.Errorf("%s round %d: refresh: %v %+v", email, r, err, rf)
		}
		v, err = retry(func() (*answer, error) { return c.get("/sessioninfo-db", rf.access) })
		if err != nil || v.code != 200 {
			return fmt.Errorf("%s round %d: verify after refresh: %v %+v", email, r, err, v)
		}
	}
	return nil
}

func (f *fdi) mustSignIn(t *testing.T, email string) string {
	t.Helper()
	return expect(t, 200, "sign-in")(f.signIn(email, password)).refresh
}

// limited returns the message of a 429 answer among statuses ("429 msg").
func limited(statuses []string) string {
	for _, s := range statuses {
		if m, ok := strings.CutPrefix(s, "429 "); ok {
			return m
		}
	}
	return ""
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("access token header: %v", err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}
