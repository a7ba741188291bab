package emailpassword

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// TestDefaultParams runs the OWASP defaults for real (about 25 ms a hash).
func TestDefaultParams(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Argon2 = Argon2Params{} })
	if h.ep.cfg.Argon2 != DefaultArgon2Params() {
		t.Fatalf("zero Argon2 gave %+v", h.ep.cfg.Argon2)
	}
	id := h.mustSignUp("ann@b.io", "secret123")
	stored := h.storedHash(id)
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("stored hash %q", stored)
	}
	parts := strings.Split(stored, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16-byte salt, 32-byte key, unpadded base64
		t.Fatalf("salt/key lengths in %q", stored)
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	expectStatus(t, h.signIn("ann@b.io", "secret12"), "WRONG_CREDENTIALS_ERROR")
	if h.storedHash(id) != stored {
		t.Fatal("a hash with the configured parameters was rehashed")
	}
	if NeedsRehash(stored, Argon2Params{}) || !NeedsRehash(stored, Argon2Params{Iterations: 3}) {
		t.Fatal("NeedsRehash")
	}
}

func TestHashPasswordAndParse(t *testing.T) {
	s, err := HashPassword("pw", fastArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("%q", s)
	}
	h := newHasher(fastArgon2.withDefaults(), 1)
	if ok, rehash, err := h.Verify(context.Background(), s, "pw"); !ok || rehash || err != nil {
		t.Fatalf("verify: %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(context.Background(), s, "pW"); ok {
		t.Fatal("wrong password verified")
	}
	if _, err := HashPassword("pw", Argon2Params{Memory: 1 << 30}); err == nil {
		t.Fatal("absurd memory accepted")
	}
	if _, err := HashPassword(strings.Repeat("x", 2000), fastArgon2); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("long password: %v", err)
	}
	bad := []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ=$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$short",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43) + "$extra",
		"$2b$04$tooshort",
	}
	for _, b := range bad {
		if _, err := parseHash(b); err == nil {
			t.Errorf("parseHash accepted %q", b)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	good, _ := HashPassword("pw", fastArgon2)
	f.Add(good)
	f.Add("$2b$04$abcdefghijklmnopqrstuuF4ZykCHUT.SU6jSSNmYVtFfNv2Ok9Qy")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		ph, err := parseHash(s)
		if err != nil || ph.bcrypt {
			return
		}
		if ph.params.validate() != nil || ph.params.Memory > maxMemoryKiB {
			t.Fatalf("accepted out-of-range params %+v", ph.params)
		}
	})
}

// TestBcryptImport: a bcrypt hash from another system verifies and is
// replaced by argon2id at the first sign-in.
func TestBcryptImport(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSignUp("ann@b.io", "placeholder1")
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		bc, err := bcrypt.GenerateFromPassword([]byte("imported1"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		hash := prefix + string(bc[4:])
		if err := kit.Of(h.auth).DB().Model(&models.EmailPasswordUser{}).Where("user_id = ?", id).Update("password_hash", hash).Error; err != nil {
			t.Fatal(err)
		}
		expectStatus(t, h.signIn("ann@b.io", "imported2"), "WRONG_CREDENTIALS_ERROR")
		if h.storedHash(id) != hash {
			t.Fatalf("%s: a failed sign-in changed the hash", prefix)
		}
		before := h.counter("bcrypt").Load()
		expectStatus(t, h.signIn("ann@b.io", "imported1"), "OK")
		if h.counter("bcrypt").Load() != before+1 {
			t.Fatalf("%s: bcrypt was not used", prefix)
		}
		if got := h.storedHash(id); !strings.HasPrefix(got, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("%s: not upgraded: %q", prefix, got)
		}
		expectStatus(t, h.signIn("ann@b.io", "imported1"), "OK")
	}
}

// TestRehashOnParamChange: hashes made with other parameters are upgraded
// at the next successful sign-in, and only then.
func TestRehashOnParamChange(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Argon2 = Argon2Params{Memory: 128, Iterations: 2, Parallelism: 1} })
	id := h.mustSignUp("ann@b.io", "secret123")
	old, err := HashPassword("secret123", fastArgon2) // m=64,t=1
	if err != nil {
		t.Fatal(err)
	}
	if err := kit.Of(h.auth).DB().Model(&models.EmailPasswordUser{}).Where("user_id = ?", id).Update("password_hash", old).Error; err != nil {
		t.Fatal(err)
	}
	expectStatus(t, h.signIn("ann@b.io", "wrong123"), "WRONG_CREDENTIALS_ERROR")
	if h.storedHash(id) != old {
		t.Fatal("rehashed after a failed sign-in")
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	got := h.storedHash(id)
	if !strings.HasPrefix(got, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("not rehashed: %q", got)
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "OK")
	if h.storedHash(id) != got {
		t.Fatal("rehashed again with unchanged parameters")
	}
}

func TestUnrecognisedStoredHash(t *testing.T) {
	h := newHarness(t, nil)
	id := h.mustSignUp("ann@b.io", "secret123")
	if err := kit.Of(h.auth).DB().Model(&models.EmailPasswordUser{}).Where("user_id = ?", id).Update("password_hash", "md5:abc").Error; err != nil {
		t.Fatal(err)
	}
	expectStatus(t, h.signIn("ann@b.io", "secret123"), "WRONG_CREDENTIALS_ERROR")
}

// TestHasherPoolBounds: however many requests arrive at once, at most
// MaxConcurrentHashes hashes run.
func TestHasherPoolBounds(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConcurrentHashes = 2 })
	var active, peak atomic.Int64
	h.ep.hasher.onHash = func(string) {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond) // hold the slot a while
		active.Add(-1)
	}
	ginauthtest.Burst(8, func(i int) {
		// Sign-ups and sign-ins with unknown e-mails (dummy hashes).
		if i%2 == 0 {
			if r := h.signUp("user"+string(rune('a'+i))+"@b.io", "secret123"); status(r) != "OK" {
				t.Errorf("sign-up: %d %s", r.Code, r.Body)
			}
		} else if r := h.signIn("nobody@b.io", "secret123"); status(r) != "WRONG_CREDENTIALS_ERROR" {
			t.Errorf("sign-in: %d %s", r.Code, r.Body)
		}
	})
	if p := peak.Load(); p < 1 || p > 2 {
		t.Fatalf("peak of %d concurrent hashes, want 1..2", p)
	}
}

// TestHasherHonoursContext: a request whose context ends while it waits for
// a hasher gives up at once.
func TestHasherHonoursContext(t *testing.T) {
	hs := newHasher(fastArgon2.withDefaults(), 1)
	held, release := make(chan struct{}), make(chan struct{})
	hs.onHash = func(string) {
		close(held)
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, err := hs.Hash(context.Background(), "pw")
		done <- err
	}()
	<-held
	hs.onHash = nil
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := hs.Hash(ctx, "pw2")
	if !errors.Is(err, errBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting hash: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("did not give up promptly")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
