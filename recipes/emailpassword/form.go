package emailpassword

import (
	"context"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Field ids the recipe knows itself.
const (
	FieldEmail    = "email"
	FieldPassword = "password"
)

// SuperTokens' default validation messages; the pre-built UIs show them.
const (
	MsgFieldNotOptional  = "Field is not optional"
	MsgEmailInvalid      = "Email is invalid"
	MsgPasswordTooShort  = "Password must contain at least 8 characters, including a number"
	MsgPasswordTooLong   = "Password's length must be lesser than 100 characters"
	MsgPasswordNoLetter  = "Password must contain at least one alphabet"
	MsgPasswordNoNumber  = "Password must contain at least one number"
	MsgEmailExists       = "This email already exists. Please sign in instead."
	MsgPasswordTooCommon = "This password is too common. Please choose a different one."
)

// DefaultMaxBodyBytes caps request bodies when Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = kit.DefaultBodyLimit

// FormField is an extra sign-up field (a name, an accepted-terms box, ...).
// Its value, which may be any JSON type, is passed to the hooks.
type FormField struct {
	// ID is the field's id in formFields. "email" and "password" are
	// reserved: use Config.ValidateEmail and Config.ValidatePassword.
	ID string
	// Optional fields may be missing or empty; required ones then get
	// "Field is not optional".
	Optional bool
	// Validate returns "" when value is acceptable, otherwise the message
	// to show. nil accepts any value.
	Validate func(ctx context.Context, value any, tenantID string) string
}

// DefaultValidateEmail is the default e-mail check: ginauth.ParseEmail,
// the one every recipe uses (a local part, an @ and a domain whose last
// label has at least two letters; no quoted local parts or IP literals).
// It returns "Email is invalid" or "".
func DefaultValidateEmail(_ context.Context, email, _ string) string {
	if _, ok := ginauth.ParseEmail(email); !ok {
		return MsgEmailInvalid
	}
	return ""
}

// DefaultValidatePassword is SuperTokens' default password policy: 8 to 99
// characters with at least one letter and one number.
func DefaultValidatePassword(_ context.Context, password, _ string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 8:
		return MsgPasswordTooShort
	case n >= 100:
		return MsgPasswordTooLong
	case !strings.ContainsFunc(password, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }):
		return MsgPasswordNoLetter
	case !strings.ContainsFunc(password, func(r rune) bool { return r >= '0' && r <= '9' }):
		return MsgPasswordNoNumber
	}
	return ""
}

// NormaliseEmail trims an address and lower-cases all of it; it is
// ginauth.NormaliseEmail, which every recipe uses.
func NormaliseEmail(email string) string { return ginauth.NormaliseEmail(email) }

// field is one parsed formFields entry.
type field struct {
	present bool // the id was sent with a non-null value
	value   any
}

func (f field) str() string { s, _ := f.value.(string); return s }

// empty reports whether the field is missing, null or "".
func (f field) empty() bool {
	if !f.present {
		return true
	}
	s, ok := f.value.(string)
	return ok && s == ""
}

// parseFormFields reads obj["formFields"] against the allowed ids. Every
// id must be allowed and appear once; email and password values must be
// strings. The email value is trimmed and normalised.
func parseFormFields(obj map[string]json.RawMessage, allowed map[string]bool) (map[string]field, error) {
	raw, ok := obj["formFields"]
	if !ok || string(raw) == "null" {
		return nil, ginauth.BadRequest("Missing input param: formFields")
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, ginauth.BadRequest("formFields must be an array of {\"id\": string, \"value\": any} objects")
	}
	if len(items) > len(allowed) {
		return nil, ginauth.BadRequest("Are you sending too many formFields? Expected at most %d", len(allowed))
	}
	out := make(map[string]field, len(items))
	for i, it := range items {
		if it == nil {
			return nil, ginauth.BadRequest("formFields[%d] must be an object", i)
		}
		var id string
		if err := json.Unmarshal(it["id"], &id); err != nil || id == "" {
			return nil, ginauth.BadRequest("formFields[%d].id must be a non-empty string", i)
		}
		if !allowed[id] {
			return nil, ginauth.BadRequest("Are you sending too many formFields? Unknown field %q", truncate(id, 64))
		}
		if _, dup := out[id]; dup {
			return nil, ginauth.BadRequest("formFields has %q more than once", id)
		}
		var f field
		if rv, ok := it["value"]; ok && string(rv) != "null" {
			if err := json.Unmarshal(rv, &f.value); err != nil {
				return nil, ginauth.BadRequest("formFields[%d].value is not valid JSON", i)
			}
			f.present = true
		}
		if id == FieldEmail || id == FieldPassword {
			s, isStr := f.value.(string)
			if f.present && !isStr {
				return nil, ginauth.BadRequest("the value of formField %q must be a string", id)
			}
			if id == FieldEmail {
				f.value = NormaliseEmail(s)
			}
		}
		out[id] = f
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fieldErr is one entry of a FIELD_ERROR answer.
type fieldErr struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}
