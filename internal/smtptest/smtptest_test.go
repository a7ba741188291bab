package smtptest

import (
	"crypto/tls"
	"encoding/base64"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// A raw session: HELO, AUTH with a continuation, bad commands, a base64
// body, RSET and NOOP.
func TestRawSession(t *testing.T) {
	srv := StartWith(t, Options{ImplicitTLS: true, Username: "u", Password: "p"})
	conn, err := tls.Dial("tcp", srv.Addr(), srv.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	step := func(cmd string, want int) {
		t.Helper()
		if cmd != "" {
			if err := tp.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := tp.ReadResponse(want); err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
	}
	step("", 220)
	step("HELO me", 250)
	step("MAIL FROM:<a@b.example>", 530)
	step("AUTH LOGIN", 504)
	step("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00u\x00wrong")), 535)
	step("AUTH PLAIN", 334)
	step(base64.StdEncoding.EncodeToString([]byte("\x00u\x00p")), 235)
	step("MAIL FROM:a@b.example", 501)
	step("RCPT TO:<c@d.example>", 503)
	step("DATA", 503)
	step("MAIL FROM:<a@b.example> BODY=8BITMIME", 250)
	step("RSET", 250)
	step("NOOP", 250)
	step("VRFY x", 502)
	step("MAIL FROM:<a@b.example>", 250)
	step("RCPT TO:<c@d.example>", 250)
	step("DATA", 354)
	body := "Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("héllo https://x.example/a\n")) + "\r\n.\r\n"
	if _, err := conn.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	step("", 250)
	step("QUIT", 221)

	m := srv.WaitForMessage(t, 5*time.Second)
	if m.ParseError != nil || m.Text != "héllo https://x.example/a\n" || m.Subject != "hi" || m.AuthUser != "u" || !m.TLS {
		t.Fatalf("%v: %q %v", m, m.Text, m.ParseError)
	}
	if l := m.Links(); len(l) != 1 || l[0] != "https://x.example/a" {
		t.Errorf("Links = %q", l)
	}
	if !strings.Contains(m.String(), "Subject:\"hi\"") {
		t.Errorf("String = %s", m)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "AUTH" && c.Line != "AUTH [redacted]" {
			t.Errorf("AUTH logged as %q", c.Line)
		}
	}
	if srv.RootCAs() == nil {
		t.Error("no RootCAs")
	}
}
