package ginauth

import (
	"net/mail"
	"regexp"
	"strings"
)

// emailRE is the shape ParseEmail accepts, on a normalised address: a
// local part of dot-separated runs of anything but specials, spaces,
// control and other invisible characters, "@", then a dotted host name of
// ASCII letters, digits and inner hyphens whose last label has at least
// two letters.
// Quoted local parts and bracketed IP literals are refused: no mailbox
// people sign up with needs them, and they are a favourite of filter
// evasion.
var emailRE = regexp.MustCompile(`^[^<>()\[\]\\.,;:\s@"\p{C}\p{Z}\x{fffd}]+(?:\.[^<>()\[\]\\.,;:\s@"\p{C}\p{Z}\x{fffd}]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// ParseEmail is the one e-mail check of ginauth and its recipes: it
// normalises email (NormaliseEmail) and reports whether the result is an
// address ginauth accepts: at most 254 bytes, a local part of at most 64
// (RFC 5321), the shape of emailRE, and one that net/mail parses back to
// itself, so that every accepted address can also be sent to.
func ParseEmail(email string) (normalised string, ok bool) {
	email = NormaliseEmail(email)
	at := strings.LastIndexByte(email, '@')
	if len(email) > 254 || at < 1 || at > 64 || !emailRE.MatchString(email) {
		return email, false
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return email, false
	}
	return email, true
}
