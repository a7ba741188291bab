// Package emaildelivery renders and sends the e-mails ginauth recipes send:
// e-mail verification, password reset and magic links.
//
// A recipe renders an e-mail with a Renderer (Templates, whose zero value
// holds decent defaults) and hands it to a Sender. Three senders come with
// the package:
//
//   - LogSender logs each e-mail's kind, recipient and link instead of
//     sending it: the development default, so that a demo needs no mail
//     server.
//   - SMTPSender delivers through an SMTP server with implicit TLS (port
//     465) or required STARTTLS, and AUTH PLAIN; it never sends credentials
//     or mail in the clear except to a loopback host.
//   - SenderFunc adapts any function, for a provider's HTTP API or a queue.
//
// # Quick start
//
//	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
//		Host:     "smtp.example.com", // port 587, STARTTLS required
//		Username: "apikey",
//		Password: os.Getenv("SMTP_PASSWORD"),
//		From:     "Todos <noreply@todos.example>",
//	})
//	if err != nil { ... }
//	ev := emailverification.New(emailverification.Config{
//		EmailSender: sender,
//		Templates: emaildelivery.Templates{
//			EmailVerification: emaildelivery.MustTemplate("Welcome to {{.AppName}}", "", ""),
//		},
//	})
//
// Templates use text/template for the subject and the text part and
// html/template for the HTML part, with TemplateData as their data; a nil
// part falls back to the default for its kind.
package emaildelivery
