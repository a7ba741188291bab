package emaildelivery_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/recipes/emaildelivery"
)

// The default verification e-mail for a link.
func ExampleTemplates_Render() {
	subject, text, _, err := emaildelivery.Templates{}.Render(emaildelivery.KindEmailVerification, emaildelivery.TemplateData{
		AppName:   "Todos",
		Link:      "https://todos.example/auth/verify-email?token=XYZ&tenantId=public",
		Email:     "zoe@example.com",
		ExpiresIn: 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("Subject:", subject)
	fmt.Print(text)
	// Output:
	// Subject: Verify your e-mail address for Todos
	// Hello,
	//
	// Please confirm that zoe@example.com is your e-mail address for Todos by opening this link:
	//
	// https://todos.example/auth/verify-email?token=XYZ&tenantId=public
	//
	// The link expires in 24 hours.
	//
	// If you did not ask for this, you can ignore this e-mail.
}

// Overriding one part of one kind: the subject of the verification e-mail.
// The text and HTML parts stay the defaults.
func ExampleTemplates_override() {
	ts := emaildelivery.Templates{
		EmailVerification: emaildelivery.MustTemplate("{{.AppName}}: one more step", "", ""),
	}
	subject, _, _, _ := ts.Render(emaildelivery.KindEmailVerification, emaildelivery.TemplateData{AppName: "Todos"})
	fmt.Println(subject)
	// Output: Todos: one more step
}

// A Sender of one's own: here, one that hands mail to a queue.
func ExampleSenderFunc() {
	queue := make(chan emaildelivery.Email, 1)
	var s emaildelivery.Sender = emaildelivery.SenderFunc(func(ctx context.Context, e emaildelivery.Email) error {
		select {
		case queue <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	_ = s.Send(context.Background(), emaildelivery.Email{To: "zoe@example.com", Kind: emaildelivery.KindPasswordReset})
	fmt.Println((<-queue).Kind)
	// Output: password-reset
}

func ExampleNewSMTPSender() {
	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
		Host:     "smtp.example.com", // port 587, STARTTLS required
		Username: "apikey",
		Password: "secret",
		From:     "Todos <noreply@todos.example>",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sender.Config())
	// Output: SMTPConfig{Host:smtp.example.com Port:587 Username:apikey Password:[redacted] From:Todos <noreply@todos.example> TLS:starttls Timeout:30s}
}
