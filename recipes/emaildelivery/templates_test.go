package emaildelivery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/recipes/emaildelivery"
)

func TestDefaultTemplates(t *testing.T) {
	data := emaildelivery.TemplateData{AppName: "Todos <script>", Link: "https://app.example/auth/verify-email?token=a&tenantId=public",
		Email: "zoe@example.com", ExpiresIn: 24 * time.Hour}
	for _, kind := range []string{emaildelivery.KindEmailVerification, emaildelivery.KindPasswordReset, emaildelivery.KindMagicLink} {
		t.Run(kind, func(t *testing.T) {
			for name, r := range map[string]emaildelivery.Renderer{"zero": emaildelivery.Templates{}, "defaults": emaildelivery.DefaultTemplates()} {
				subject, text, html, err := r.Render(kind, data)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !strings.Contains(subject, "Todos <script>") {
					t.Errorf("%s: subject %q lacks the app name", name, subject)
				}
				for _, want := range []string{data.Link, data.Email, "24 hours"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s: text lacks %q:\n%s", name, want, text)
					}
				}
				if strings.Contains(html, "<script>") || !strings.Contains(html, "Todos &lt;script&gt;") {
					t.Errorf("%s: HTML does not escape the app name", name)
				}
				if !strings.Contains(html, `href="https://app.example/auth/verify-email?token=a&amp;tenantId=public"`) {
					t.Errorf("%s: HTML lacks the link:\n%s", name, html)
				}
			}
		})
	}
}

func TestTemplateOverrides(t *testing.T) {
	ts := emaildelivery.Templates{
		EmailVerification: emaildelivery.MustTemplate("Welcome to {{.AppName}}", "", ""),
		PasswordReset:     emaildelivery.MustTemplate("", "Reset: {{.Link}}", "<b>{{.Link}}</b>"),
		Other:             map[string]*emaildelivery.Template{"invite": emaildelivery.MustTemplate("Join {{.AppName}}", "Join: {{.Link}}", "")},
	}
	data := emaildelivery.TemplateData{AppName: "Todos", Link: "https://x.example/l?a=1&b=2", Email: "z@x.example"}

	subject, text, html, err := ts.Render(emaildelivery.KindEmailVerification, data)
	if err != nil || subject != "Welcome to Todos" || !strings.Contains(text, data.Link) || html == "" {
		t.Errorf("subject override: %q %q %d bytes of HTML, %v", subject, text, len(html), err)
	}
	subject, text, html, err = ts.Render(emaildelivery.KindPasswordReset, data)
	if err != nil || subject != "Reset your password for Todos" || text != "Reset: https://x.example/l?a=1&b=2" ||
		html != "<b>https://x.example/l?a=1&amp;b=2</b>" {
		t.Errorf("body override: %q %q %q, %v", subject, text, html, err)
	}
	subject, text, html, err = ts.Render("invite", data)
	if err != nil || subject != "Join Todos" || text != "Join: "+data.Link || html != "" {
		t.Errorf("other kind: %q %q %q, %v", subject, text, html, err)
	}
	if _, _, _, err := ts.Render("unknown", data); err == nil {
		t.Error("unknown kind rendered")
	}
	if _, _, _, err := (emaildelivery.Templates{Other: map[string]*emaildelivery.Template{"x": emaildelivery.MustTemplate("s", "", "")}}).Render("x", data); err == nil {
		t.Error("a custom kind without a text part rendered")
	}
	bad := emaildelivery.Templates{EmailVerification: emaildelivery.MustTemplate("Hi\n{{.Email}}", "", "")}
	if _, _, _, err := bad.Render(emaildelivery.KindEmailVerification, data); err == nil {
		t.Error("a subject with a line break rendered")
	}
	missing := emaildelivery.Templates{EmailVerification: emaildelivery.MustTemplate("{{.Nope}}", "", "")}
	if _, _, _, err := missing.Render(emaildelivery.KindEmailVerification, data); err == nil {
		t.Error("a template naming a missing field rendered")
	}
	if _, err := emaildelivery.NewTemplate("{{", "", ""); err == nil {
		t.Error("NewTemplate accepted a broken template")
	}
}

func TestCompose(t *testing.T) {
	e, err := emaildelivery.Compose(nil, emaildelivery.KindMagicLink, "z@x.example", emaildelivery.TemplateData{AppName: "Todos", Link: "https://x.example/m"})
	if err != nil {
		t.Fatal(err)
	}
	if e.To != "z@x.example" || e.Kind != emaildelivery.KindMagicLink || e.Link != "https://x.example/m" ||
		e.Subject != "Sign in to Todos" || !strings.Contains(e.Text, "as z@x.example") || e.HTML == "" {
		t.Errorf("Compose = %+v", e)
	}
}

func TestExpiresInText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", -time.Hour: "", 20 * time.Second: "", time.Minute: "1 minute", 15 * time.Minute: "15 minutes",
		time.Hour: "1 hour", 90 * time.Minute: "1 hour and 30 minutes", 24 * time.Hour: "24 hours",
		36 * time.Hour: "36 hours", 72 * time.Hour: "3 days", 7 * 24 * time.Hour: "7 days",
		25*time.Hour + time.Minute: "1 day and 1 hour and 1 minute",
	} {
		if got := (emaildelivery.TemplateData{ExpiresIn: d}).ExpiresInText(); got != want {
			t.Errorf("ExpiresInText(%s) = %q, want %q", d, got, want)
		}
	}
}
