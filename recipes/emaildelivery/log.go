package emaildelivery

import (
	"context"
	"log/slog"
)

// LogSender returns a Sender that writes each e-mail's kind, recipient,
// subject and link to logger at Info level instead of sending it (a nil
// logger means slog.Default()). It is the development default, so that a
// demo works with no mail server: follow the logged link to verify an
// address or reset a password.
//
// The logged link is a live credential. Do not use LogSender in production.
func LogSender(logger *slog.Logger) Sender {
	if logger == nil {
		logger = slog.Default()
	}
	return SenderFunc(func(ctx context.Context, e Email) error {
		logger.InfoContext(ctx, "emaildelivery: e-mail not sent (LogSender)",
			"kind", e.Kind, "to", e.To, "subject", e.Subject, "link", e.Link)
		return nil
	})
}
