package ginauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Several frontends for one backend (issue 14). As SuperTokens'
// appInfo.origin, the website origin is resolved per request: from the
// Origin header, or from AppInfo.Origin, but only ever to WebsiteDomain or
// one of WebsiteOrigins. Everything that depends on the website follows the
// resolved origin: e-mail links, the cookies' SameSite and the anti-CSRF
// default. An unlisted origin resolves to WebsiteDomain, so a link never
// points to an origin the app did not list.

// websiteOrigin is one listed origin and what it decides.
type websiteOrigin struct {
	origin   string        // normalised, as links use it
	sameSite http.SameSite // the session cookies' SameSite for its requests
	antiCSRF AntiCSRFMode  // the anti-CSRF mode of requests it sends
}

// setOrigins normalises WebsiteDomain and WebsiteOrigins and works out
// each one's SameSite (s.apiDomain and s.secure must be set).
func (s *settings) setOrigins(cfg *Config) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	apiURL, _ := url.Parse(s.apiDomain)
	sc := cfg.Session
	describe := func(origin string) (*websiteOrigin, error) {
		o := &websiteOrigin{origin: origin, sameSite: sc.CookieSameSite}
		if o.sameSite == 0 || o.sameSite == http.SameSiteDefaultMode {
			// As SuperTokens' cookieSameSite default: Lax when the API and
			// the website share a scheme and a site, None otherwise.
			web, _ := url.Parse(origin)
			o.sameSite = http.SameSiteLaxMode
			if apiURL.Scheme != web.Scheme || siteOf(apiURL.Hostname()) != siteOf(web.Hostname()) {
				o.sameSite = http.SameSiteNoneMode
			}
		}
		if o.sameSite == http.SameSiteNoneMode && !s.secure && !isLocal(apiURL.Hostname()) {
			return nil, fail("cookies with SameSite=None must be Secure (needed for the website origin %s): serve the API over https or set Session.CookieSameSite", origin)
		}
		return o, nil
	}
	def, err := describe(s.websiteDomain)
	if err != nil {
		return err
	}
	s.websiteDomain = def.origin
	s.defaultOrigin = def
	s.origins = map[string]*websiteOrigin{strings.ToLower(def.origin): def}
	for i, raw := range cfg.AppInfo.WebsiteOrigins {
		origin, err := normaliseOrigin(raw)
		if err != nil {
			return fail("AppInfo.WebsiteOrigins[%d]: %v", i, err)
		}
		key := strings.ToLower(origin)
		if s.origins[key] != nil {
			continue // listed twice, or the WebsiteDomain again
		}
		o, err := describe(origin)
		if err != nil {
			return err
		}
		s.origins[key] = o
	}
	s.multiOrigin = len(s.origins) > 1
	s.originFunc = cfg.AppInfo.Origin
	return nil
}

// refusedSchemes cannot be a frontend: a link on them would run script,
// show attacker-chosen content or read local files.
var refusedSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true, "file": true,
	"blob": true, "about": true, "filesystem": true}

// NormaliseOrigin checks and normalises one AppInfo.WebsiteOrigins entry
// as New does, for an app that reads origins from its own settings and
// wants to name the faulty one: an http(s) origin ("https://example.com",
// or "example.com" for https), or an app's own scheme
// ("com.example.app://", "capacitor://localhost"), what a mobile or
// desktop app registers to open links. It returns scheme://host,
// lower-cased.
func NormaliseOrigin(raw string) (string, error) { return normaliseOrigin(raw) }

func normaliseOrigin(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	i := strings.Index(raw, "://")
	if i < 0 {
		d, err := normaliseDomain(raw)
		return strings.ToLower(d), err
	}
	scheme := strings.ToLower(raw[:i])
	if scheme == "http" || scheme == "https" {
		d, err := normaliseDomain(raw)
		return strings.ToLower(d), err
	}
	if !validScheme(scheme) {
		return "", fmt.Errorf("%q does not start with a URL scheme", raw)
	}
	if refusedSchemes[scheme] {
		return "", fmt.Errorf("scheme %q cannot be a website origin", scheme)
	}
	host := strings.TrimSuffix(raw[i+3:], "/")
	for _, ch := range host {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == ':') {
			return "", fmt.Errorf("%q is not scheme://host: put paths in the base path fields", raw)
		}
	}
	return scheme + "://" + strings.ToLower(host), nil
}

// validScheme is RFC 3986's ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

// listedOrigin finds origin among the listed ones.
func (s *settings) listedOrigin(origin string) *websiteOrigin {
	if o := s.origins[origin]; o != nil {
		return o
	}
	return s.origins[strings.ToLower(strings.TrimSuffix(origin, "/"))]
}

// originOf resolves r's website origin: AppInfo.Origin's answer or the
// Origin header, when listed; WebsiteDomain otherwise (and for a nil r).
func (a *Auth) originOf(r *http.Request) *websiteOrigin {
	s := &a.s
	if !s.multiOrigin || r == nil {
		return s.defaultOrigin
	}
	var picked string
	if s.originFunc != nil {
		picked = s.originFunc(r)
	} else {
		picked = r.Header.Get("Origin")
	}
	if o := s.listedOrigin(picked); o != nil {
		return o
	}
	return s.defaultOrigin
}

// sameSiteFor is the SameSite of the session cookies written in answer to r.
func (a *Auth) sameSiteFor(r *http.Request) http.SameSite { return a.originOf(r).sameSite }

// antiCSRFFor is the anti-CSRF mode that applies to r. Unlike the links,
// it follows the Origin header the browser sent, never AppInfo.Origin:
// the browser holds one set of cookies for the API whichever frontend set
// them, so a request from a listed origin gets that origin's mode, and any
// other request (an unlisted origin, no Origin at all) the strictest mode
// of all listed origins. Otherwise a cross-site page could present cookies
// set SameSite=None for one frontend under the lax mode of another.
func (a *Auth) antiCSRFFor(r *http.Request) AntiCSRFMode {
	s := &a.s
	if !s.multiOrigin || s.antiCSRFFixed {
		return s.antiCSRF
	}
	if o := s.listedOrigin(r.Header.Get("Origin")); o != nil {
		return o.antiCSRF
	}
	return s.antiCSRF
}

// originKey is the context key of the origin resolved for an auth request.
type originKey struct{}

type resolvedOrigin struct {
	auth   *Auth
	origin string
}

// withOrigin records r's resolved origin in its context, so that links
// built while serving it (also in a goroutine the handler starts with that
// context) use it.
func (a *Auth) withOrigin(c *gin.Context) {
	if !a.s.multiOrigin {
		return
	}
	o := a.originOf(c.Request)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), originKey{}, resolvedOrigin{a, o.origin}))
}

// WebsiteOrigin returns the website origin that links built under ctx
// point to: the origin resolved for the auth API request ctx belongs to
// (ctx may be the *gin.Context or its request's context), or WebsiteDomain
// for work outside a request. It is always WebsiteDomain or one of
// AppInfo.WebsiteOrigins.
func (a *Auth) WebsiteOrigin(ctx context.Context) string {
	if !a.s.multiOrigin || ctx == nil {
		return a.s.websiteDomain
	}
	if v, ok := ctx.Value(originKey{}).(resolvedOrigin); ok && v.auth == a {
		return v.origin
	}
	if c, ok := ctx.(*gin.Context); ok && c.Request != nil {
		return a.originOf(c.Request).origin
	}
	return a.s.websiteDomain
}

// RequestOrigin resolves r's website origin: AppInfo.Origin's answer or
// r's Origin header when that is WebsiteDomain or one of WebsiteOrigins,
// else WebsiteDomain. A nil r gives WebsiteDomain.
func (a *Auth) RequestOrigin(r *http.Request) string { return a.originOf(r).origin }

// WithWebsiteOrigin returns ctx carrying origin, so that the links built
// under it point there: for an app's own handler that sends e-mails
// outside the auth API routes (which resolve the origin themselves), as
// a.WithWebsiteOrigin(ctx, a.RequestOrigin(c.Request)), or for a link
// meant for one frontend. origin must be WebsiteDomain or one of
// WebsiteOrigins; any other is refused with a 400 *Error, and ctx is
// returned unchanged.
func (a *Auth) WithWebsiteOrigin(ctx context.Context, origin string) (context.Context, error) {
	o := a.s.listedOrigin(origin)
	if o == nil {
		return ctx, BadRequest("%q is not one of the website origins", origin)
	}
	if !a.s.multiOrigin {
		return ctx, nil
	}
	return context.WithValue(ctx, originKey{}, resolvedOrigin{a, o.origin}), nil
}

// WebsiteOrigins returns every listed website origin, WebsiteDomain first.
func (a *Auth) WebsiteOrigins() []string {
	return append([]string{a.s.websiteDomain}, a.extraOrigins()...)
}

// extraOrigins are the normalised AppInfo.WebsiteOrigins, sorted; nil when
// there are none.
func (a *Auth) extraOrigins() []string {
	var out []string
	for _, o := range a.s.origins {
		if o != a.s.defaultOrigin {
			out = append(out, o.origin)
		}
	}
	slices.Sort(out)
	return out
}

// IsWebsiteOrigin reports whether origin is WebsiteDomain or one of
// WebsiteOrigins, e.g. for a redirect target's origin.
func (a *Auth) IsWebsiteOrigin(origin string) bool { return a.s.listedOrigin(origin) != nil }
