package ginauth

import (
	"strings"
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
// It allows exactly the website origins: AppInfo.WebsiteDomain and
// AppInfo.WebsiteOrigins (an app scheme such as "com.example.app://"
// included). Besides them it admits the API's own pages (the
// dashboard): an Origin equal to AppInfo.APIDomain (gin-contrib/cors
// itself only recognises the request's Host, which a reverse proxy may
// rewrite), and "Origin: null" on a browser's same-origin form navigation
// (what a page with a no-referrer policy sends). Any other origin is
// refused with 403, and the refusal is logged as a warning naming the
// origin and the configured website origins, at most once per origin every
// ten minutes and a few times a minute overall.
func (a *Auth) CORSConfig() cors.Config {
	w := &originWarner{auth: a, seen: map[string]time.Time{}}
	return cors.Config{
		AllowOrigins:               a.corsOrigins(),
		AllowOriginWithContextFunc: w.allow,
		AllowMethods:               []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		AllowHeaders:               append([]string{"Content-Type"}, CORSHeaders()...),
		ExposeHeaders:              []string{HeaderFrontToken, HeaderAccessToken, HeaderRefreshToken, HeaderAntiCSRF},
		AllowCredentials:           true,
		MaxAge:                     12 * time.Hour,
	}
}

// corsOrigins are the listed origins gin-contrib/cors can hold itself: it
// refuses any scheme but http and https in AllowOrigins, so an app scheme
// is admitted by originWarner.allow instead.
func (a *Auth) corsOrigins() []string {
	var out []string
	for _, o := range a.WebsiteOrigins() {
		if strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://") {
			out = append(out, strings.ToLower(o))
		}
	}
	return out
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
// for an origin that is not in AllowOrigins.
func (w *originWarner) allow(c *gin.Context, origin string) bool {
	if origin == w.auth.s.apiDomain {
		return true // a page of the API itself, e.g. the dashboard
	}
	if w.auth.s.multiOrigin && w.auth.s.origins[origin] != nil {
		return true // a listed app scheme, exactly as the app sends it
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
	w.auth.log.Warn("ginauth: CORS refused a request (403) from an origin that is not a website origin; "+
		"if your website is served from that origin, set AppInfo.WebsiteDomain (WEBSITE_DOMAIN in the demo) to it, "+
		"or add it to AppInfo.WebsiteOrigins (WEBSITE_ORIGINS in the demo)",
		"origin", shown, "websiteDomain", w.auth.s.websiteDomain,
		"method", c.Request.Method, "path", c.Request.URL.Path)
}
