package emaildelivery

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// ErrInvalidEmail is returned (wrapped) when an Email cannot be sent as it
// is: a bad recipient address, a subject with a line break, no body.
var ErrInvalidEmail = errors.New("emaildelivery: invalid e-mail")

// message renders e as an RFC 5322 message with CRLF line endings:
// multipart/alternative with a text and an HTML part (text only when
// e.HTML is empty), bodies quoted-printable so that the message is 7-bit
// clean, and a Q-encoded subject when it is not ASCII.
func message(from, to *mail.Address, e Email, now time.Time) ([]byte, error) {
	if strings.ContainsAny(e.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: the subject contains a line break", ErrInvalidEmail)
	}
	if e.Text == "" && e.HTML == "" {
		return nil, fmt.Errorf("%w: no body", ErrInvalidEmail)
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies, please

	if e.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, e.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	// Least preferred first (RFC 2046 §5.1.4): clients show the last part
	// they can render.
	for _, part := range []struct{ typ, body string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		if part.body == "" {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

type writer interface{ Write([]byte) (int, error) }

func writeQP(w writer, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	// The CRLF before a multipart delimiter belongs to the delimiter, and
	// the DATA terminator ends a single part: add nothing.
	return qp.Close()
}

// messageID returns a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

// parseAddress parses one address ("a@b.c" or "Name <a@b.c>"), refusing
// anything that could smuggle a header or an SMTP command.
func parseAddress(field, s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: %s contains a line break", ErrInvalidEmail, field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %v", ErrInvalidEmail, field, s, err)
	}
	if strings.ContainsAny(a.Address, "<>\r\n ") {
		return nil, fmt.Errorf("%w: %s %q is not a plain address", ErrInvalidEmail, field, s)
	}
	return a, nil
}
