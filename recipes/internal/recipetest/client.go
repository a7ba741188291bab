package recipetest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Client sends requests to a handler (the test's gin engine) the way the
// frontend SDKs do, and keeps the session tokens the answers set: in header
// mode the access and refresh tokens (sent back as a bearer token, the
// refresh token to /session/refresh), in cookie mode the cookies. It also
// keeps the last front token. A Client used for one request only is a
// plain request without a session.
type Client struct {
	// Handler serves the requests.
	Handler http.Handler
	// Mode is the st-auth-mode header: "header" (when empty) or "cookie".
	Mode string
	// RID is the rid header; none is sent when it is empty.
	RID string
	// Headers are name, value pairs sent with every request.
	Headers []string

	// Access and Refresh are the header-mode tokens kept so far; Front is
	// the last front token ("" once the server removed it).
	Access, Refresh, Front string

	cookies map[string]*http.Cookie
}

// Response is an answer with its JSON body decoded (nil when it was not a
// JSON object).
type Response struct {
	*httptest.ResponseRecorder
	JSON map[string]any
}

// Do sends a request (body, when not empty, as JSON) with extra header
// name, value pairs, keeps the tokens the answer sets, and returns it. It
// does not call t.Helper, so fuzz targets may use it.
func (c *Client) Do(method, path, body string, headers ...string) *Response {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	mode := c.Mode
	if mode == "" {
		mode = "header"
	}
	req.Header.Set("st-auth-mode", mode)
	if c.RID != "" {
		req.Header.Set("rid", c.RID)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := c.Access
	if strings.HasSuffix(req.URL.Path, "/session/refresh") {
		tok = c.Refresh
	}
	if mode == "header" && tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, ck := range c.cookies {
		if strings.HasPrefix(path, ck.Path) {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	for _, hs := range [][]string{c.Headers, headers} {
		for i := 0; i+1 < len(hs); i += 2 {
			req.Header.Set(hs[i], hs[i+1])
		}
	}
	w := httptest.NewRecorder()
	c.Handler.ServeHTTP(w, req)
	c.keep(w)
	r := &Response{ResponseRecorder: w}
	_ = json.Unmarshal(w.Body.Bytes(), &r.JSON)
	return r
}

// keep stores the tokens and cookies an answer set, and forgets those it
// cleared.
func (c *Client) keep(w *httptest.ResponseRecorder) {
	for _, ck := range w.Result().Cookies() {
		if c.cookies == nil {
			c.cookies = map[string]*http.Cookie{}
		}
		if ck.Value == "" || (!ck.Expires.IsZero() && ck.Expires.Before(time.Unix(1, 0))) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if v, ok := w.Header()["St-Access-Token"]; ok {
		c.Access = v[0]
	}
	if v, ok := w.Header()["St-Refresh-Token"]; ok {
		c.Refresh = v[0]
	}
	if v := w.Header().Get("front-token"); v == "remove" {
		c.Front, c.Access = "", ""
	} else if v != "" {
		c.Front = v
	}
}

// Cookie returns the cookie the client keeps under name, or nil.
func (c *Client) Cookie(name string) *http.Cookie { return c.cookies[name] }

// FrontPayload returns the access-token payload ("up") of the client's
// front token, failing the test when there is none or it does not decode.
func (c *Client) FrontPayload(t testing.TB) map[string]any {
	t.Helper()
	if c.Front == "" {
		t.Fatal("no front token")
	}
	return DecodeFrontToken(t, c.Front)
}

// DecodeFrontToken returns the access-token payload ("up") of a front-token
// header value, failing the test when it does not decode.
func DecodeFrontToken(t testing.TB, ft string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(ft)
	if err != nil {
		t.Fatalf("front-token: %v", err)
	}
	var v struct {
		Up map[string]any `json:"up"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("front-token: %v", err)
	}
	return v.Up
}
