package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpenRotateAndRefuse(t *testing.T) {
	old, err := New("test", key(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := old.Seal([]byte("secret"), "row-1")
	if strings.Contains(v, "secret") || !IsSealed(v) || !old.Current(v) {
		t.Fatalf("sealed value %q", v)
	}
	s, err := New("test", key(2), [][]byte{key(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(v, "row-1"); err != nil || string(got) != "secret" {
		t.Fatalf("old key does not open: %q %v", got, err)
	}
	if s.Current(v) {
		t.Fatal("a value under the old key counts as current")
	}
	// Another row's aad, another key, a flipped byte, a foreign label: refused.
	if _, err := s.Open(v, "row-2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other aad: %v", err)
	}
	other, _ := New("test", key(3), nil)
	if _, err := other.Open(v, "row-1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key: %v", err)
	}
	b := []byte(v)
	b[len(b)-3] ^= 1
	if _, err := s.Open(string(b), "row-1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered: %v", err)
	}
	label, _ := New("other-label", key(1), nil)
	if _, err := label.Open(v, "row-1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other label: %v", err)
	}
	for _, bad := range []string{"", "plain", "v1.x", "v1.a.b.c", "v2." + v[3:]} {
		if _, err := s.Open(bad, "row-1"); !errors.Is(err, ErrOpen) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestKeySize(t *testing.T) {
	if _, err := New("test", []byte("short"), nil); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := New("test", key(1), [][]byte{[]byte("short")}); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short old key: %v", err)
	}
}
