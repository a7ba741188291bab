package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
)

//go:embed assets/pages.tmpl assets/style.css assets/icon.svg
var assets embed.FS

var (
	css   = template.CSS(mustRead("assets/style.css"))
	pages = template.Must(template.New("pages").ParseFS(assets, "assets/pages.tmpl"))
	// csp allows the one embedded style sheet (by its hash) and nothing
	// else: no script at all, no framing, forms posting only here.
	csp = "default-src 'none'; style-src 'sha256-" + styleHash() + "'; img-src 'self'; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
)

// icon is the pages' favicon. Declaring one keeps browsers from asking
// the app for /favicon.ico, whose 404 they report as a console error.
var icon = mustRead("assets/icon.svg")

// handleIcon serves GET <base>/dashboard/icon.svg to anyone: it is the
// same for every deployment.
func (r *Recipe) handleIcon(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Data(http.StatusOK, "image/svg+xml", []byte(icon))
}

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func styleHash() string {
	sum := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pageData is what every template gets.
type pageData struct {
	Title   string
	App     string
	Base    string
	CSS     template.CSS
	CSRF    string
	SignOut bool
	Notice  string
	Error   string
	Message string

	List    *listView
	User    *userView
	Confirm *confirmView
}

// confirmView is the confirmation step of a destructive action.
type confirmView struct {
	Heading, Text, Button string
	Action, Back          string
	Fields                []field
}

type field struct{ Name, Value string }

// data starts the page data of an admitted admin.
func (r *Recipe) data(adm *admin, title string) *pageData {
	d := &pageData{Title: title}
	if adm != nil {
		d.CSRF, d.SignOut = adm.csrf, adm.apiKey
	}
	return d
}

// render writes a page. The template runs into a buffer first, so that a
// failure gives a clean 500 rather than half a page.
func (r *Recipe) render(c *gin.Context, status int, name string, d *pageData) {
	d.App, d.Base, d.CSS = r.cfg.Title, r.base, css
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		_ = c.Error(err)
		r.auth.Logger().ErrorContext(c.Request.Context(), "dashboard: rendering a page failed", "page", name, "error", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal server error"))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// message writes a short page with a title and a sentence.
func (r *Recipe) message(c *gin.Context, status int, title, text string) {
	r.render(c, status, "message", &pageData{Title: title, Message: text})
}

// fail answers an error as a page: its status and wire message for a
// ginauth error (a 503 for the database, a 429 for a rate limit, ...),
// a 500 otherwise. The cause is logged and recorded in c.Errors, never
// shown.
func (r *Recipe) fail(c *gin.Context, err error) {
	var e *ginauth.Error
	if !errors.As(err, &e) {
		e = ginauth.NewError(ginauth.ErrInternal, err)
	}
	_ = c.Error(err)
	if e.Status >= 500 {
		r.auth.Logger().ErrorContext(c.Request.Context(), "dashboard: request failed", "path", c.Request.URL.Path, "error", err.Error())
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.FormatInt(int64(e.RetryAfter.Seconds()+0.999), 10))
	}
	title := http.StatusText(e.Status)
	if title == "" {
		title = "Error"
	}
	r.message(c, e.Status, title, sentence(e.Message))
}

// sentence capitalises a wire message for a page.
func sentence(s string) string {
	if s == "" {
		return "Something went wrong."
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	if last := s[len(s)-1]; last != '.' && last != '!' && last != '?' {
		s += "."
	}
	return s
}

// when formats a time for a page, in UTC.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func whenMilli(ms int64) string { return when(time.UnixMilli(ms)) }
