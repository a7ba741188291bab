package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
)

// adminRole is the role GET /admin asks for.
const adminRole = "admin"

// demoAuth holds the recipes the app talks to from its own routes.
type demoAuth struct {
	recipes  []ginauth.Recipe
	roles    *userroles.Recipe
	metadata *usermetadata.Recipe
}

// newDemoAuth builds the recipes: e-mail and password sign-in, optional
// e-mail verification, roles and user metadata.
func newDemoAuth(cfg config, log *slog.Logger) (*demoAuth, error) {
	// Mail: through SMTP when SMTP_HOST is set; otherwise nil, and the
	// recipes log each e-mail's link instead (emaildelivery.LogSender).
	var sender emaildelivery.Sender
	if cfg.SMTP.Host != "" {
		port, err := strconv.Atoi(cfg.SMTP.Port)
		if err != nil {
			return nil, fmt.Errorf("SMTP_PORT=%q: %w", cfg.SMTP.Port, err)
		}
		s, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
			Host: cfg.SMTP.Host, Port: port, Username: cfg.SMTP.User, Password: cfg.SMTP.Password, From: cfg.SMTP.From,
		})
		if err != nil {
			return nil, err
		}
		sender = s
	} else {
		log.Info("demo: no SMTP_HOST: e-mails are not sent, their links are logged")
	}

	d := &demoAuth{roles: userroles.New(), metadata: usermetadata.New()}
	adminEmails := emailSet(os.Getenv("ADMIN_EMAILS"))
	d.recipes = []ginauth.Recipe{
		emailpassword.New(emailpassword.Config{
			EmailSender: sender,
			Hooks: emailpassword.Hooks{
				// Runs after the account exists and before its first
				// session is made, so the session already carries the role.
				AfterSignUp: func(ctx context.Context, u *ginauth.User, _ map[string]any) error {
					if _, err := d.metadata.UpdateUserMetadata(ctx, u.ID, map[string]any{"signedUpFrom": "demo website"}); err != nil {
						return err
					}
					for _, e := range u.Emails {
						if adminEmails[strings.ToLower(e)] {
							log.Info("demo: ADMIN_EMAILS: giving the admin role", "userId", u.ID)
							tenant := ginauth.DefaultTenant
							if len(u.TenantIDs) > 0 {
								tenant = u.TenantIDs[0]
							}
							_, err := d.roles.AddRoleToUser(ctx, tenant, u.ID, adminRole)
							return err
						}
					}
					return nil
				},
			},
		}),
		// OPTIONAL: unverified users may use the app; routes that need a
		// verified address add RequireClaim(emailverification.IsVerified()).
		emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: sender}),
		d.roles,
		d.metadata,
	}
	return d, nil
}

// setUp creates what the app expects to exist once ginauth is running.
func (d *demoAuth) setUp(ctx context.Context) error {
	_, err := d.roles.CreateNewRoleOrAddPermissions(ctx, adminRole, []string{"admin:read"})
	return err
}

func emailSet(list string) map[string]bool {
	out := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			out[e] = true
		}
	}
	return out
}
