package kit

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/bridge"
)

// DefaultBodyLimit caps request bodies read with ReadJSONObject and
// DecodeJSON when the caller passes no limit.
const DefaultBodyLimit = 64 << 10

// readBody reads at most limit bytes (0 meaning DefaultBodyLimit) of the
// request body. Too large a body is a 413; bytes that are not UTF-8, a
// NUL, or a JSON string or key with a NUL or over
// ginauth.MaxInputStringBytes, a 400: the router's input check, which apps
// may skip on their own routes.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	return bridge.Get().ReadBody(c, limit)
}

// CheckString returns a 400 *ginauth.Error, naming what, when s holds a
// NUL character, is not valid UTF-8, or (maxLen > 0) is longer than maxLen
// bytes; nil otherwise. Recipes use it on values that reach the database
// from anywhere but a request the router checked (e.g. their Go API).
func CheckString(what, s string, maxLen int) error {
	return bridge.Get().CheckString(what, s, maxLen)
}

// CheckJSONValue encodes v with encoding/json and returns CheckString's
// error, naming what, for the first object key or string of the result
// that holds a NUL character: PostgreSQL's jsonb refuses "\u0000", and
// text columns refuse the byte. (encoding/json already turns bytes that
// are not UTF-8 into U+FFFD.) No length cap: the caller bounds the whole
// document. A value that cannot be encoded is a 400 too.
func CheckJSONValue(what string, v any) error {
	return bridge.Get().CheckJSONValue(what, v)
}

// ReadJSONObject reads the request body as one JSON object of at most
// limit bytes (0 means DefaultBodyLimit) and returns its members undecoded.
// An empty body is an empty object when optional is true (the frontend SDKs
// send no body to some routes) and a 400 otherwise. Every failure is an
// *Error saying what was wrong.
func ReadJSONObject(c *gin.Context, limit int64, optional bool) (map[string]json.RawMessage, error) {
	body, err := readBody(c, limit)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return map[string]json.RawMessage{}, nil
		}
		return nil, ginauth.BadRequest("the request body is empty: send a JSON object")
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, ginauth.BadRequest("the request body must be a JSON object")
	}
	if dec.More() {
		return nil, ginauth.BadRequest("the request body must hold a single JSON object")
	}
	return obj, nil
}

// DecodeJSON reads the request body (at most limit bytes, 0 meaning
// DefaultBodyLimit) into v, naming the field when one has the wrong type.
func DecodeJSON(c *gin.Context, v any, limit int64) error {
	body, err := readBody(c, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return ginauth.BadRequest("the request body is empty: send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return ginauth.BadRequest("the field %s has the wrong type: expected %s", te.Field, te.Type)
		}
		return ginauth.BadRequest("the request body is not a valid JSON object")
	}
	return nil
}

// StringField reads member name of obj as a string of at most maxLen
// bytes, without NUL characters (CheckString). A missing or null member is
// an error only when required; the messages follow SuperTokens' ("Missing
// input param: ...").
func StringField(obj map[string]json.RawMessage, name string, maxLen int, required bool) (string, error) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", ginauth.BadRequest("Missing input param: %s", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", ginauth.BadRequest("%s must be a string", name)
	}
	if err := CheckString(name, s, maxLen); err != nil {
		return "", err
	}
	return s, nil
}
