package emaildelivery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/smtptest"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
)

var testEmail = emaildelivery.Email{
	To:      "Zoë Example <zoe@example.com>",
	Subject: "Vérifiez votre adresse ✓",
	Text:    "Hello Zoë,\n.leading dot line\n..two dots\nhttps://app.example.com/verify?token=abc&tenantId=public\n",
	HTML:    "<p>Hello Zoë,</p>\n<p><a href=\"https://app.example.com/verify?token=abc\">verify</a></p>\n",
	Kind:    emaildelivery.KindEmailVerification,
	Link:    "https://app.example.com/verify?token=abc&tenantId=public",
}

func newSender(t *testing.T, srv *smtptest.Server, mod func(*emaildelivery.SMTPConfig)) *emaildelivery.SMTPSender {
	t.Helper()
	cfg := emaildelivery.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), From: "Todos <noreply@todos.example>",
		Username: "user", Password: "secret", TLSConfig: srv.ClientTLSConfig(), Timeout: 10 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := emaildelivery.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkDelivered(t *testing.T, m smtptest.Message, wantUser string) {
	t.Helper()
	if m.ParseError != nil {
		t.Fatalf("message does not parse: %v\n%s", m.ParseError, m.Data)
	}
	if !m.TLS {
		t.Error("mail was not sent over TLS")
	}
	if m.AuthUser != wantUser {
		t.Errorf("AuthUser = %q, want %q", m.AuthUser, wantUser)
	}
	if m.From != "noreply@todos.example" || len(m.To) != 1 || m.To[0] != "zoe@example.com" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if m.Subject != testEmail.Subject {
		t.Errorf("Subject = %q, want %q", m.Subject, testEmail.Subject)
	}
	if raw := m.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not a Q-encoded word", raw)
	}
	if m.Text != testEmail.Text {
		t.Errorf("Text = %q, want %q", m.Text, testEmail.Text)
	}
	if m.HTML != testEmail.HTML {
		t.Errorf("HTML = %q, want %q", m.HTML, testEmail.HTML)
	}
	for _, h := range []string{"Date", "Message-Id", "Mime-Version", "From", "To"} {
		if m.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasSuffix(id, "@todos.example>") {
		t.Errorf("Message-ID = %q", id)
	}
	if links := m.Links(); len(links) != 1 || links[0] != testEmail.Link {
		t.Errorf("Links = %q", links)
	}
}

func TestSMTPStartTLSWithAuth(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Username: "user", Password: "secret"})
	for _, mode := range []emaildelivery.TLSMode{emaildelivery.TLSAuto, emaildelivery.TLSStartTLS} {
		t.Run(mode.String(), func(t *testing.T) {
			s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.TLS = mode })
			if err := s.Send(context.Background(), testEmail); err != nil {
				t.Fatal(err)
			}
			checkDelivered(t, srv.WaitForMessage(t, 5*time.Second), "user")
		})
	}
	var sawStartTLS bool
	for _, c := range srv.Commands() {
		switch c.Verb {
		case "STARTTLS":
			sawStartTLS = true
		case "AUTH", "MAIL", "RCPT", "DATA":
			if !c.TLS {
				t.Errorf("%s sent in the clear", c.Verb)
			}
		}
		if strings.Contains(c.Line, "secret") {
			t.Errorf("password visible in command log: %q", c.Line)
		}
	}
	if !sawStartTLS {
		t.Error("no STARTTLS")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{ImplicitTLS: true, Username: "user", Password: "secret"})
	s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.TLS = emaildelivery.TLSImplicit })
	if err := s.Send(context.Background(), testEmail); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, srv.WaitForMessage(t, 5*time.Second), "user")
	for _, c := range srv.Commands() {
		if !c.TLS {
			t.Errorf("%q sent in the clear", c.Line)
		}
	}
}

func TestSMTPNoAuthNeeded(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.Username, c.Password = "", "" })
	if err := s.Send(context.Background(), testEmail); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, srv.WaitForMessage(t, 5*time.Second), "")
}

func TestSMTPTextOnly(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, nil)
	e := testEmail
	e.HTML = ""
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitForMessage(t, 5*time.Second)
	if m.Text != e.Text || m.HTML != "" || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("text-only mail: Content-Type %q, Text %q, HTML %q", m.Header.Get("Content-Type"), m.Text, m.HTML)
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Run("server down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		s, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{Host: "127.0.0.1", Port: port, From: "a@b.example", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), testEmail); !errors.Is(err, emaildelivery.ErrSMTP) {
			t.Fatalf("err = %v, want ErrSMTP", err)
		}
	})
	t.Run("auth rejected", func(t *testing.T) {
		srv := smtptest.StartWith(t, smtptest.Options{Username: "user", Password: "secret"})
		s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.Password = "wrong" })
		err := s.Send(context.Background(), testEmail)
		if !errors.Is(err, emaildelivery.ErrSMTP) || !strings.Contains(err.Error(), "535") {
			t.Fatalf("err = %v, want ErrSMTP with 535", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error shows the password: %v", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
	})
	t.Run("no STARTTLS offered", func(t *testing.T) {
		srv := smtptest.StartWith(t, smtptest.Options{NoSTARTTLS: true})
		s := newSender(t, srv, nil)
		if err := s.Send(context.Background(), testEmail); !errors.Is(err, emaildelivery.ErrNoSTARTTLS) {
			t.Fatalf("err = %v, want ErrNoSTARTTLS", err)
		}
		for _, c := range srv.Commands() {
			if c.Verb != "EHLO" && c.Verb != "QUIT" {
				t.Errorf("command %q reached a server without TLS", c.Line)
			}
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := smtptest.Start(t)
		s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.TLSConfig = nil })
		if err := s.Send(context.Background(), testEmail); !errors.Is(err, emaildelivery.ErrSMTP) {
			t.Fatalf("err = %v, want ErrSMTP", err)
		}
		for _, c := range srv.Commands() {
			if c.Verb == "AUTH" || c.Verb == "MAIL" {
				t.Errorf("%s sent to an untrusted server", c.Verb)
			}
		}
	})
	t.Run("server silent: timeout", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				defer c.Close()
				time.Sleep(3 * time.Second)
			}
		}()
		s, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			From: "a@b.example", Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Send(context.Background(), testEmail); !errors.Is(err, emaildelivery.ErrSMTP) {
			t.Fatalf("err = %v, want ErrSMTP", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Send took %s with a 200ms timeout", took)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		srv := smtptest.Start(t)
		s := newSender(t, srv, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Send(ctx, testEmail); err == nil {
			t.Fatal("Send with a cancelled context succeeded")
		}
	})
}

func TestSMTPNoneOnLoopback(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{NoSTARTTLS: true, Username: "user", Password: "secret"})
	s := newSender(t, srv, func(c *emaildelivery.SMTPConfig) { c.TLS = emaildelivery.TLSNone; c.TLSConfig = nil })
	if err := s.Send(context.Background(), testEmail); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitForMessage(t, 5*time.Second); m.TLS || m.AuthUser != "user" || m.Text != testEmail.Text {
		t.Errorf("got %v", m)
	}
}

func TestSMTPRefusesBadEmails(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, nil)
	for name, mod := range map[string]func(*emaildelivery.Email){
		"header injection in To":      func(e *emaildelivery.Email) { e.To = "a@b.example\r\nBcc: evil@x.example" },
		"smtp injection in To":        func(e *emaildelivery.Email) { e.To = "a@b.example>\r\nRCPT TO:<evil@x.example" },
		"line break in Subject":       func(e *emaildelivery.Email) { e.Subject = "hi\r\nBcc: evil@x.example" },
		"not an address":              func(e *emaildelivery.Email) { e.To = "nobody" },
		"no body":                     func(e *emaildelivery.Email) { e.Text, e.HTML = "", "" },
		"two recipients in one field": func(e *emaildelivery.Email) { e.To = "a@b.example, c@d.example" },
	} {
		t.Run(name, func(t *testing.T) {
			e := testEmail
			mod(&e)
			if err := s.Send(context.Background(), e); !errors.Is(err, emaildelivery.ErrInvalidEmail) {
				t.Fatalf("err = %v, want ErrInvalidEmail", err)
			}
		})
	}
	if n := len(srv.Commands()); n != 0 {
		t.Errorf("the server saw %d commands for refused e-mails", n)
	}
}

func TestNewSMTPSenderValidates(t *testing.T) {
	cases := map[string]emaildelivery.SMTPConfig{
		"no host":               {From: "a@b.example"},
		"no from":               {Host: "smtp.example.com"},
		"bad from":              {Host: "smtp.example.com", From: "not an address"},
		"clear text to remote":  {Host: "smtp.example.com", From: "a@b.example", TLS: emaildelivery.TLSNone},
		"bad port":              {Host: "smtp.example.com", From: "a@b.example", Port: 70000},
		"password without user": {Host: "smtp.example.com", From: "a@b.example", Password: "x"},
		"unknown TLS mode":      {Host: "smtp.example.com", From: "a@b.example", TLS: 42},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := emaildelivery.NewSMTPSender(cfg); !errors.Is(err, emaildelivery.ErrSMTPConfig) {
				t.Fatalf("err = %v, want ErrSMTPConfig", err)
			}
		})
	}
	defaults := []struct {
		cfg      emaildelivery.SMTPConfig
		port     int
		tlsMode  emaildelivery.TLSMode
		describe string
	}{
		{emaildelivery.SMTPConfig{Host: "smtp.example.com", From: "a@b.example"}, 587, emaildelivery.TLSStartTLS, "auto"},
		{emaildelivery.SMTPConfig{Host: "smtp.example.com", From: "a@b.example", Port: 465}, 465, emaildelivery.TLSImplicit, "auto on 465"},
		{emaildelivery.SMTPConfig{Host: "smtp.example.com", From: "a@b.example", TLS: emaildelivery.TLSImplicit}, 465, emaildelivery.TLSImplicit, "implicit"},
		{emaildelivery.SMTPConfig{Host: "localhost", From: "a@b.example", TLS: emaildelivery.TLSNone, Port: 1025}, 1025, emaildelivery.TLSNone, "none on localhost"},
	}
	for _, d := range defaults {
		s, err := emaildelivery.NewSMTPSender(d.cfg)
		if err != nil {
			t.Fatalf("%s: %v", d.describe, err)
		}
		if got := s.Config(); got.Port != d.port || got.TLS != d.tlsMode || got.Timeout != 30*time.Second {
			t.Errorf("%s: port %d tls %s timeout %s", d.describe, got.Port, got.TLS, got.Timeout)
		}
	}
}

func TestSMTPConfigRedactsPassword(t *testing.T) {
	cfg := emaildelivery.SMTPConfig{Host: "smtp.example.com", Username: "user", Password: "hunter2", From: "a@b.example"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "smtp", cfg)
	for name, s := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", cfg), "slog": logged.String(),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s shows the password: %s", name, s)
		}
		if !strings.Contains(s, "smtp.example.com") {
			t.Errorf("%s hides the host: %s", name, s)
		}
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := emaildelivery.LogSender(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := s.Send(context.Background(), testEmail); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=INFO", "kind=email-verification", "zoe@example.com", "link=" + `"` + testEmail.Link + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
}
