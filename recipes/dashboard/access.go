package dashboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// Cookie names. The session cookie holds a random token whose SHA-256 is
// the admin session's key; the CSRF cookie (Authorize mode only) holds the
// random value the CSRF token of an Authorize-admitted admin is bound to.
const (
	sessionCookie = "ginauth_dashboard"
	csrfCookie    = "ginauth_dashboard_csrf"
	csrfField     = "csrf"
	maxFormBytes  = 256 << 10
)

// admin is a request the dashboard admitted.
type admin struct {
	// actor names the admin in events: "api-key:<key id>" or "authorize".
	actor string
	// csrf is the token every form must send back.
	csrf string
	// apiKey is true for an API-key session (which can sign out).
	apiKey bool
	// token is the raw session cookie, for sign-out.
	token string
}

// csrfFor derives a CSRF token from a secret only the admin's browser
// holds (in an HttpOnly cookie): a page from elsewhere can neither read
// the cookie nor compute the token.
func csrfFor(secret string) string {
	sum := sha256.Sum256([]byte("ginauth-dashboard-csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// securityHeaders are set on every dashboard response.
func (r *Recipe) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" on the dashboard's own form posts, which CORS
	// middleware in front of ginauth refuses; same-origin still sends
	// nothing to other origins.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func (r *Recipe) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: r.base, MaxAge: maxAge,
		HttpOnly: true, Secure: r.secure || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// crossSite reports a browser request sent from another site or origin:
// such a request never changes anything, whatever it carries. Browsers
// that send Sec-Fetch-Site are judged by it; an Origin header, which older
// browsers send too, must then name this API (its configured domain or the
// Host it was asked by). "Origin: null" (a page with a no-referrer policy)
// is left to the CSRF token and the SameSite=Strict cookie.
func (r *Recipe) crossSite(c *gin.Context) bool {
	switch c.GetHeader("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	origin := c.GetHeader("Origin")
	switch origin {
	case "", "null", r.apiDomain, "http://" + c.Request.Host, "https://" + c.Request.Host:
		return false
	}
	return true
}

// admit finds who is asking: an admin session (API key) first, then the
// app's Authorize function. It returns nil when neither admits the
// request.
func (r *Recipe) admit(c *gin.Context) (*admin, error) {
	if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" && len(r.keys) > 0 {
		var row models.DashboardSession
		err := r.auth.DB().WithContext(kit.DBContext(c)).
			Where("token_hash = ? AND expires_at > ?", kit.HashToken(tok), r.auth.Now()).Take(&row).Error
		switch {
		case err == nil:
			for _, id := range r.keyIDs {
				if id == row.KeyID {
					return &admin{actor: "api-key:" + row.KeyID, csrf: csrfFor(tok), apiKey: true, token: tok}, nil
				}
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return nil, ginauth.DBError(err)
		}
	}
	if r.cfg.Authorize != nil && r.cfg.Authorize(c) {
		if c.IsAborted() {
			return nil, nil
		}
		secret, err := c.Cookie(csrfCookie)
		if err != nil || len(secret) < 32 {
			secret = kit.Token(32)
			r.setCookie(c, csrfCookie, secret, 0)
		}
		return &admin{actor: "authorize", csrf: csrfFor(secret)}, nil
	}
	return nil, nil
}

// page wraps a handler of a page or form: it sets the security headers,
// admits the admin (sending others to the sign-in page), and for a POST
// refuses cross-site requests and checks the CSRF token before the
// handler runs.
func (r *Recipe) page(h func(c *gin.Context, adm *admin)) gin.HandlerFunc {
	return func(c *gin.Context) {
		r.securityHeaders(c)
		if c.Request.Method == http.MethodPost && r.crossSite(c) {
			r.message(c, http.StatusForbidden, "Refused", "This form was sent from another site.")
			return
		}
		adm, err := r.admit(c)
		if err != nil {
			r.fail(c, err)
			return
		}
		if c.IsAborted() { // Authorize answered the request itself
			return
		}
		if adm == nil {
			switch {
			case len(r.keys) == 0:
				r.message(c, http.StatusForbidden, "Forbidden", "You are not allowed to use this dashboard.")
			case c.Request.Method == http.MethodGet:
				c.Redirect(http.StatusSeeOther, r.base+"/signin")
			default:
				r.render(c, http.StatusUnauthorized, "signin", &pageData{Title: "Sign in", Error: "Your dashboard session has ended. Sign in again; nothing was changed."})
			}
			return
		}
		if c.Request.Method == http.MethodPost {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
			if err := c.Request.ParseForm(); err != nil {
				r.message(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
				return
			}
			got := c.Request.PostForm.Get(csrfField)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(adm.csrf)) != 1 {
				r.message(c, http.StatusForbidden, "Refused", "The form's security token is missing or wrong. Reload the page and try again; nothing was changed.")
				return
			}
		}
		h(c, adm)
	}
}

// checkKey compares key with every configured key in constant time and
// returns the matching key's id.
func (r *Recipe) checkKey(key string) (string, bool) {
	sum := sha256.Sum256([]byte(key))
	found := -1
	for i := range r.keys {
		if subtle.ConstantTimeCompare(sum[:], r.keys[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return r.keyIDs[found], true
}

// handleSignInPage serves GET <base>/dashboard/signin.
func (r *Recipe) handleSignInPage(c *gin.Context) {
	r.securityHeaders(c)
	if adm, err := r.admit(c); err == nil && adm != nil && adm.apiKey {
		c.Redirect(http.StatusSeeOther, r.base)
		return
	}
	r.render(c, http.StatusOK, "signin", &pageData{Title: "Sign in"})
}

// handleSignIn serves POST <base>/dashboard/signin: a rate-limited API-key
// check that starts an admin session.
func (r *Recipe) handleSignIn(c *gin.Context) {
	r.securityHeaders(c)
	if r.crossSite(c) {
		r.message(c, http.StatusForbidden, "Refused", "This form was sent from another site.")
		return
	}
	if err := r.auth.CheckRateLimit(c, ginauth.ActionDashboardSignIn, ""); err != nil {
		r.fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10)
	if err := c.Request.ParseForm(); err != nil {
		r.message(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	keyID, ok := r.checkKey(c.Request.PostForm.Get("key"))
	if !ok {
		r.auth.EmitRequest(c, ginauth.Event{Type: EventSignInFailed, Detail: "wrong dashboard API key"})
		r.render(c, http.StatusUnauthorized, "signin", &pageData{Title: "Sign in", Error: "That API key is not valid."})
		return
	}
	now := r.auth.Now()
	tok := kit.Token(32)
	db := r.auth.DB().WithContext(kit.DBContext(c))
	// Expired sessions are useless; sweeping them here keeps the table
	// small without a background job.
	if err := db.Where("expires_at <= ?", now).Delete(&models.DashboardSession{}).Error; err != nil {
		r.fail(c, ginauth.DBError(err))
		return
	}
	row := models.DashboardSession{TokenHash: kit.HashToken(tok), KeyID: keyID, CreatedAt: now, ExpiresAt: now.Add(r.cfg.SessionLifetime)}
	if err := db.Create(&row).Error; err != nil {
		r.fail(c, ginauth.DBError(err))
		return
	}
	r.setCookie(c, sessionCookie, tok, int(r.cfg.SessionLifetime.Seconds()))
	r.auth.EmitRequest(c, ginauth.Event{Type: EventSignIn, Detail: "api-key:" + keyID})
	c.Redirect(http.StatusSeeOther, r.base)
}

// handleSignOut serves POST <base>/dashboard/signout.
func (r *Recipe) handleSignOut(c *gin.Context, adm *admin) {
	if adm.apiKey {
		err := r.auth.DB().WithContext(kit.DBContext(c)).Where("token_hash = ?", kit.HashToken(adm.token)).Delete(&models.DashboardSession{}).Error
		if err != nil {
			r.fail(c, ginauth.DBError(err))
			return
		}
	}
	r.setCookie(c, sessionCookie, "", -1)
	r.auth.EmitRequest(c, ginauth.Event{Type: EventAction, Detail: "signout by " + adm.actor})
	c.Redirect(http.StatusSeeOther, r.base+"/signin")
}

// DeleteExpiredSessions removes admin sessions that have expired and
// returns how many went. Signing in sweeps them too.
func (r *Recipe) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	if r.auth == nil {
		return 0, ErrNotSetUp
	}
	res := r.auth.DB().WithContext(kit.DBContext(ctx)).Where("expires_at <= ?", r.auth.Now()).Delete(&models.DashboardSession{})
	return res.RowsAffected, ginauth.DBError(res.Error)
}
