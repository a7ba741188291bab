package ginauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// The input check. Every auth API request (every recipe's routes, the
// dashboard's too, whoever wrote the recipe) passes it before its handler
// runs: a NUL character or bytes that are not UTF-8 in the path, a query
// parameter, a form field, a JSON string or object key, or a header
// ginauth reads, and strings over MaxInputStringBytes, are answered with a
// 400 naming the problem. PostgreSQL refuses both kinds of string with an
// error, which would otherwise surface as a 503 "database unavailable".
// Recipes cap their own fields tighter where they read them. App routes
// outside the auth API never pay for it.
const (
	// MaxInputStringBytes caps each query parameter (name and value),
	// JSON string, JSON object key and form field name of an auth API
	// request, and the headers the input check reads.
	MaxInputStringBytes = 16 << 10
	// MaxFormValueBytes caps each form field value: more than other
	// strings, as the dashboard's metadata editor sends a whole JSON
	// document in one field.
	MaxFormValueBytes = 256 << 10
	// MaxRequestBodyBytes caps the body of every auth API request, before
	// any recipe's own (smaller) cap applies.
	MaxRequestBodyBytes = 1 << 20
)

// checkedHeaders are the request headers auth routes read (besides
// cookies, whose values net/http already restricts to printable ASCII).
// Authorization is checked for NUL and UTF-8 but not capped: access
// tokens with large payloads are the app's choice.
var checkedHeaders = []string{HeaderRID, HeaderAuthMode, HeaderAntiCSRF, HeaderFDIVersion, HeaderAccessToken,
	HeaderRefreshToken, "Authorization"}

// inputCheckedKey marks a request whose body the router already checked,
// so that the body helpers do not walk it twice.
type inputCheckedKey struct{}

// checkString returns a 400 *Error, naming what, when s holds a NUL
// character, is not valid UTF-8, or (maxLen > 0) is longer than maxLen
// bytes; nil otherwise. The kit exports it as kit.CheckString.
func checkString(what, s string, maxLen int) error {
	switch {
	case !utf8.ValidString(s):
		return BadRequest("%s is not valid UTF-8", what)
	case strings.IndexByte(s, 0) >= 0:
		return BadRequest("%s contains a NUL character", what)
	case maxLen > 0 && len(s) > maxLen:
		return BadRequest("%s is longer than %d bytes", what, maxLen)
	}
	return nil
}

// checkJSONValue (kit.CheckJSONValue) encodes v with encoding/json and returns checkString's
// error, naming what, for the first object key or string of the result
// that holds a NUL character: PostgreSQL's jsonb refuses "\u0000", and
// text columns refuse the byte. (encoding/json already turns bytes that
// are not UTF-8 into U+FFFD.) No length cap: the caller bounds the whole
// document. A value that cannot be encoded is a 400 too.
func checkJSONValue(what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return BadRequest("%s cannot be encoded as JSON: %v", what, err)
	}
	if err := checkJSONStrings(b, 0); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Message += " (in " + what + ")"
		}
		return err
	}
	return nil
}

// named is "what" followed by the name when the name is safe and short
// enough to repeat in a message, else what alone.
func named(what, name string) string {
	if name == "" || len(name) > 64 || !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return what
	}
	return fmt.Sprintf("%s %q", what, name)
}

// checkJSONBody walks every string and object key of a JSON body. A body
// that is not JSON is left to the handler (which answers its own 400); a
// raw NUL byte is refused whatever the body is.
func checkJSONBody(body []byte) error {
	if bytes.IndexByte(body, 0) >= 0 {
		return BadRequest("the request body contains a NUL byte")
	}
	if !utf8.Valid(body) {
		return BadRequest("the request body is not valid UTF-8")
	}
	return checkJSONStrings(body, MaxInputStringBytes)
}

// checkJSONStrings walks the strings and object keys of a JSON document,
// refusing NUL characters and (maxLen > 0) strings longer than maxLen. It
// stops quietly at the first syntax error.
func checkJSONStrings(body []byte, maxLen int) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// inObject[len-1] says whether the innermost container is an object,
	// whose tokens alternate key, value.
	var inObject []bool
	wantKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the handler reports
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				inObject = append(inObject, t == '{')
				wantKey = t == '{'
				continue
			}
			inObject = inObject[:len(inObject)-1]
			wantKey = len(inObject) > 0 && inObject[len(inObject)-1] // a value ended
			continue
		case string:
			what := "a JSON string"
			if wantKey {
				what = "a JSON object key"
			}
			if err := checkString(what, t, maxLen); err != nil {
				return err
			}
		}
		// After a key comes its value; after a value, in an object, a key.
		if wantKey {
			wantKey = false
		} else {
			wantKey = len(inObject) > 0 && inObject[len(inObject)-1]
		}
	}
}

// checkValues checks parsed query or form values. maxValue caps values
// (0: no cap); names are always capped.
func checkValues(where string, vals url.Values, maxValue int) error {
	for k, vs := range vals {
		if err := checkString("a "+where+" name", k, MaxInputStringBytes); err != nil {
			return err
		}
		for _, v := range vs {
			if err := checkString(named("the "+where, k), v, maxValue); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRequest is the input check of one auth API request: path, query,
// the headers ginauth reads, and the body (read here, at most
// MaxRequestBodyBytes, and put back for the handler).
func checkRequest(c *gin.Context) error {
	req := c.Request
	if err := checkString("the request path", req.URL.Path, 0); err != nil {
		return err
	}
	if req.URL.RawQuery != "" {
		// Pairs with malformed escapes are dropped here as they are by
		// c.Query, so no handler ever sees them.
		q, _ := url.ParseQuery(req.URL.RawQuery)
		if err := checkValues("query parameter", q, MaxInputStringBytes); err != nil {
			return err
		}
	}
	for _, h := range checkedHeaders {
		limit := MaxInputStringBytes
		if h == "Authorization" {
			limit = 0
		}
		for _, v := range req.Header.Values(h) {
			if err := checkString(named("the header", h), v, limit); err != nil {
				return err
			}
		}
	}
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, req.Body, MaxRequestBodyBytes))
	_ = req.Body.Close()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(MaxRequestBodyBytes)
		}
		return BadRequest("the request body could not be read")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return BadRequest("the form could not be read")
		}
		err = checkValues("form field", f, MaxFormValueBytes)
		if err != nil {
			return err
		}
	case strings.HasPrefix(mt, "multipart/"):
		// No ginauth route reads multipart bodies; ParseForm ignores them.
	default:
		if err := checkJSONBody(body); err != nil {
			return err
		}
	}
	c.Set(inputCheckedKey{}, true)
	return nil
}

// checkInput runs the input check for route r and answers a refused
// request, through the recipe's OnBadInput writer when it set one. It
// reports whether the request may go on.
func (a *Auth) checkInput(c *gin.Context, r *route) bool {
	err := checkRequest(c)
	if err == nil {
		return true
	}
	a.rejectInput(c, r, err)
	return false
}

// rejectInput answers a request the input check refused. r may be nil
// (a path under the API base path that no route serves).
func (a *Auth) rejectInput(c *gin.Context, r *route, err error) {
	a.log.DebugContext(c.Request.Context(), "ginauth: request refused by the input check", "error", err)
	if r != nil {
		if w := a.badInput[r.recipe]; w != nil {
			e := asError(err)
			_ = c.Error(e)
			w(c, e)
			c.Abort()
			return
		}
	}
	a.writeError(c, err)
}

// checkUnmatchedPath is the input check of a path under the API base path
// that no route serves: NUL or non-UTF-8 bytes anywhere, or an over-long
// tenant id before a route's path, are answered 400 here rather than
// passed on to the app. It returns the route the path would reach with a
// valid tenant id, if any, whose recipe then writes the answer.
func (a *Auth) checkUnmatchedPath(method, rel string) (*route, error) {
	var r *route
	if i := strings.IndexByte(rel[min(1, len(rel)):], '/'); len(rel) > 1 && i >= 0 {
		if rt, ok := a.routeIndex[method+" "+rel[i+1:]]; ok && !rt.NoTenant {
			r = rt
			if i > maxTenantIDBytes {
				return r, BadRequest("the tenant id in the path is longer than %d bytes", maxTenantIDBytes)
			}
		}
	}
	return r, checkString("the request path", rel, 0)
}

// maxTenantIDBytes is the longest tenant id validTenantID accepts.
const maxTenantIDBytes = 64

// OnBadInput sets how the recipe's routes answer a request the input check
// refused (fn must write the answer; err is a 4xx *Error with a message
// for the client). Without it, the error handler writes FDI's
// {"message": ...}. The dashboard uses it to answer with a page.
func (r *Registrar) OnBadInput(fn func(c *gin.Context, err *Error)) {
	if r.auth.badInput == nil {
		r.auth.badInput = map[string]func(*gin.Context, *Error){}
	}
	r.auth.badInput[r.recipe] = fn
}
