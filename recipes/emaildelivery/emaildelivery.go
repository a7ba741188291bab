package emaildelivery

import "context"

// Email is one message to deliver.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// Kind names what the e-mail is for ("email-verification",
	// "password-reset", ...), for senders that route or log by kind.
	Kind string
	// Link is the action link inside the message, when there is one.
	Link string
}

// Sender delivers e-mail. Apps replace it to send mail their own way.
type Sender interface {
	Send(ctx context.Context, e Email) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, e Email) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, e Email) error { return f(ctx, e) }
