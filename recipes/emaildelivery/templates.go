package emaildelivery

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// E-mail kinds, the value of Email.Kind and the first argument of
// Renderer.Render.
const (
	KindEmailVerification = "email-verification"
	KindPasswordReset     = "password-reset"
	KindMagicLink         = "magic-link"
)

// TemplateData is what a template sees.
type TemplateData struct {
	// AppName is AppInfo.AppName.
	AppName string
	// Link is the action link (verify, reset, sign in).
	Link string
	// Email is the recipient's address.
	Email string
	// ExpiresIn is how long the link stays valid; zero when unknown.
	ExpiresIn time.Duration
}

// ExpiresInText renders ExpiresIn for people: "24 hours", "1 hour",
// "15 minutes", "3 days". Templates call it as
// {{.ExpiresInText}}.
func (d TemplateData) ExpiresInText() string {
	e := d.ExpiresIn.Round(time.Minute)
	if e <= 0 {
		return ""
	}
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	days, hours, mins := int64(e/(24*time.Hour)), int64(e%(24*time.Hour)/time.Hour), int64(e%time.Hour/time.Minute)
	if days > 0 && days <= 2 && mins == 0 {
		// "24 hours" and "36 hours" read better than "1 day and 12 hours".
		hours += days * 24
		days = 0
	}
	var parts []string
	if days > 0 {
		parts = append(parts, plural(days, "day"))
	}
	if hours > 0 {
		parts = append(parts, plural(hours, "hour"))
	}
	if mins > 0 {
		parts = append(parts, plural(mins, "minute"))
	}
	return strings.Join(parts, " and ")
}

// Renderer turns a kind of e-mail and its data into a subject, a plain-text
// body and an HTML body (which may be empty). Templates implements it; an
// app with its own templating implements it itself.
type Renderer interface {
	Render(kind string, data TemplateData) (subject, text, html string, err error)
}

// Template is one kind of e-mail. Subject and Text are text/template
// templates, HTML is an html/template template (so values are escaped).
// A nil field falls back to the default template of the kind it is used
// for.
type Template struct {
	Subject *texttemplate.Template
	Text    *texttemplate.Template
	HTML    *htmltemplate.Template
}

// NewTemplate parses the three sources into a Template. An empty source
// leaves its field nil (the default is used).
func NewTemplate(subject, text, html string) (*Template, error) {
	t := &Template{}
	var err error
	if subject != "" {
		if t.Subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(subject); err != nil {
			return nil, fmt.Errorf("emaildelivery: subject template: %w", err)
		}
	}
	if text != "" {
		if t.Text, err = texttemplate.New("text").Option("missingkey=error").Parse(text); err != nil {
			return nil, fmt.Errorf("emaildelivery: text template: %w", err)
		}
	}
	if html != "" {
		if t.HTML, err = htmltemplate.New("html").Option("missingkey=error").Parse(html); err != nil {
			return nil, fmt.Errorf("emaildelivery: HTML template: %w", err)
		}
	}
	return t, nil
}

// MustTemplate is NewTemplate that panics on a parse error, for templates
// written in the program's source.
func MustTemplate(subject, text, html string) *Template {
	t, err := NewTemplate(subject, text, html)
	if err != nil {
		panic(err)
	}
	return t
}

// Templates holds the template of each kind of e-mail. The zero value
// renders the defaults; set a field to override one kind (or one part of
// it: nil parts of a Template fall back to the default). Kinds beyond the
// built-in ones go in Other.
type Templates struct {
	EmailVerification *Template
	PasswordReset     *Template
	MagicLink         *Template
	// Other maps further kinds to their templates.
	Other map[string]*Template
}

// DefaultTemplates returns the built-in templates. They are what the zero
// Templates renders; the function exists for apps that want to start from
// them.
func DefaultTemplates() Templates {
	return Templates{EmailVerification: defaults[KindEmailVerification], PasswordReset: defaults[KindPasswordReset],
		MagicLink: defaults[KindMagicLink]}
}

// Render implements Renderer. Subjects are trimmed and must not contain
// line breaks.
func (ts Templates) Render(kind string, data TemplateData) (subject, text, html string, err error) {
	var t *Template
	switch kind {
	case KindEmailVerification:
		t = ts.EmailVerification
	case KindPasswordReset:
		t = ts.PasswordReset
	case KindMagicLink:
		t = ts.MagicLink
	default:
		t = ts.Other[kind]
	}
	def := defaults[kind]
	if t == nil && def == nil {
		return "", "", "", fmt.Errorf("emaildelivery: no template for e-mail kind %q", kind)
	}
	if t == nil {
		t = def
	}
	subjectT, textT, htmlT := t.Subject, t.Text, t.HTML
	if def != nil {
		if subjectT == nil {
			subjectT = def.Subject
		}
		if textT == nil {
			textT = def.Text
		}
		if htmlT == nil {
			htmlT = def.HTML
		}
	}
	if subjectT == nil || textT == nil {
		return "", "", "", fmt.Errorf("emaildelivery: the template for %q needs a subject and a text part", kind)
	}
	var b bytes.Buffer
	if err := subjectT.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("emaildelivery: %s subject: %w", kind, err)
	}
	subject = strings.TrimSpace(b.String())
	if strings.ContainsAny(subject, "\r\n") {
		return "", "", "", fmt.Errorf("emaildelivery: %s subject contains a line break", kind)
	}
	b.Reset()
	if err := textT.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("emaildelivery: %s text: %w", kind, err)
	}
	text = b.String()
	if htmlT != nil {
		b.Reset()
		if err := htmlT.Execute(&b, data); err != nil {
			return "", "", "", fmt.Errorf("emaildelivery: %s HTML: %w", kind, err)
		}
		html = b.String()
	}
	return subject, text, html, nil
}

// Compose renders an e-mail of the given kind for to with r (the default
// Templates when r is nil) and returns it ready for a Sender.
func Compose(r Renderer, kind, to string, data TemplateData) (Email, error) {
	if r == nil {
		r = Templates{}
	}
	if data.Email == "" {
		data.Email = to
	}
	subject, text, html, err := r.Render(kind, data)
	if err != nil {
		return Email{}, err
	}
	return Email{To: to, Subject: subject, Text: text, HTML: html, Kind: kind, Link: data.Link}, nil
}

// The default templates. The HTML is a single centred card with inline
// styles, which is what mail clients render most reliably.
var defaults = map[string]*Template{
	KindEmailVerification: MustTemplate(
		`Verify your e-mail address{{with .AppName}} for {{.}}{{end}}`,
		`Hello,

Please confirm that {{.Email}} is your e-mail address{{with .AppName}} for {{.}}{{end}} by opening this link:

{{.Link}}
{{with .ExpiresInText}}
The link expires in {{.}}.{{end}}

If you did not ask for this, you can ignore this e-mail.
`,
		htmlPage(`Verify your e-mail address`,
			`<p style="margin:0 0 16px">Please confirm that <strong>{{.Email}}</strong> is your e-mail address{{with .AppName}} for {{.}}{{end}}.</p>`,
			`Verify e-mail`,
			`If you did not ask for this, you can ignore this e-mail.`)),
	KindPasswordReset: MustTemplate(
		`Reset your password{{with .AppName}} for {{.}}{{end}}`,
		`Hello,

Someone asked to reset the password of the account {{.Email}}{{with .AppName}} on {{.}}{{end}}. To choose a new password, open this link:

{{.Link}}
{{with .ExpiresInText}}
The link expires in {{.}}.{{end}}

If you did not ask for this, you can ignore this e-mail; your password stays as it is.
`,
		htmlPage(`Reset your password`,
			`<p style="margin:0 0 16px">Someone asked to reset the password of the account <strong>{{.Email}}</strong>{{with .AppName}} on {{.}}{{end}}.</p>`,
			`Choose a new password`,
			`If you did not ask for this, you can ignore this e-mail; your password stays as it is.`)),
	KindMagicLink: MustTemplate(
		`Sign in{{with .AppName}} to {{.}}{{end}}`,
		`Hello,

Open this link to sign in{{with .AppName}} to {{.}}{{end}} as {{.Email}}:

{{.Link}}
{{with .ExpiresInText}}
The link expires in {{.}}.{{end}}

If you did not ask for this, you can ignore this e-mail.
`,
		htmlPage(`Sign in`,
			`<p style="margin:0 0 16px">Open the link below to sign in{{with .AppName}} to {{.}}{{end}} as <strong>{{.Email}}</strong>.</p>`,
			`Sign in`,
			`If you did not ask for this, you can ignore this e-mail.`)),
}

func htmlPage(title, intro, button, footer string) string {
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + title + `</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:32px 0">
<tr><td align="center">
<table role="presentation" width="480" cellpadding="0" cellspacing="0" style="max-width:480px;width:100%;background:#ffffff;border-radius:8px;padding:32px">
<tr><td style="font-size:15px;line-height:1.5">
{{with .AppName}}<p style="margin:0 0 8px;font-size:13px;color:#656d76">{{.}}</p>{{end}}
<h1 style="margin:0 0 16px;font-size:20px">` + title + `</h1>
` + intro + `
<p style="margin:24px 0"><a href="{{.Link}}" style="display:inline-block;background:#1f6feb;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600">` + button + `</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#656d76">Or paste this link into your browser:<br><a href="{{.Link}}" style="color:#1f6feb;word-break:break-all">{{.Link}}</a></p>
{{with .ExpiresInText}}<p style="margin:0 0 16px;font-size:13px;color:#656d76">The link expires in {{.}}.</p>{{end}}
<p style="margin:0;font-size:13px;color:#656d76">` + footer + `</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`
}
