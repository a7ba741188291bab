package passwordless

import (
	"context"
	"log/slog"
	"regexp"
	"strings"

	"github.com/ginauth/ginauth/ginauth"
)

// Messages of the default validators, shown by the frontend in a
// GENERAL_ERROR answer.
const (
	MsgEmailInvalid = "Email is invalid"
	MsgPhoneInvalid = "Phone number is invalid: enter it in international format, with + and the country code (e.g. +14155550123)"
)

// Contact is where codes are sent: exactly one of Email and PhoneNumber.
// Build one with EmailContact or PhoneContact.
type Contact struct {
	Email       string
	PhoneNumber string
}

// EmailContact returns the contact for an e-mail address.
func EmailContact(email string) Contact { return Contact{Email: email} }

// PhoneContact returns the contact for a phone number.
func PhoneContact(phoneNumber string) Contact { return Contact{PhoneNumber: phoneNumber} }

// IsEmail reports whether the contact is an e-mail address.
func (c Contact) IsEmail() bool { return c.Email != "" }

// String returns the address or number.
func (c Contact) String() string {
	if c.Email != "" {
		return c.Email
	}
	return c.PhoneNumber
}

// LogValue logs the kind of contact and its value.
func (c Contact) LogValue() slog.Value {
	if c.Email != "" {
		return slog.GroupValue(slog.String("email", c.Email))
	}
	return slog.GroupValue(slog.String("phoneNumber", c.PhoneNumber))
}

// rateKey is the account name the rate limiter counts the contact under.
func (c Contact) rateKey(tenantID string) string {
	if c.Email != "" {
		return "passwordless:" + tenantID + ":email:" + c.Email
	}
	return "passwordless:" + tenantID + ":phone:" + c.PhoneNumber
}

// NormaliseEmail trims an address and lower-cases all of it; it is
// ginauth.NormaliseEmail, which every recipe uses, so that "Ann@X.io" and
// "ann@x.io" are one user.
func NormaliseEmail(email string) string { return ginauth.NormaliseEmail(email) }

// NormalisePhoneNumber removes the spaces, dashes, dots and parentheses
// people type in phone numbers and turns a leading international "00"
// into "+". It does not check the result: see DefaultValidatePhoneNumber.
func NormalisePhoneNumber(phone string) string {
	phone = strings.TrimSpace(phone)
	var b strings.Builder
	for _, r := range phone {
		switch r {
		case ' ', '-', '.', '(', ')', '\u00a0', '\t':
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	return out
}

var (
	// emailRE: dot-separated runs of anything but specials and spaces,
	// "@", a dotted host name ending in an alphabetic label.
	emailRE = regexp.MustCompile(`^[^<>()\[\]\\.,;:\s@"\x00-\x1f\x7f\x{fffd}]+(?:\.[^<>()\[\]\\.,;:\s@"\x00-\x1f\x7f\x{fffd}]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
	// e164RE: "+", a country code not starting with 0, 7 to 15 digits in
	// all (ITU-T E.164 allows at most 15).
	e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// DefaultValidateEmail checks a normalised e-mail address: a local part, an
// @ and a domain whose last label has at least two letters, 254 bytes at
// most. It returns MsgEmailInvalid or "".
func DefaultValidateEmail(_ context.Context, email, _ string) string {
	if len(email) > 254 || !emailRE.MatchString(email) {
		return MsgEmailInvalid
	}
	return ""
}

// DefaultValidatePhoneNumber checks a normalised phone number against
// E.164: "+", the country code and the number, 7 to 15 digits in all. It
// returns MsgPhoneInvalid or "". It does not know which numbers each
// country assigns; an app that needs that plugs in a full parser
// (libphonenumber) through Config.ValidatePhoneNumber.
func DefaultValidatePhoneNumber(_ context.Context, phone, _ string) string {
	if !e164RE.MatchString(phone) {
		return MsgPhoneInvalid
	}
	return ""
}

// normalise returns the contact with its value normalised, or an
// *InvalidContactError when it is not exactly one of e-mail and phone.
func (c Contact) normalise() (Contact, error) {
	switch {
	case c.Email != "" && c.PhoneNumber != "":
		return c, &InvalidContactError{Message: "give an e-mail address or a phone number, not both"}
	case c.Email != "":
		return Contact{Email: NormaliseEmail(c.Email)}, nil
	case c.PhoneNumber != "":
		return Contact{PhoneNumber: NormalisePhoneNumber(c.PhoneNumber)}, nil
	}
	return c, &InvalidContactError{Message: "give an e-mail address or a phone number"}
}

// checkContact normalises and validates a contact against the configured
// contact method and validators.
func (r *Recipe) checkContact(ctx context.Context, tenantID string, c Contact) (Contact, error) {
	c, err := c.normalise()
	if err != nil {
		return c, err
	}
	if c.IsEmail() {
		if !r.cfg.ContactMethod.allowsEmail() {
			return c, &InvalidContactError{Message: "sign-in by e-mail is not enabled; use a phone number"}
		}
		if msg := r.cfg.ValidateEmail(ctx, c.Email, tenantID); msg != "" {
			return c, &InvalidContactError{Message: msg}
		}
		return c, nil
	}
	if !r.cfg.ContactMethod.allowsPhone() {
		return c, &InvalidContactError{Message: "sign-in by phone is not enabled; use an e-mail address"}
	}
	if msg := r.cfg.ValidatePhoneNumber(ctx, c.PhoneNumber, tenantID); msg != "" {
		return c, &InvalidContactError{Message: msg}
	}
	return c, nil
}
