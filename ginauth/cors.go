package ginauth

import (
	"sync"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// CORSConfig returns a gin-contrib/cors configuration for the default
// instance: the website domain as the one allowed origin, credentials on,
// the SDK headers allowed and the session headers exposed.
//
//	r.Use(cors.New(ginauth.CORSConfig()))
func CORSConfig() cors.Config { return mustDefault().CORSConfig() }

// CORSConfig returns a gin-contrib/cors configuration that lets the
// website's frontend SDK talk to this API with credentials.
//
// Besides the website domain it admits the API's own pages (the
// dashboard): an Origin equal to AppInfo.APIDomain (gin-contrib/cors
// itself only recognises the request's Host, which a reverse proxy may
// rewrite), and "Origin: null" on a browser's same-origin form navigation
// (what a page with a no-referrer policy sends). Any other origin is
// refused with 403, and the refusal is logged as a warning naming the
// origin and the configured website domain, at most once per origin every
// ten minutes and a few times a minute overall.
func (a *Auth) CORSConfig() cors.Config {
	w := &originWarner{auth: a, seen: map[string]time.Time{}}
	return cors.Config{
		AllowOrigins:               []string{a.s.websiteDomain},
		AllowOriginWithContextFunc: w.allow,
		AllowMethods:               []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		AllowHeaders:               append([]string{"Content-Type"}, CORSHeaders()...),
		ExposeHeaders:              []string{HeaderFrontToken, HeaderAccessToken, HeaderRefreshToken, HeaderAntiCSRF},
		AllowCredentials:           true,
		MaxAge:                     12 * time.Hour,
	}
}

// Limits of the refused-origin warnings: an origin is attacker-chosen, so
// a flood of made-up origins must not flood the log.
const (
	corsWarnEvery     = 10 * time.Minute // per origin
	corsWarnPerMinute = 5                // all origins together
	corsWarnRemember  = 1024             // origins remembered before forgetting them all
	corsWarnMaxOrigin = 200              // characters of an origin logged
)

// originWarner decides the origins gin-contrib/cors did not find in
// AllowOrigins, and logs the ones it refuses.
type originWarner struct {
	auth *Auth

	mu          sync.Mutex
	seen        map[string]time.Time // origin -> when it was last logged
	windowStart time.Time
	inWindow    int
}

// allow is the AllowOriginWithContextFunc; gin-contrib/cors calls it only
// for an origin that is not the website domain.
func (w *originWarner) allow(c *gin.Context, origin string) bool {
	if origin == w.auth.s.apiDomain {
		return true // a page of the API itself, e.g. the dashboard
	}
	// A form posted by a page whose referrer policy is no-referrer carries
	// "Origin: null". Sec-Fetch-* are set by the browser and cannot be
	// forged by a page: same-origin + navigate is one of the API's own
	// pages submitting a form, whose answer no script gets to read. A
	// sandboxed frame or another site's page says cross-site and stays
	// refused.
	if origin == "null" && c.GetHeader("Sec-Fetch-Site") == "same-origin" && c.GetHeader("Sec-Fetch-Mode") == "navigate" {
		return true
	}
	w.warn(c, origin)
	return false
}

func (w *originWarner) warn(c *gin.Context, origin string) {
	now := w.auth.now()
	w.mu.Lock()
	if last, ok := w.seen[origin]; ok && now.Sub(last) < corsWarnEvery {
		w.mu.Unlock()
		return
	}
	if now.Sub(w.windowStart) >= time.Minute {
		w.windowStart, w.inWindow = now, 0
	}
	if w.inWindow >= corsWarnPerMinute {
		w.mu.Unlock()
		return
	}
	w.inWindow++
	if len(w.seen) >= corsWarnRemember {
		clear(w.seen)
	}
	w.seen[origin] = now
	w.mu.Unlock()

	shown := origin
	if len(shown) > corsWarnMaxOrigin {
		shown = shown[:corsWarnMaxOrigin] + "..."
	}
	w.auth.log.Warn("ginauth: CORS refused a request (403) from an origin that is not the website domain; "+
		"if your website is served from that origin, set AppInfo.WebsiteDomain (WEBSITE_DOMAIN in the demo) to it",
		"origin", shown, "websiteDomain", w.auth.s.websiteDomain,
		"method", c.Request.Method, "path", c.Request.URL.Path)
}
