package ginauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Wire names from the FDI (fdi-protocol.md §4.2).
const (
	CookieAccessToken  = "sAccessToken"
	CookieRefreshToken = "sRefreshToken"
	HeaderAccessToken  = "st-access-token"
	HeaderRefreshToken = "st-refresh-token"
	HeaderFrontToken   = "front-token"
	HeaderAntiCSRF     = "anti-csrf"
	HeaderAuthMode     = "st-auth-mode"
	HeaderRID          = "rid"
	HeaderFDIVersion   = "fdi-version"
)

// TokenTransfer is how tokens travel between the frontend and the API.
type TokenTransfer int

// Token transfer methods.
const (
	TransferCookie TokenTransfer = 1 << iota
	TransferHeader
	allTransfers = TransferCookie | TransferHeader
)

func (t TokenTransfer) String() string {
	switch t {
	case TransferCookie:
		return "cookie"
	case TransferHeader:
		return "header"
	}
	return "any"
}

// CORSHeaders lists the request headers the frontend SDKs send, which the
// app's CORS configuration must allow (besides Content-Type).
func CORSHeaders() []string {
	return []string{HeaderRID, HeaderFDIVersion, HeaderAntiCSRF, "authorization", HeaderAuthMode}
}

// creationTransfer follows st-auth-mode: cookies only when asked for.
func creationTransfer(c *gin.Context) TokenTransfer {
	if strings.EqualFold(c.GetHeader(HeaderAuthMode), "cookie") {
		return TransferCookie
	}
	return TransferHeader
}

// bearer returns the Authorization Bearer token, if any.
func bearer(c *gin.Context) string {
	// The map is indexed with the canonical name directly: Header.Get
	// canonicalizes its argument on every call, and net/http (like
	// Header.Set) stores canonical names only.
	var h string
	if v := c.Request.Header["Authorization"]; len(v) > 0 {
		h = v[0]
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func cookieValue(c *gin.Context, name string) string {
	v, err := c.Cookie(name) // gin unescapes
	if err != nil {
		return ""
	}
	return v
}

// refreshTokenFromRequest picks the refresh token of a refresh request:
// the Authorization Bearer value when it has the form of our refresh tokens,
// else the sRefreshToken cookie. supertokens-node takes any Bearer value
// (its refresh tokens are opaque); ours have a recognisable form, so an
// app's own Authorization header sent with a cookie-mode refresh does not
// hide the cookie.
func refreshTokenFromRequest(c *gin.Context) (string, TokenTransfer) {
	if b := bearer(c); b != "" {
		if _, ok := parseRefreshToken(b); ok {
			return b, TransferHeader
		}
	}
	return cookieValue(c, CookieRefreshToken), TransferCookie
}

// exposeHeader appends names to Access-Control-Expose-Headers without
// duplicates, keeping whatever CORS middleware put there.
func exposeHeader(c *gin.Context, names ...string) {
	h := c.Writer.Header()
	cur := h.Values("Access-Control-Expose-Headers")
	have := map[string]bool{}
	for _, line := range cur {
		for _, n := range strings.Split(line, ",") {
			have[strings.ToLower(strings.TrimSpace(n))] = true
		}
	}
	var add []string
	for _, n := range names {
		if !have[n] {
			add = append(add, n)
			have[n] = true
		}
	}
	if len(add) == 0 {
		return
	}
	all := strings.Join(add, ", ")
	if len(cur) > 0 {
		all = strings.Join(cur, ", ") + ", " + all
	}
	h.Set("Access-Control-Expose-Headers", all)
}

func (a *Auth) setCookie(c *gin.Context, name, value, path string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    url.QueryEscape(value),
		Path:     path,
		Domain:   a.s.cookieDomain,
		Expires:  expires,
		HttpOnly: true,
		Secure:   a.s.secure,
		SameSite: a.sameSiteFor(c.Request),
	})
}

// frontToken builds the front-token header: base64 of {"uid","ate","up"}.
func frontToken(userID string, accessExpiry time.Time, payloadJSON []byte) string {
	uid, _ := json.Marshal(userID)
	var b strings.Builder
	b.Grow(len(payloadJSON) + len(uid) + 40)
	b.WriteString(`{"uid":`)
	b.Write(uid)
	b.WriteString(`,"ate":`)
	b.WriteString(strconv.FormatInt(accessExpiry.UnixMilli(), 10))
	b.WriteString(`,"up":`)
	b.Write(payloadJSON)
	b.WriteString(`}`)
	return base64.StdEncoding.EncodeToString([]byte(b.String()))
}

// writeAccessToken sends a new access token (and front-token) on the
// response in the given transfer mode.
func (a *Auth) writeAccessToken(c *gin.Context, t TokenTransfer, tok *accessToken) {
	c.Header(HeaderFrontToken, frontToken(tok.userID, tok.expiry, tok.payloadJSON))
	exposed := []string{HeaderFrontToken}
	if t == TransferCookie {
		// The cookie outlives the token (one year, as SuperTokens does) so
		// that an expired token still reaches us and earns "try refresh
		// token" rather than "unauthorised".
		a.setCookie(c, CookieAccessToken, tok.jwt, a.s.accessTokenPath, a.now().Add(365*24*time.Hour))
	}
	// With ExposeAccessTokenInCookieMode the cookie-mode token also goes in
	// the header, as supertokens-node's setAccessTokenInResponse does. The
	// SDK stores it but sends it back only alongside a refresh token in
	// header storage, which cookie mode never gives it, so requests keep
	// using the cookies.
	if t != TransferCookie || a.s.exposeAccessToken {
		c.Header(HeaderAccessToken, tok.jwt)
		exposed = append(exposed, HeaderAccessToken)
	}
	exposeHeader(c, exposed...)
}

// writeTokens sends a full set of session tokens: access, refresh,
// front-token and, for VIA_TOKEN, anti-csrf.
//
// Tokens the request carried in the other transfer mode are cleared first,
// as supertokens-node's createNewSessionInRequest and
// refreshSessionInRequest do: clearing writes "front-token: remove", which
// the new front-token written after it replaces. Cleared afterwards, the
// "remove" would win and supertokens-website would wipe the tokens it had
// just saved (a frontend that switched tokenTransferMethod, or an app that
// sends its own Authorization header in cookie mode, was logged out).
func (a *Auth) writeTokens(c *gin.Context, t TokenTransfer, tok *accessToken, refresh string, refreshExpiry time.Time, antiCSRF string) {
	if other := otherTransfer(t); carriesTokens(c, other) {
		a.clearTokens(c, other)
	}
	a.writeAccessToken(c, t, tok)
	if t == TransferCookie {
		a.setCookie(c, CookieRefreshToken, refresh, a.s.refreshTokenPath, refreshExpiry)
		if antiCSRF != "" {
			c.Header(HeaderAntiCSRF, antiCSRF)
			exposeHeader(c, HeaderAntiCSRF)
		}
	} else {
		c.Header(HeaderRefreshToken, refresh)
		exposeHeader(c, HeaderRefreshToken)
	}
}

func otherTransfer(t TokenTransfer) TokenTransfer {
	if t == TransferCookie {
		return TransferHeader
	}
	return TransferCookie
}

// carriesTokens reports whether the request carries any session token in
// transfer mode t: for header mode any Authorization Bearer value (the
// reference's getToken does not look inside it), for cookie mode either
// session cookie.
func carriesTokens(c *gin.Context, t TokenTransfer) bool {
	if t == TransferHeader {
		return bearer(c) != ""
	}
	return cookieValue(c, CookieAccessToken) != "" || cookieValue(c, CookieRefreshToken) != ""
}

// duplicateCookie reports whether the request's Cookie headers name the
// cookie more than once. That happens when an app changed its cookie
// domain (or path) and the browser keeps both the old and the new cookie;
// which of them net/http would return is then a guess. Names are compared
// after percent-decoding, as supertokens-node's hasMultipleCookiesForTokenType
// does.
func duplicateCookie(c *gin.Context, name string) bool {
	n := 0
	for _, line := range c.Request.Header.Values("Cookie") {
		for len(line) > 0 {
			var pair string
			pair, line, _ = strings.Cut(line, ";")
			k, _, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if k != name {
				if d, err := url.PathUnescape(k); err != nil || d != name {
					continue
				}
			}
			if n++; n > 1 {
				return true
			}
		}
	}
	return false
}

// legacyIDRefreshCookie is the sIdRefreshToken cookie of SuperTokens'
// sessions before access-token v3. A browser that still holds one next to a
// current session is migrated as supertokens-node does: every verify
// answers "try refresh token" while it is there, and every refresh clears
// it (see hasLegacyIDRefreshCookie and handleRefresh). ginauth never sets it.
const legacyIDRefreshCookie = "sIdRefreshToken"

// hasLegacyIDRefreshCookie reports whether the request carries
// sIdRefreshToken, whatever its value (supertokens-node tests presence). The
// substring test keeps the common case (no such cookie) to a scan of the
// Cookie header.
func hasLegacyIDRefreshCookie(c *gin.Context) bool {
	for _, line := range c.Request.Header["Cookie"] { // canonical name: see bearer
		if strings.Contains(line, legacyIDRefreshCookie) {
			_, err := c.Request.Cookie(legacyIDRefreshCookie)
			return err == nil
		}
	}
	return false
}

// clearLegacyIDRefreshCookie expires sIdRefreshToken, under the access
// token's path as supertokens-node sets and clears it.
func (a *Auth) clearLegacyIDRefreshCookie(c *gin.Context) {
	a.setCookie(c, legacyIDRefreshCookie, "", a.s.accessTokenPath, time.Unix(0, 0))
}

// refreshDuplicateCookies deals with a refresh whose request names a
// session cookie twice, as supertokens-node's
// clearSessionCookiesFromOlderCookieDomain does, before any token is
// looked at. With Session.OlderCookieDomain set it clears the duplicated
// cookies under that domain and answers 200 with a message and no tokens:
// supertokens-website then retries, and the browser sends the one cookie
// left. Without it the refresh cannot know which cookie is current (using
// the stale one could loop forever) and is refused with a 500 naming the
// setting. It reports whether it answered the request.
func (a *Auth) refreshDuplicateCookies(c *gin.Context) bool {
	type dup struct{ name, path string }
	var found []dup
	for _, d := range []dup{{CookieAccessToken, a.s.accessTokenPath}, {CookieRefreshToken, a.s.refreshTokenPath}} {
		if duplicateCookie(c, d.name) {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return false
	}
	if a.s.olderCookieDomain == "" {
		// The first sentence is supertokens-node's: tools and the SDK's own
		// tests look for it.
		a.writeError(c, ErrorWithMessage(ErrInternal,
			"The request contains multiple session cookies. This may happen if the cookie domain was changed; set Session.OlderCookieDomain to clear the old ones.", nil))
		return true
	}
	for _, d := range found {
		http.SetCookie(c.Writer, &http.Cookie{Name: d.name, Value: "", Path: d.path, Domain: a.s.olderCookieDomain,
			Expires: time.Unix(0, 0), HttpOnly: true, Secure: a.s.secure, SameSite: a.sameSiteFor(c.Request)})
	}
	c.JSON(http.StatusOK, gin.H{"message": "duplicate session cookies from the older cookie domain were cleared; refresh again"})
	return true
}

// clearTokens removes the session tokens from the client in the given
// transfer modes and sends front-token: remove.
func (a *Auth) clearTokens(c *gin.Context, t TokenTransfer) {
	if t&TransferCookie != 0 {
		epoch := time.Unix(0, 0)
		a.setCookie(c, CookieAccessToken, "", a.s.accessTokenPath, epoch)
		a.setCookie(c, CookieRefreshToken, "", a.s.refreshTokenPath, epoch)
	}
	exposed := []string{HeaderFrontToken}
	if t&TransferHeader != 0 {
		// An empty value means "clear" to the SDK; gin's c.Header would
		// delete the header instead.
		c.Writer.Header().Set(HeaderAccessToken, "")
		c.Writer.Header().Set(HeaderRefreshToken, "")
		exposed = append(exposed, HeaderAccessToken, HeaderRefreshToken)
	}
	c.Writer.Header().Del(HeaderAntiCSRF)
	c.Header(HeaderFrontToken, "remove")
	exposeHeader(c, exposed...)
}
