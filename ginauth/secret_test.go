package ginauth

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/models"
)

// privateKeyForms returns the ways a loaded signing key's private key could
// appear in a row: its PKCS#8 DER raw, in base64 and in hex, and as PEM.
func privateKeyForms(t *testing.T, a *Auth) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, k := range a.keys.all() {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			t.Fatal(err)
		}
		out[k.kid] = []string{string(der), base64.StdEncoding.EncodeToString(der), hex.EncodeToString(der), "PRIVATE KEY"}
	}
	return out
}

func signingRows(t *testing.T, a *Auth) []models.SigningKey {
	t.Helper()
	var rows []models.SigningKey
	if err := a.db.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no signing keys stored")
	}
	return rows
}

// With Config.SecretKey set, ginauth_signing_keys holds no private key
// material in the clear: each row is sealed (AES-256-GCM, bound to its kid).
// Fails if generateKey stops sealing.
func TestSigningKeysSealedAtRest(t *testing.T) {
	h := newHarness(t, nil) // the harness sets SecretKey
	cl := h.client("header")
	cl.login("u1")
	forms := privateKeyForms(t, h.auth)
	for _, row := range signingRows(t, h.auth) {
		if !seal.IsSealed(row.PrivateKey) {
			t.Fatalf("key %s stored unsealed: %.40q", row.KID, row.PrivateKey)
		}
		for _, f := range forms[row.KID] {
			if strings.Contains(row.PrivateKey, f) {
				t.Fatalf("key %s: private key material in the clear", row.KID)
			}
		}
	}
	// A sealed key copied under another kid does not open.
	rows := signingRows(t, h.auth)
	row := rows[0]
	row.KID = "d-1-copied"
	if _, err := h.auth.keys.decodeKey(&row); !errors.Is(err, errSealedKey) {
		t.Fatalf("a sealed key opened under another kid: %v", err)
	}
}

// Without a SecretKey, New warns loudly and names the fix; a generated
// key in ginauth_secrets binds refresh tokens, shared by every instance on
// the database; signing keys stay in the clear (sealing them under a key
// in the same database would hide nothing).
func TestNoSecretKeyFallback(t *testing.T) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	cfg.SecretKey = nil
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	a1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "Config.SecretKey is not set") ||
		!strings.Contains(logs.String(), "openssl rand -base64 32") {
		t.Fatalf("no clear warning: %s", logs.String())
	}
	var secrets []models.Secret
	if err := cfg.DB.Find(&secrets).Error; err != nil || len(secrets) != 1 || secrets[0].Name != fallbackSecretName {
		t.Fatalf("fallback secret rows %v, %v", secrets, err)
	}
	for _, row := range signingRows(t, a1) {
		if seal.IsSealed(row.PrivateKey) {
			t.Fatal("a key was sealed without a SecretKey")
		}
	}
	// A second instance agrees on the key: a refresh token of one
	// refreshes on the other.
	a2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := a1.CreateSessionTokens(t.Context(), NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a2.rotate(t.Context(), tok.RefreshToken, "", false); err != nil {
		t.Fatalf("the second instance refused the first's refresh token: %v", err)
	}
	if err := cfg.DB.Find(&secrets).Error; err != nil || len(secrets) != 1 {
		t.Fatalf("%d fallback secrets", len(secrets))
	}
}

// Keys stored in the clear (by an instance without a SecretKey) are sealed
// when an instance with one loads them, and keep verifying the tokens they
// signed. Rotating the SecretKey (the old one in OldSecretKeys) re-seals
// them and keeps refresh tokens bound under the old key working.
func TestSecretKeyMigrationAndRotation(t *testing.T) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	cfg.SecretKey = nil
	cfg.Logger = slog.New(slog.DiscardHandler)
	clear, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, before, err := clear.CreateSessionTokens(t.Context(), NewSession{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}

	key1 := bytes.Repeat([]byte{1}, SecretKeySize)
	cfg.SecretKey = key1
	sealed, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range signingRows(t, sealed) {
		if !seal.IsSealed(row.PrivateKey) {
			t.Fatalf("key %s still in the clear after a start with a SecretKey", row.KID)
		}
	}
	if _, err := sealed.verifyAccessToken(t.Context(), before.AccessToken); err != nil {
		t.Fatalf("a token signed before sealing no longer verifies: %v", err)
	}
	// The fallback key is not the SecretKey: sessions bound under it sign
	// out once (docs/migrations.md).
	if _, err := sealed.rotate(t.Context(), before.RefreshToken, "", false); err == nil {
		t.Fatal("a refresh token bound under the fallback key was accepted under the SecretKey")
	}
	_, tok1, err := sealed.CreateSessionTokens(t.Context(), NewSession{UserID: "u2"})
	if err != nil {
		t.Fatal(err)
	}
	oldSeal := signingRows(t, sealed)[0].PrivateKey

	key2 := bytes.Repeat([]byte{2}, SecretKeySize)
	cfg.SecretKey, cfg.OldSecretKeys = key2, [][]byte{key1}
	rotated, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if signingRows(t, rotated)[0].PrivateKey == oldSeal {
		t.Fatal("a key sealed under the old SecretKey was not re-sealed")
	}
	out, err := rotated.rotate(t.Context(), tok1.RefreshToken, "", false)
	if err != nil {
		t.Fatalf("a refresh token bound under the old SecretKey: %v", err)
	}
	if _, err := rotated.rotate(t.Context(), out.token, "", false); err != nil {
		t.Fatalf("its child, bound under the new key: %v", err)
	}

	// Only the new key now: everything is sealed under it, so it still starts.
	cfg.OldSecretKeys = nil
	if _, err := New(cfg); err != nil {
		t.Fatalf("after re-sealing, the old key is no longer needed: %v", err)
	}
}

// A wrong SecretKey, or none, for keys sealed under another is a clear
// error from New, never a panic; so is a malformed key.
func TestWrongSecretKeyIsAClearError(t *testing.T) {
	clk := ginauthtest.NewClock(time.Time{})
	cfg := baseConfig(t, clk)
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.SecretKey = bytes.Repeat([]byte{9}, SecretKeySize)
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "Config.SecretKey") || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("wrong key: %v", err)
	}
	cfg.SecretKey = nil
	cfg.Logger = slog.New(slog.DiscardHandler)
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Config.SecretKey is not set") {
		t.Fatalf("no key for sealed keys: %v", err)
	}
	for _, bad := range []Config{{SecretKey: []byte("short")}, {SecretKey: testSecretKey, OldSecretKeys: [][]byte{[]byte("x")}},
		{OldSecretKeys: [][]byte{testSecretKey}}} {
		c := baseConfig(t, clk)
		c.SecretKey, c.OldSecretKeys = bad.SecretKey, bad.OldSecretKeys
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Fatalf("%q/%q: %v", bad.SecretKey, bad.OldSecretKeys, err)
		}
	}
}
