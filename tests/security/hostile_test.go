package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/internal/testlimits"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/tests/internal/everyrecipe"
)

// Hostile strings: a NUL, bytes that are not UTF-8 and over-long values,
// in every place a request carries strings, on every route every recipe
// registers (enumerated from the engine, so a new route is walked without
// touching this file), served both through Middleware and through
// RegisterRoutes. PostgreSQL refuses NUL and non-UTF-8 strings with an
// error that used to come back as "503 the authentication database is
// unavailable"; the core's input check (ginauth/input.go) answers them
// with a 400 naming the problem before any handler runs. Run on SQLite and
// on the shared PostgreSQL (GINAUTH_TEST_DATABASE_URL).

const hostileDashKey = "hostile-test-dashboard-key-0123456789"

// hostile is one bad value, written for each place it can go.
type hostile struct {
	name  string
	query string // percent-encoded, for a URL or a form body
	json  string // inside a JSON string literal (raw bytes, escapes allowed)
	raw   string // decoded, for a header or a path segment
	form  string // percent-encoded, for a form field value
}

var hostiles = func() []hostile {
	long := strings.Repeat("a", ginauth.MaxInputStringBytes+1)
	return []hostile{
		{"NUL", "a%00b", `a\u0000b`, "a\x00b", "a%00b"},
		{"invalid UTF-8", "a%FFb", "a\xffb", "a\xffb", "a%FFb"},
		{"lone %FF", "%FF", "\xff", "\xff", "%FF"},
		{"over-long", long, long, long, strings.Repeat("a", ginauth.MaxFormValueBytes+1)},
	}
}()

// inputMarkers are words every message of the input check holds, so that
// a 4xx for some other reason (a missing field, no session) does not pass
// for the defence.
var inputMarkers = []string{"NUL", "UTF-8", "longer than", "larger than"}

// hostileSamples are well-formed requests of the routes, whose every
// string and every object gets the hostile values in turn. Routes with no
// sample (new ones included) get genericSample.
var hostileSamples = map[string]string{
	"POST /signup":                         `{"formFields":[{"id":"email","value":"a@example.com"},{"id":"password","value":"long-enough-1"}]}`,
	"POST /signin":                         `{"formFields":[{"id":"email","value":"a@example.com"},{"id":"password","value":"long-enough-1"}]}`,
	"POST /user/password/reset/token":      `{"formFields":[{"id":"email","value":"a@example.com"}]}`,
	"POST /user/password/reset":            `{"method":"token","token":"abc","formFields":[{"id":"password","value":"long-enough-1"}]}`,
	"POST /user/email/verify":              `{"method":"token","token":"abc"}`,
	"POST /signinup/code":                  `{"email":"a@example.com","shouldTryLinkingWithSessionUser":false}`,
	"POST /signinup/code/resend":           `{"deviceId":"abc","preAuthSessionId":"def"}`,
	"POST /signinup/code/consume":          `{"preAuthSessionId":"def","deviceId":"abc","userInputCode":"123456","linkCode":"xyz"}`,
	"POST /signinup":                       `{"thirdPartyId":"oidc","clientType":"web","redirectURIInfo":{"redirectURIOnProviderDashboard":"http://localhost:3000/cb","redirectURIQueryParams":{"code":"c","state":"s"},"pkceCodeVerifier":"v"}}`,
	"POST /totp/device":                    `{"deviceName":"phone"}`,
	"POST /totp/device/verify":             `{"deviceName":"phone","totp":"123456"}`,
	"POST /totp/device/remove":             `{"deviceName":"phone"}`,
	"POST /totp/verify":                    `{"totp":"123456"}`,
	"POST /mfa/recovery-code":              `{"code":"abcd-efgh"}`,
	"POST /user/email/verify/token":        `{"email":"a@example.com"}`,
	"PUT /mfa/info":                        `{"factor":"totp"}`,
	"POST /mfa/recovery-codes":             `{"confirm":"yes"}`,
	"POST /callback/apple":                 `{"code":"c","state":"s"}`,
	"POST /session/refresh":                `{"k":"v"}`,
	"POST /signout":                        `{"k":"v"}`,
	"GET /emailpassword/email/exists":      `{"email":"a@example.com"}`,
	"GET /passwordless/email/exists":       `{"email":"a@example.com"}`,
	"GET /passwordless/phonenumber/exists": `{"phoneNumber":"+14155550123"}`,
}

const genericSample = `{"field":"value","nested":{"key":["value",{"deep":"value"}]}}`

// hostileQueryNames are the query parameters the routes read; each gets
// every hostile value (plus one the routes do not read).
var hostileQueryNames = []string{"email", "phoneNumber", "thirdPartyId", "clientType", "redirectURIOnProviderDashboard",
	"tenant", "id", "page", "p", "order", "done", "unread"}

// hostileFormFields are the dashboard's form fields (the other routes get
// them too, sent as a form).
var hostileFormFields = []string{"id", "role", "tenant", "metadata", "handle", "email", "confirm", "key", "code", "state"}

type hostileApp struct {
	t      *testing.T
	db     *gorm.DB
	auth   *ginauth.Auth
	mw     *gin.Engine // Middleware
	rr     *gin.Engine // RegisterRoutes
	logs   *ginauthtest.LogBuffer
	access string // a signed-up user's access token
	userID string
	cookie string // the dashboard admin session
	csrf   string
}

func newHostileApp(t *testing.T) *hostileApp {
	t.Helper()
	h := &hostileApp{t: t, logs: &ginauthtest.LogBuffer{}}
	h.db = ginauthtest.OpenDB(t)
	idp := oidctest.NewServer(oidctest.Config{ClientID: "client", ClientSecret: "secret",
		User: oidctest.User{Subject: "sub-1", Email: "idp@example.com", EmailVerified: true}})
	t.Cleanup(idp.Close)
	mail := &mailbox{}
	rs := everyrecipe.New(everyrecipe.Options{Mail: mail, TOTPKey: totpKey, DashboardKey: hostileDashKey,
		Providers: []thirdparty.Provider{
			thirdparty.OIDC("oidc", idp.Issuer(), thirdparty.Client{ClientID: "client", ClientSecret: "secret"})}})
	ep := rs.EmailPassword
	auth, err := ginauth.New(ginauth.Config{
		DB: h.db,
		AppInfo: ginauth.AppInfo{AppName: "Hostile", APIDomain: "http://localhost:3001",
			WebsiteDomain: "http://localhost:3000"},
		Recipes:   rs.All,
		Session:   ginauth.SessionConfig{SigningAlgorithm: "ES256"},
		RateLimit: testlimits.Generous(),
		Logger:    slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		DBTimeout: testdb.DBTimeout, // TestHostileInputBurst's 40 queue for SQLite's writer
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = auth
	recovery := gin.CustomRecoveryWithWriter(h.logs, func(c *gin.Context, err any) {
		t.Errorf("handler panic on %s %q: %v", c.Request.Method, c.Request.URL.String(), err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"message": "panic"})
	})
	h.mw = gin.New()
	h.mw.Use(recovery, auth.Middleware())
	h.rr = gin.New()
	h.rr.Use(recovery)
	auth.RegisterRoutes(h.rr)

	ctx := context.Background()
	u, err := ep.SignUp(ctx, ginauth.DefaultTenant, "owner@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	h.userID = u.ID
	_, tok, err := auth.CreateSessionTokens(ctx, ginauth.NewSession{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	h.access = tok.AccessToken

	// The dashboard: sign in with the API key, then read a form's CSRF token.
	req := httptest.NewRequest(http.MethodPost, "/auth/dashboard/signin", strings.NewReader("key="+hostileDashKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.mw.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "ginauth_dashboard" {
			h.cookie = c.Name + "=" + c.Value
		}
	}
	if h.cookie == "" {
		t.Fatalf("dashboard sign-in: %d %s", rec.Code, rec.Body)
	}
	rec = h.serve(h.mw, http.MethodGet, "/auth/dashboard/user?id="+url.QueryEscape(u.ID), "", "", nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no CSRF token on the user page: %d %s", rec.Code, rec.Body)
	}
	h.csrf = m[1]
	return h
}

// serve sends one request with the user's access token and the admin's
// cookie, so that a route does not stop at "unauthorised" before it reads
// its input.
func (h *hostileApp) serve(e *gin.Engine, method, target, contentType, body string, hdr map[string]string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://localhost:3001/", rd)
	// httptest.NewRequest refuses some targets (a NUL in the path); set
	// the URL by hand, as a server would parse it.
	u, err := url.ParseRequestURI(target)
	if err != nil {
		h.t.Fatalf("target %q: %v", target, err)
	}
	req.URL, req.RequestURI = u, target
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("st-auth-mode", "header")
	req.Header.Set("rid", "anything")
	req.Header.Set("Authorization", "Bearer "+h.access)
	req.Header.Set("Cookie", h.cookie)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// snapshot is every ginauth table's rows, to show that nothing changed.
func (h *hostileApp) snapshot() string {
	h.t.Helper()
	tables := tableNames()
	sort.Strings(tables)
	var b strings.Builder
	for _, tb := range tables {
		var rows []map[string]any
		if err := h.db.Table(tb).Find(&rows).Error; err != nil {
			h.t.Fatalf("reading %s: %v", tb, err)
		}
		for _, r := range rows {
			keys := make([]string, 0, len(r))
			for k := range r {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintf(&b, "%s:", tb)
			for _, k := range keys {
				fmt.Fprintf(&b, " %s=%v", k, r[k])
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// hostileCase is one request of the walk.
type hostileCase struct {
	what        string
	target      string
	contentType string
	body        string
	hdr         map[string]string
}

// jsonVariants returns sample with each string, and then a new key of
// each object, replaced by mark: one JSON text per place.
func jsonVariants(t *testing.T, sample, mark string) []string {
	var root any
	if err := json.Unmarshal([]byte(sample), &root); err != nil {
		t.Fatalf("sample %s: %v", sample, err)
	}
	var out []string
	var walk func(v any, set func(any))
	emit := func() {
		b, err := json.Marshal(root)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	walk = func(v any, set func(any)) {
		switch x := v.(type) {
		case string:
			set(mark)
			emit()
			set(x)
		case map[string]any:
			x[mark] = "value"
			emit()
			delete(x, mark)
			for k, e := range x {
				walk(e, func(n any) { x[k] = n })
			}
		case []any:
			for i, e := range x {
				walk(e, func(n any) { x[i] = n })
			}
		}
	}
	walk(root, func(n any) { root = n })
	return out
}

// hostileCases are the requests for one route at path (the API base path
// included) with each hostile value in each place.
func (h *hostileApp) hostileCases(method, routePath, path string) []hostileCase {
	const mark = "HOSTILEMARK"
	var cases []hostileCase
	for _, hv := range hostiles {
		for _, q := range hostileQueryNames {
			cases = append(cases, hostileCase{what: "query " + q + "=" + hv.name, target: path + "?" + q + "=" + hv.query})
		}
		cases = append(cases, hostileCase{what: "query name " + hv.name, target: path + "?" + hv.query + "=1"})
		for _, hdr := range []string{"rid", "st-auth-mode", "anti-csrf", "fdi-version", "Authorization"} {
			if hv.name == "over-long" && hdr == "Authorization" {
				continue // not capped: a token's payload is the app's choice
			}
			cases = append(cases, hostileCase{what: "header " + hdr + " " + hv.name, target: path, hdr: map[string]string{hdr: hv.raw}})
		}
		sample, ok := hostileSamples[method+" "+routePath]
		if !ok {
			sample = genericSample
		}
		for i, body := range jsonVariants(h.t, sample, mark) {
			cases = append(cases, hostileCase{what: fmt.Sprintf("JSON place %d %s", i, hv.name), target: path,
				contentType: "application/json", body: strings.ReplaceAll(body, mark, hv.json)})
		}
		// The same JSON with no Content-Type: handlers do not look at it.
		cases = append(cases, hostileCase{what: "JSON without a content type " + hv.name, target: path,
			body: `{"field":"` + hv.json + `"}`})
		form := url.Values{"csrf": {h.csrf}, "id": {h.userID}, "role": {"admin"}, "tenant": {"public"},
			"metadata": {`{"a":"b"}`}, "handle": {"h"}, "email": {"owner@example.com"}, "confirm": {"yes"}}
		for _, f := range hostileFormFields {
			v := url.Values{}
			for k, x := range form {
				v[k] = x
			}
			v.Del(f)
			cases = append(cases, hostileCase{what: "form " + f + " " + hv.name, target: path,
				contentType: "application/x-www-form-urlencoded", body: v.Encode() + "&" + f + "=" + hv.form})
		}
		cases = append(cases, hostileCase{what: "form name " + hv.name, target: path,
			contentType: "application/x-www-form-urlencoded", body: "csrf=" + h.csrf + "&" + hv.query + "=1"})
	}
	return cases
}

// mentionsInput reports whether an answer (FDI JSON or a dashboard page)
// gives the input check's reason.
func mentionsInput(rec *httptest.ResponseRecorder) (string, bool) {
	msg := rec.Body.String()
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		var body struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Message == "" {
			return msg, false
		}
		msg = body.Message
	} else if !strings.Contains(msg, "Nothing was changed.") {
		return msg, false // the dashboard's page for refused input
	}
	for _, m := range inputMarkers {
		if strings.Contains(msg, m) {
			return msg, true
		}
	}
	return msg, false
}

// TestHostileInputEveryRoute walks every route, through both ways of
// serving the auth API, with every hostile value in the query, a query
// name, the headers ginauth reads, each string and a new key of each
// object of a JSON body, each form field and a form field name, and the
// tenant path segment: each answer is a 400 (413 for a body over
// MaxRequestBodyBytes) whose message says what was wrong, and no table
// changes. Fails when the input check in ginauth/input.go (called by
// router.go) is removed.
func TestHostileInputEveryRoute(t *testing.T) {
	h := newHostileApp(t)
	routes := h.rr.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes registered: the app is missing recipes", len(routes))
	}
	walked := 0
	for _, ri := range routes {
		base := "/auth"
		rel := strings.TrimPrefix(ri.Path, base)
		routePath := strings.TrimPrefix(rel, "/:tenantId")
		tenanted := routePath != rel
		type target struct {
			name string
			e    *gin.Engine
			path string
		}
		var targets []target
		if tenanted {
			// The tenant segment is the one free path segment: each hostile
			// value there, through both engines.
			for _, hv := range hostiles {
				seg := url.PathEscape(hv.raw)
				targets = append(targets, target{"path tenant " + hv.name, h.mw, base + "/" + seg + routePath},
					target{"path tenant " + hv.name, h.rr, base + "/" + seg + routePath})
			}
		}
		// A bad segment after the route's path: no route serves it, and
		// Middleware answers rather than passing it to the app.
		for _, hv := range hostiles[:3] {
			targets = append(targets, target{"path suffix " + hv.name, h.mw, base + routePath + "/" + url.PathEscape(hv.raw)})
		}
		before := h.snapshot()
		for _, tg := range targets {
			rec := h.serve(tg.e, ri.Method, tg.path, "", "", nil)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("%s %s %s: %d %s", ri.Method, ri.Path, tg.name, rec.Code, rec.Body)
			} else if _, ok := mentionsInput(rec); !ok && rec.Code != http.StatusNotFound {
				t.Errorf("%s %s %s: %d without the reason: %s", ri.Method, ri.Path, tg.name, rec.Code, rec.Body)
			}
		}
		path := base + routePath
		if tenanted {
			path = base + "/public" + routePath
		}
		for _, e := range []*gin.Engine{h.mw, h.rr} {
			for _, hc := range h.hostileCases(ri.Method, routePath, path) {
				walked++
				rec := h.serve(e, ri.Method, hc.target, hc.contentType, hc.body, hc.hdr)
				msg, ok := mentionsInput(rec)
				if rec.Code != http.StatusBadRequest || !ok {
					if i := strings.Index(msg, "<main"); i > 0 {
						msg = msg[i:] // the dashboard's page, past its head
					}
					if len(msg) > 300 {
						msg = msg[:300] + "..."
					}
					t.Errorf("%s %s, %s: want 400 with the reason, got %d %s", ri.Method, ri.Path, hc.what, rec.Code, msg)
				}
			}
		}
		if after := h.snapshot(); after != before {
			t.Errorf("%s %s: hostile requests changed the tables:\nbefore:\n%s\nafter:\n%s", ri.Method, ri.Path, before, after)
		}
	}
	t.Logf("%d routes, %d hostile requests", len(routes), walked)
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("ERROR logged: %s", line)
		}
	}
}

// JSON inside a form field: the dashboard's metadata editor sends a JSON
// document whose "\u0000" escapes are plain text to the input check; the
// usermetadata recipe refuses them (PostgreSQL's jsonb would fail with an
// error) whoever calls it, and the dashboard shows its page. Fails when
// the CheckJSONValue call in usermetadata.UpdateUserMetadata is removed.
func TestHostileMetadata(t *testing.T) {
	h := newHostileApp(t)
	before := h.snapshot()
	for _, doc := range []string{`{"plan":"a\u0000b"}`, `{"a\u0000":1}`, `{"deep":{"list":["ok","\u0000"]}}`} {
		form := url.Values{"csrf": {h.csrf}, "id": {h.userID}, "metadata": {doc}}
		for _, e := range []*gin.Engine{h.mw, h.rr} {
			rec := h.serve(e, http.MethodPost, "/auth/dashboard/user/metadata", "application/x-www-form-urlencoded", form.Encode(), nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "NUL character") {
				t.Errorf("metadata %s: %d %.300s", doc, rec.Code, rec.Body)
			}
		}
	}
	if after := h.snapshot(); after != before {
		t.Errorf("the tables changed:\n%s\n%s", before, after)
	}
	meta, ok := h.auth.Recipe("usermetadata")
	if !ok {
		t.Fatal("no usermetadata recipe")
	}
	_, err := meta.(*usermetadata.Recipe).UpdateUserMetadata(context.Background(), h.userID,
		map[string]any{"k": map[string]string{"x\x00": "y"}})
	var e *ginauth.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		t.Fatalf("UpdateUserMetadata with a NUL key: %v", err)
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("ERROR logged: %s", line)
		}
	}
}

// A parallel burst of hostile requests through a real server: every one
// is a 400 with the reason, none a 5xx, nothing written.
func TestHostileInputBurst(t *testing.T) {
	h := newHostileApp(t)
	srv := httptest.NewServer(h.mw)
	defer srv.Close()
	before := h.snapshot()
	targets := []string{"/auth/emailpassword/email/exists?email=a%00b", "/auth/passwordless/email/exists?email=%FF",
		"/auth/passwordless/phonenumber/exists?phoneNumber=%00", "/auth/dashboard?email=%FF", "/auth/dashboard/user?id=a%00",
		"/auth/public/loginmethods?clientType=%00"}
	const n = 40
	errs := make(chan string, n)
	ginauthtest.Burst(n, func(i int) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+targets[i%len(targets)], nil)
		req.Header.Set("Cookie", h.cookie)
		req.Header.Set("Authorization", "Bearer "+h.access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			errs <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !(strings.Contains(string(body), "NUL") || strings.Contains(string(body), "UTF-8")) {
			errs <- fmt.Sprintf("%s: %d %.200s", targets[i%len(targets)], res.StatusCode, body)
		}
	})
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if after := h.snapshot(); after != before {
		t.Errorf("the tables changed")
	}
}
