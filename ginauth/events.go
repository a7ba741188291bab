package ginauth

import (
	"context"
	"log/slog"
)

// EventType names a kind of security event; the values are what logs and
// OnEvent hooks have always seen.
type EventType string

// Security event types.
const (
	EventSignIn          EventType = "signin"
	EventSignInFailed    EventType = "signin-failed"
	EventSignUp          EventType = "signup"
	EventTokenTheft      EventType = "token-theft"
	EventPasswordChanged EventType = "password-changed"
	EventPasswordReset   EventType = "password-reset"
	EventSessionsRevoked EventType = "sessions-revoked"
	EventLockout         EventType = "lockout"
	EventSignOut         EventType = "signout"
	// EventFactorFailed is a wrong second-factor code (TOTP, recovery
	// code).
	EventFactorFailed EventType = "factor-failed"
	// EventCredentialCloned is a passkey sign-in refused because the
	// authenticator's signature counter did not increase: two copies of
	// its private key are in use (recipes/webauthn).
	EventCredentialCloned EventType = "credential-cloned"
)

// Event is a security-relevant thing that happened, for auditing. It never
// carries a password, token or code.
type Event struct {
	Type          EventType
	UserID        string
	SessionHandle string
	// Action is the rate-limited action, for EventLockout.
	Action Action
	// Account is the e-mail address or other identifier tried, when there
	// is no user id (a failed sign-in, a lockout).
	Account string
	IP      string
	// Detail is a short free-text explanation.
	Detail string
}

// LogValue lets slog print an Event as a group.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", string(e.Type))}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("userId", e.UserID)
	add("sessionHandle", e.SessionHandle)
	add("action", string(e.Action))
	add("account", e.Account)
	add("ip", e.IP)
	add("detail", e.Detail)
	return slog.GroupValue(attrs...)
}

// emit records a security event (kit.Kit.Emit): it is logged at Info
// (Warn for theft and lockouts) through the configured logger and handed
// to Hooks.OnEvent.
func (a *Auth) emit(ctx context.Context, e Event) {
	level := slog.LevelInfo
	if e.Type == EventTokenTheft || e.Type == EventLockout {
		level = slog.LevelWarn
	}
	a.log.Log(ctx, level, "ginauth: security event", "event", e)
	if h := a.cfg.Hooks.OnEvent; h != nil {
		h(ctx, e)
	}
}
