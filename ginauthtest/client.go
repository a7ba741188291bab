package ginauthtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The session cookies' names, as ginauth and supertokens-node set them.
const (
	CookieAccessToken  = "sAccessToken"
	CookieRefreshToken = "sRefreshToken"
)

// Client is a frontend: it sends requests to a gin engine in process
// (Handler) or to a running server (BaseURL) as the SuperTokens frontend
// SDKs do, and keeps the session the answers set, as supertokens-website
// does: in header mode the st-access-token and st-refresh-token headers
// (sent back as a bearer token, the refresh token to /session/refresh
// only), in cookie mode the cookies (sent back to the paths they were set
// for), and in both the front-token and the anti-csrf token. A Client is not
// safe for concurrent use: give each goroutine its own.
type Client struct {
	// Handler serves the requests in process (a *gin.Engine). When nil,
	// requests go to BaseURL over HTTPClient.
	Handler http.Handler
	// BaseURL is the server's origin, as "http://127.0.0.1:3001".
	BaseURL string
	// HTTPClient sends the BaseURL requests; http.DefaultClient when nil.
	// Its cookie jar, if any, is not used: the Client keeps the cookies.
	HTTPClient *http.Client
	// APIBasePath is where the FDI routes are (AppInfo.APIBasePath); "/auth"
	// when empty.
	APIBasePath string
	// Mode is the st-auth-mode header: "header" (when empty) or "cookie".
	Mode string
	// RID is the rid header; none is sent when it is empty.
	RID string
	// Headers are name, value pairs sent with every request.
	Headers []string

	// Access and Refresh are the header-mode tokens kept so far; Front is
	// the last front token and AntiCSRF the last anti-csrf token ("" once
	// the server removed the session). Tests may set them to forge or
	// replay a token.
	Access, Refresh, Front, AntiCSRF string
	// Cookies are the cookies kept so far, by name. Tests may change them.
	Cookies map[string]*http.Cookie
}

// Response is an answer, recorded the same way whether it came from a
// Handler or a server, with its JSON body decoded (nil when it was not a
// JSON object).
type Response struct {
	*httptest.ResponseRecorder
	JSON map[string]any
	// Err is the transport error of a BaseURL request (Code is then 0).
	Err error
	// Duration is how long the request took.
	Duration time.Duration
}

// Str returns the body's string field key, or "".
func (r *Response) Str(key string) string { s, _ := r.JSON[key].(string); return s }

// Status returns the body's FDI status ("OK", "WRONG_CREDENTIALS_ERROR", ...).
func (r *Response) Status() string { return r.Str("status") }

// UserID returns the body's user.id, as sign-up and sign-in answer it.
func (r *Response) UserID() string {
	u, _ := r.JSON["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// Do sends a request and keeps the tokens the answer sets. body is sent as
// JSON: a string or []byte as it is ("" sends none), anything else encoded.
// headers are name, value pairs that override the Client's. Do never fails
// the test (a fuzz target may use it): a transport error is in Err.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return &Response{ResponseRecorder: &httptest.ResponseRecorder{}, Err: err}
		}
	}
	var rd io.Reader
	if len(raw) > 0 {
		rd = bytes.NewReader(raw)
	}
	var req *http.Request
	if c.Handler != nil {
		req = httptest.NewRequest(method, path, rd)
	} else {
		var err error
		if req, err = http.NewRequest(method, c.BaseURL+path, rd); err != nil {
			return &Response{ResponseRecorder: &httptest.ResponseRecorder{}, Err: err}
		}
	}
	c.prepare(req, rd != nil, headers)
	start := time.Now()
	w, err := c.send(req)
	r := &Response{ResponseRecorder: w, Err: err, Duration: time.Since(start)}
	if err != nil {
		return r
	}
	c.keep(w)
	_ = json.Unmarshal(w.Body.Bytes(), &r.JSON)
	return r
}

// prepare sets the SDK's headers and the session the client keeps.
func (c *Client) prepare(req *http.Request, hasBody bool, headers []string) {
	mode := c.Mode
	if mode == "" {
		mode = "header"
	}
	req.Header.Set("st-auth-mode", mode)
	if c.RID != "" {
		req.Header.Set("rid", c.RID)
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.AntiCSRF != "" {
		req.Header.Set("anti-csrf", c.AntiCSRF)
	}
	tok := c.Access
	if strings.HasSuffix(req.URL.Path, "/session/refresh") {
		tok = c.Refresh
	}
	if mode == "header" && tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, ck := range c.Cookies {
		if strings.HasPrefix(req.URL.Path, ck.Path) {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	for _, hs := range [][]string{c.Headers, headers} {
		for i := 0; i+1 < len(hs); i += 2 {
			req.Header.Set(hs[i], hs[i+1])
		}
	}
}

// send serves req in process, or sends it to the server and records the
// answer as a handler's would be.
func (c *Client) send(req *http.Request) (*httptest.ResponseRecorder, error) {
	w := httptest.NewRecorder()
	if c.Handler != nil {
		c.Handler.ServeHTTP(w, req)
		return w, nil
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	// The Client keeps the cookies: a jar on hc would send them twice.
	noJar := *hc
	noJar.Jar = nil
	res, err := noJar.Do(req)
	if err != nil {
		w.Code = 0
		return w, err
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, err = io.Copy(w, res.Body)
	return w, err
}

// keep stores the tokens and cookies an answer set, and forgets those it
// cleared, as supertokens-website's saveTokensFromHeaders and a browser's
// cookie jar do.
func (c *Client) keep(w *httptest.ResponseRecorder) {
	for _, ck := range w.Result().Cookies() {
		if c.Cookies == nil {
			c.Cookies = map[string]*http.Cookie{}
		}
		if ck.Value == "" || ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Unix(1, 0))) {
			delete(c.Cookies, ck.Name)
		} else {
			c.Cookies[ck.Name] = ck
		}
	}
	if v, ok := w.Header()["St-Access-Token"]; ok {
		c.Access = v[0]
	}
	if v, ok := w.Header()["St-Refresh-Token"]; ok {
		c.Refresh = v[0]
	}
	if v := w.Header().Get("front-token"); v == "remove" {
		c.Front, c.Access, c.Refresh, c.AntiCSRF = "", "", "", ""
	} else if v != "" {
		c.Front = v
	}
	if v := w.Header().Get("anti-csrf"); v != "" {
		c.AntiCSRF = v
	}
}

// Cookie returns the cookie the client keeps under name, or nil.
func (c *Client) Cookie(name string) *http.Cookie { return c.Cookies[name] }

// AccessToken returns the access token the client holds in its mode, or "".
func (c *Client) AccessToken() string { return c.token(c.Access, CookieAccessToken) }

// RefreshToken returns the refresh token the client holds in its mode, or "".
func (c *Client) RefreshToken() string { return c.token(c.Refresh, CookieRefreshToken) }

func (c *Client) token(header, cookie string) string {
	if c.Mode == "cookie" {
		if ck := c.Cookies[cookie]; ck != nil {
			return ck.Value
		}
		return ""
	}
	return header
}

// SetRefreshToken makes the client hold tok as its refresh token, in its
// mode: to replay a stolen or rotated one.
func (c *Client) SetRefreshToken(tok string) {
	if c.Mode != "cookie" {
		c.Refresh = tok
		return
	}
	if c.Cookies == nil {
		c.Cookies = map[string]*http.Cookie{}
	}
	c.Cookies[CookieRefreshToken] = &http.Cookie{Name: CookieRefreshToken, Value: tok, Path: c.base() + "/session/refresh"}
}

func (c *Client) base() string {
	if c.APIBasePath == "" {
		return "/auth"
	}
	return c.APIBasePath
}

// Form returns an FDI {"formFields": [...]} body of id, value pairs.
func Form(kv ...any) string {
	ff := []map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		ff = append(ff, map[string]any{"id": kv[i], "value": kv[i+1]})
	}
	b, _ := json.Marshal(map[string]any{"formFields": ff})
	return string(b)
}

// SignUp signs up with the emailpassword recipe (POST /signup).
func (c *Client) SignUp(email, password string) *Response {
	return c.Do("POST", c.base()+"/signup", Form("email", email, "password", password))
}

// SignIn signs in with the emailpassword recipe (POST /signin).
func (c *Client) SignIn(email, password string) *Response {
	return c.Do("POST", c.base()+"/signin", Form("email", email, "password", password))
}

// RefreshSession refreshes the session (POST /session/refresh) with the
// refresh token the client holds.
func (c *Client) RefreshSession() *Response {
	return c.Do("POST", c.base()+"/session/refresh", "")
}

// SignOut ends the session (POST /signout).
func (c *Client) SignOut() *Response { return c.Do("POST", c.base()+"/signout", "") }

// FrontToken returns the client's front token decoded (uid, ate, up),
// failing the test when there is none or it does not decode.
func (c *Client) FrontToken(t testing.TB) map[string]any {
	t.Helper()
	if c.Front == "" {
		t.Fatal("ginauthtest: no front token")
	}
	raw, err := base64.StdEncoding.DecodeString(c.Front)
	if err != nil {
		t.Fatalf("ginauthtest: front-token is not base64: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("ginauthtest: front-token is not JSON: %v", err)
	}
	return m
}

// FrontPayload returns the access-token payload ("up") of the client's
// front token, failing the test when there is none or it does not decode.
func (c *Client) FrontPayload(t testing.TB) map[string]any {
	t.Helper()
	if c.Front == "" {
		t.Fatal("ginauthtest: no front token")
	}
	return DecodeFrontToken(t, c.Front)
}

// DecodeFrontToken returns the access-token payload ("up") of a front-token
// header value, failing the test when it does not decode.
func DecodeFrontToken(t testing.TB, ft string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(ft)
	if err != nil {
		t.Fatalf("ginauthtest: front-token: %v", err)
	}
	var v struct {
		Up map[string]any `json:"up"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("ginauthtest: front-token: %v", err)
	}
	return v.Up
}
