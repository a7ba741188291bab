package ginauth

import (
	"strings"
	"testing"
)

// TestParseEmail is the table of the one e-mail check. Before it,
// emailpassword and passwordless each had a regexp of their own and
// disagreed: emailpassword accepted quoted local parts and bracketed IPv4
// literals, passwordless refused both (the "disagreement" rows). Both now
// use ParseEmail and refuse them.
func TestParseEmail(t *testing.T) {
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ann@example.com", "ann@example.com", true},
		{"  Ann.Smith+tag@Example.CO.uk ", "ann.smith+tag@example.co.uk", true},
		{"o'brien@x-y.io", "o'brien@x-y.io", true},
		{strings.Repeat("a", 64) + "@x.io", strings.Repeat("a", 64) + "@x.io", true},
		// The old disagreements: emailpassword said yes, passwordless no.
		{`"ann.smith"@example.com`, `"ann.smith"@example.com`, false},
		{"ann@[192.168.0.1]", "ann@[192.168.0.1]", false},
		{"ann@[999.1.1.1]", "ann@[999.1.1.1]", false},
		// Refused by both before, and still.
		{"ann", "ann", false},
		{"ann@", "ann@", false},
		{"@x.io", "@x.io", false},
		{"ann@x", "ann@x", false},
		{"ann@x.c", "ann@x.c", false},
		{"ann@x.123", "ann@x.123", false},
		{"ann..b@x.io", "ann..b@x.io", false},
		{".ann@x.io", ".ann@x.io", false},
		{"ann@-x.io", "ann@-x.io", false},
		{"ann@x-.io", "ann@x-.io", false},
		{"ann b@x.io", "ann b@x.io", false},
		{"ann@b@x.io", "ann@b@x.io", false},
		{"ann\x00@x.io", "ann\x00@x.io", false},
		{"Ann <ann@x.io>", "ann <ann@x.io>", false},
		// New: RFC 5321's 64-byte local part, 254 bytes in all.
		{long + "@x.io", long + "@x.io", false},
		{"a@" + strings.Repeat("b", 250) + ".io", "a@" + strings.Repeat("b", 250) + ".io", false},
		// Invisible characters (no-break or zero-width space), which the old
		// regexps let through.
		{"ann\u00a0b@x.io", "ann\u00a0b@x.io", false},
		{"ann\u200bb@x.io", "ann\u200bb@x.io", false},
	} {
		got, ok := ParseEmail(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
