package emaildelivery

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// TestMessageWireFormat checks what the SMTP server cannot show after its
// own line-ending normalisation: CRLF everywhere, 7-bit data, short lines.
func TestMessageWireFormat(t *testing.T) {
	from := &mail.Address{Name: "Todös", Address: "noreply@todos.example"}
	to := &mail.Address{Address: "zoe@example.com"}
	long := strings.Repeat("ünïcödé ", 200) + "\n.dot\n"
	for name, e := range map[string]Email{
		"multipart": {Subject: "Grüße", Text: long, HTML: "<p>" + long + "</p>"},
		"text only": {Subject: "plain", Text: long},
	} {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			msg, err := message(from, to, e, now)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range bytes.Split(msg, []byte("\r\n")) {
				if bytes.IndexByte(line, '\n') >= 0 || bytes.IndexByte(line, '\r') >= 0 {
					t.Fatalf("line %d has a bare CR or LF: %q", i, line)
				}
				if len(line) > 78 && !bytes.HasPrefix(line, []byte("Content-Type:")) {
					t.Errorf("line %d is %d bytes long", i, len(line))
				}
				for _, b := range line {
					if b >= 0x80 {
						t.Fatalf("line %d is not 7-bit: %q", i, line)
					}
				}
			}
			m, err := mail.ReadMessage(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Header.Get("Date"); got != "Fri, 02 Jan 2026 03:04:05 +0000" {
				t.Errorf("Date = %q", got)
			}
			if m.Header.Get("MIME-Version") != "1.0" {
				t.Errorf("MIME-Version = %q", m.Header.Get("MIME-Version"))
			}
			if got := m.Header.Get("From"); got != "=?utf-8?q?Tod=C3=B6s?= <noreply@todos.example>" {
				t.Errorf("From = %q", got)
			}
		})
	}
}
