package passwordless

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"text/template"
	"time"

	"github.com/ginauth/ginauth/recipes/emaildelivery"
)

// KindSignInCode is the Email.Kind of code e-mails that carry a user input
// code (with or without a link); e-mails that carry only a magic link have
// kind emaildelivery.KindMagicLink.
const KindSignInCode = "passwordless-code"

// SMS is one text message to deliver.
type SMS struct {
	// To is the phone number, in E.164 form.
	To string
	// Body is the rendered message.
	Body string
	// Code and Link are what Body carries (either may be empty, as the flow
	// type says), for senders that use a provider's own templates.
	Code string
	Link string
}

// String describes the message without its secrets.
func (s SMS) String() string { return "SMS{To:" + s.To + " Body:[redacted]}" }

// GoString is String, so that %#v does not print the code either.
func (s SMS) GoString() string { return s.String() }

// LogValue logs the recipient only: the body, code and link sign a user in.
func (s SMS) LogValue() slog.Value { return slog.GroupValue(slog.String("to", s.To)) }

// SMSSender delivers text messages. Apps implement it over their SMS
// provider (Twilio, Vonage, ...).
type SMSSender interface {
	Send(ctx context.Context, sms SMS) error
}

// SMSSenderFunc adapts a function to SMSSender.
type SMSSenderFunc func(ctx context.Context, sms SMS) error

// Send calls f.
func (f SMSSenderFunc) Send(ctx context.Context, sms SMS) error { return f(ctx, sms) }

// LogSMSSender returns an SMSSender that writes each message's recipient,
// code and link to logger at Info level instead of sending it (nil means
// slog.Default()). It is the development default.
//
// The logged code is a live credential. Do not use it in production.
func LogSMSSender(logger *slog.Logger) SMSSender {
	if logger == nil {
		logger = slog.Default()
	}
	return SMSSenderFunc(func(ctx context.Context, s SMS) error {
		logger.InfoContext(ctx, "passwordless: SMS not sent (LogSMSSender)", "to", s.To, "code", s.Code, "link", s.Link)
		return nil
	})
}

// MessageData is what the code e-mail and SMS templates see. The fields of
// emaildelivery.TemplateData (AppName, Link, Email, ExpiresIn and the
// ExpiresInText method) are promoted.
type MessageData struct {
	emaildelivery.TemplateData
	// Code is the user input code, empty when the flow sends only a link.
	Code string
	// PhoneNumber is the recipient of an SMS.
	PhoneNumber string
}

// DefaultSMSTemplate is the default SMS body.
const DefaultSMSTemplate = `{{with .Code}}{{.}} is your sign-in code{{else}}Sign in{{end}}{{with .AppName}} for {{.}}{{end}}.{{with .Link}} Or open {{.}}{{end}}{{with .ExpiresInText}} (valid {{.}}){{end}}`

// defaultEmail is the default code e-mail. It covers the three flow types:
// a code, a link, or both.
var defaultEmail = emaildelivery.MustTemplate(
	`{{if .Code}}Your sign-in code{{with .AppName}} for {{.}}{{end}}: {{.Code}}{{else}}Sign in{{with .AppName}} to {{.}}{{end}}{{end}}`,
	`Hello,
{{if .Code}}
Your code to sign in{{with .AppName}} to {{.}}{{end}} as {{.Email}} is:

    {{.Code}}
{{end}}{{if .Link}}
{{if .Code}}Or open{{else}}Open{{end}} this link to sign in{{if not .Code}}{{with .AppName}} to {{.}}{{end}} as {{.Email}}{{end}}:

{{.Link}}
{{end}}{{with .ExpiresInText}}
It expires in {{.}}.
{{end}}
If you did not ask for this, you can ignore this e-mail.
`,
	`<!doctype html><html><body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">`+
		`<div style="max-width:480px;margin:0 auto;background:#fff;border-radius:8px;padding:32px">`+
		`<h1 style="font-size:20px;margin:0 0 16px">Sign in{{with .AppName}} to {{.}}{{end}}</h1>`+
		`{{if .Code}}<p style="margin:0 0 16px">Your code to sign in as <strong>{{.Email}}</strong> is:</p>`+
		`<p style="font-size:28px;letter-spacing:6px;font-weight:bold;margin:0 0 24px">{{.Code}}</p>{{end}}`+
		`{{if .Link}}<p style="margin:0 0 24px"><a href="{{.Link}}" style="background:#2563eb;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none">Sign in{{if not .Code}} as {{.Email}}{{end}}</a></p>{{end}}`+
		`{{with .ExpiresInText}}<p style="margin:0 0 16px;color:#52525b">It expires in {{.}}.</p>{{end}}`+
		`<p style="margin:0;color:#71717a;font-size:13px">If you did not ask for this, you can ignore this e-mail.</p>`+
		`</div></body></html>`)

// setupTemplates merges the configured templates with the defaults and
// renders each once with sample data, so that a broken template fails
// ginauth.New rather than a sign-in.
func (r *Recipe) setupTemplates(appName string) error {
	t := *defaultEmail
	if c := r.cfg.EmailTemplate; c != nil {
		if c.Subject != nil {
			t.Subject = c.Subject
		}
		if c.Text != nil {
			t.Text = c.Text
		}
		if c.HTML != nil {
			t.HTML = c.HTML
		}
	}
	r.emailTmpl = &t
	src := r.cfg.SMSTemplate
	if src == "" {
		src = DefaultSMSTemplate
	}
	sms, err := template.New("sms").Option("missingkey=error").Parse(src)
	if err != nil {
		return fmt.Errorf("SMSTemplate: %w", err)
	}
	r.smsTmpl = sms
	for _, sample := range []MessageData{
		{TemplateData: emaildelivery.TemplateData{AppName: appName, Email: "user@example.com", Link: "https://example.com/verify", ExpiresIn: time.Minute}, Code: "123456"},
		{TemplateData: emaildelivery.TemplateData{AppName: appName, Link: "https://example.com/verify"}, PhoneNumber: "+14155550123"},
	} {
		if _, err := r.renderEmail(sample); err != nil {
			return err
		}
		if _, err := r.renderSMS(sample); err != nil {
			return err
		}
	}
	return nil
}

func (r *Recipe) renderEmail(d MessageData) (emaildelivery.Email, error) {
	var b bytes.Buffer
	t := r.emailTmpl
	if err := t.Subject.Execute(&b, d); err != nil {
		return emaildelivery.Email{}, fmt.Errorf("EmailTemplate subject: %w", err)
	}
	subject := strings.TrimSpace(b.String())
	if strings.ContainsAny(subject, "\r\n") {
		return emaildelivery.Email{}, fmt.Errorf("EmailTemplate subject contains a line break")
	}
	b.Reset()
	if err := t.Text.Execute(&b, d); err != nil {
		return emaildelivery.Email{}, fmt.Errorf("EmailTemplate text: %w", err)
	}
	text := b.String()
	var html string
	if t.HTML != nil {
		b.Reset()
		if err := t.HTML.Execute(&b, d); err != nil {
			return emaildelivery.Email{}, fmt.Errorf("EmailTemplate HTML: %w", err)
		}
		html = b.String()
	}
	kind := KindSignInCode
	if d.Code == "" {
		kind = emaildelivery.KindMagicLink
	}
	return emaildelivery.Email{To: d.Email, Subject: subject, Text: text, HTML: html, Kind: kind, Link: d.Link}, nil
}

func (r *Recipe) renderSMS(d MessageData) (SMS, error) {
	var b bytes.Buffer
	if err := r.smsTmpl.Execute(&b, d); err != nil {
		return SMS{}, fmt.Errorf("SMSTemplate: %w", err)
	}
	return SMS{To: d.PhoneNumber, Body: strings.TrimSpace(b.String()), Code: d.Code, Link: d.Link}, nil
}

// send delivers a code to the contact, as the flow type says (the
// configured one, or USER_INPUT_CODE for a second factor).
func (r *Recipe) send(ctx context.Context, tenantID string, c Contact, code *Code, flow FlowType) error {
	d := MessageData{TemplateData: emaildelivery.TemplateData{AppName: r.auth.AppInfo().AppName, ExpiresIn: r.cfg.CodeLifetime}}
	if flow.sendsCode() {
		d.Code = code.UserInputCode
	}
	if flow.sendsLink() {
		d.Link = r.MagicLink(ctx, tenantID, code.PreAuthSessionID, code.LinkCode)
	}
	if c.IsEmail() {
		d.Email = c.Email
		mail, err := r.renderEmail(d)
		if err != nil {
			return err
		}
		if r.cfg.EmailSender == nil {
			r.auth.Logger().InfoContext(ctx, "passwordless: e-mail not sent (no EmailSender configured)",
				"to", mail.To, "code", d.Code, "link", d.Link)
			return nil
		}
		return r.cfg.EmailSender.Send(ctx, mail)
	}
	d.PhoneNumber = c.PhoneNumber
	sms, err := r.renderSMS(d)
	if err != nil {
		return err
	}
	sender := r.cfg.SMSSender
	if sender == nil {
		sender = LogSMSSender(r.auth.Logger())
	}
	return sender.Send(ctx, sms)
}
