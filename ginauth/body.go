package ginauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// DefaultBodyLimit caps request bodies read with ReadJSONObject and
// DecodeJSON when the caller passes no limit.
const DefaultBodyLimit = 64 << 10

// readBody reads at most limit bytes of the request body. Too large a body
// is a 413; bytes that are not UTF-8 (which encoding/json would quietly
// turn into U+FFFD), a NUL, or a JSON string or key with a NUL or over
// MaxInputStringBytes, a 400 (see input.go).
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge(limit)
		}
		return nil, BadRequest("the request body could not be read")
	}
	if !utf8.Valid(body) {
		return nil, BadRequest("the request body is not valid UTF-8")
	}
	// The router checked the bodies of auth routes already; apps may call
	// these helpers from their own routes too.
	if _, ok := c.Get(inputCheckedKey{}); !ok {
		if err := checkJSONBody(body); err != nil {
			return nil, err
		}
	}
	return body, nil
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
		return nil, BadRequest("the request body is empty: send a JSON object")
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, BadRequest("the request body must be a JSON object")
	}
	if dec.More() {
		return nil, BadRequest("the request body must hold a single JSON object")
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
		return BadRequest("the request body is empty: send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return BadRequest("the field %s has the wrong type: expected %s", te.Field, te.Type)
		}
		return BadRequest("the request body is not a valid JSON object")
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
			return "", BadRequest("Missing input param: %s", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", BadRequest("%s must be a string", name)
	}
	if err := CheckString(name, s, maxLen); err != nil {
		return "", err
	}
	return s, nil
}

// WriteGeneralError answers 200 {"status":"GENERAL_ERROR","message":...},
// the FDI shape the frontend SDKs show to the user, and records cause (which
// is never sent) in c.Errors and the log.
func (a *Auth) WriteGeneralError(c *gin.Context, message string, cause error) {
	if cause != nil {
		_ = c.Error(cause)
		a.log.WarnContext(c.Request.Context(), "ginauth: general error", "path", c.Request.URL.Path, "message", message, "error", cause)
	}
	c.JSON(http.StatusOK, gin.H{"status": "GENERAL_ERROR", "message": message})
}

// DBContext returns the context to give the database for ctx: the
// request's own context when ctx is a *gin.Context. Gin recycles its
// contexts once a handler returns, while database/sql may still look at a
// query's context a moment later, so a *gin.Context must not reach it.
// Every database call in ginauth and its recipes goes through it, so apps
// may pass c wherever a context.Context is asked for.
func DBContext(ctx context.Context) context.Context {
	if c, ok := ctx.(*gin.Context); ok && c.Request != nil {
		return c.Request.Context()
	}
	return ctx
}
