package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfa}, 32)
	for _, v := range []string{
		hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
	} {
		got, err := parseKey(v)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("parseKey(%q) = %x, %v; want %x", v, got, err, key)
		}
	}
	for _, v := range []string{"short", base64.StdEncoding.EncodeToString(key[:16]), hex.EncodeToString(key[:31]) + "zz"} {
		if got, err := parseKey(v); err == nil {
			t.Errorf("parseKey(%q) = %x, want an error", v, got)
		}
	}
}
