package jws

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// errJSON is what DecodePayload returns for anything encoding/json would
// refuse; callers only tell "decoded" from "not".
var errJSON = errors.New("jws: payload is not a JSON object")

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// DecodePayload decodes a JSON object into a map exactly as
// json.Unmarshal(b, &m) does for m of type map[string]any: numbers as
// float64, objects as map[string]any, arrays as []any (empty, not nil, for
// []), strings with the same unescaping and the same replacement of invalid
// UTF-8, the last of duplicate keys winning, "null" giving a nil map and no
// error, and an error wherever encoding/json reports one (syntax, a
// non-object at the top, a number out of float64 range, nesting deeper
// than 10000). FuzzDecodePayload holds it to that.
//
// It is faster than encoding/json because it converts the input to a string
// once and returns substrings of it for every key and string value that
// needs no unescaping.
func DecodePayload(b []byte) (map[string]any, error) {
	d := decoder{s: string(b)}
	d.skipWS()
	if d.i >= len(d.s) {
		return nil, errJSON
	}
	var m map[string]any
	switch d.s[d.i] {
	case '{':
		var err error
		if m, err = d.object(); err != nil {
			return nil, err
		}
	case 'n':
		if !d.literal("null") {
			return nil, errJSON
		}
	default:
		return nil, errJSON
	}
	d.skipWS()
	if d.i != len(d.s) {
		return nil, errJSON
	}
	return m, nil
}

type decoder struct {
	s     string
	i     int
	depth int
}

func (d *decoder) skipWS() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) literal(lit string) bool {
	if len(d.s)-d.i < len(lit) || d.s[d.i:d.i+len(lit)] != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// value decodes the value at d.i (whitespace already skipped).
func (d *decoder) value() (any, error) {
	if d.i >= len(d.s) {
		return nil, errJSON
	}
	switch c := d.s[d.i]; c {
	case '{':
		m, err := d.object()
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a, err := d.array()
		if err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return s, nil
	case 't':
		if d.literal("true") {
			return true, nil
		}
	case 'f':
		if d.literal("false") {
			return false, nil
		}
	case 'n':
		if d.literal("null") {
			return nil, nil
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
	}
	return nil, errJSON
}

type member struct {
	k string
	v any
}

// object decodes the object at d.i. The members are gathered first (on the
// stack for up to 16 of them) so that the map is made at its final size:
// growing it one insert at a time costs several allocations.
func (d *decoder) object() (map[string]any, error) {
	d.depth++
	if d.depth > maxDepth {
		return nil, errJSON
	}
	d.i++ // '{'
	d.skipWS()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		d.depth--
		return make(map[string]any), nil
	}
	var buf [16]member
	ms := buf[:0]
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, errJSON
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipWS()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, errJSON
		}
		d.i++
		d.skipWS()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{k, v})
		d.skipWS()
		if d.i >= len(d.s) {
			return nil, errJSON
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipWS()
		case '}':
			d.i++
			d.depth--
			m := make(map[string]any, len(ms))
			for _, e := range ms {
				m[e.k] = e.v // in order: the last of duplicate keys wins
			}
			return m, nil
		default:
			return nil, errJSON
		}
	}
}

func (d *decoder) array() ([]any, error) {
	d.depth++
	if d.depth > maxDepth {
		return nil, errJSON
	}
	d.i++ // '['
	a := make([]any, 0)
	d.skipWS()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipWS()
		if d.i >= len(d.s) {
			return nil, errJSON
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipWS()
		case ']':
			d.i++
			d.depth--
			return a, nil
		default:
			return nil, errJSON
		}
	}
}

// str decodes the string at d.i (an opening quote). Plain strings are
// substrings of the input; anything with an escape or invalid UTF-8 is
// validated here and unquoted by encoding/json itself.
func (d *decoder) str() (string, error) {
	start := d.i
	i := start + 1
	plain := true
	for {
		if i >= len(d.s) {
			return "", errJSON
		}
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			if plain {
				return d.s[start+1 : i], nil
			}
			tok := d.s[start:d.i]
			if !hasBackslash(tok) && utf8.ValidString(tok) {
				return d.s[start+1 : i], nil
			}
			var out string
			if err := json.Unmarshal([]byte(tok), &out); err != nil {
				return "", errJSON
			}
			return out, nil
		case c < 0x20:
			return "", errJSON
		case c == '\\':
			plain = false
			i++
			if i >= len(d.s) {
				return "", errJSON
			}
			switch d.s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(d.s)-i < 5 || !isHex4(d.s[i+1:i+5]) {
					return "", errJSON
				}
				i += 5
			default:
				return "", errJSON
			}
		case c >= utf8.RuneSelf:
			plain = false
			i++
		default:
			i++
		}
	}
}

func hasBackslash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number decodes a JSON number (RFC 8259 grammar) as a float64.
func (d *decoder) number() (any, error) {
	s, start, i := d.s, d.i, d.i
	if s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return nil, errJSON
	}
	switch {
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return nil, errJSON
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, errJSON
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, errJSON
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return nil, errJSON
	}
	d.i = i
	return f, nil
}
