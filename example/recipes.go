package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/accountlinking"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/passwordless"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/totp"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

// adminRole is the role GET /admin asks for.
const adminRole = "admin"

// demoAuth holds the recipes the app talks to from its own routes.
type demoAuth struct {
	recipes  []ginauth.Recipe
	password *emailpassword.Recipe
	roles    *userroles.Recipe
	metadata *usermetadata.Recipe
	// thirdParty is nil when no social provider is configured; totp is nil
	// without a TOTP key (and then there is no MFA either).
	thirdParty *thirdparty.Recipe
	totp       *totp.Recipe
	// dashboard is nil without DASHBOARD_API_KEY.
	dashboard *dashboard.Recipe

	adminEmails map[string]bool
	log         *slog.Logger
}

// newDemoAuth builds the recipes: e-mail and password sign-in, social
// sign-in (when providers are given), optional e-mail verification, opt-in
// TOTP two-factor auth (when there is a key), roles and user metadata.
func newDemoAuth(cfg config, log *slog.Logger, providers []thirdparty.Provider) (*demoAuth, error) {
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

	d := &demoAuth{roles: userroles.New(), metadata: usermetadata.New(),
		adminEmails: emailSet(os.Getenv("ADMIN_EMAILS")), log: log}
	// OPTIONAL: unverified users may use the app; routes that need a
	// verified address add RequireClaim(emailverification.IsVerified()).
	ev := emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: sender})
	d.password = emailpassword.New(emailpassword.Config{
		EmailSender: sender,
		Hooks: emailpassword.Hooks{
			// Runs after the account exists and before its first
			// session is made, so the session already carries the role.
			AfterSignUp: func(ctx context.Context, u *ginauth.User, _ map[string]any) error {
				return d.afterSignUp(ctx, u, "demo website", true)
			},
		},
	})
	d.recipes = []ginauth.Recipe{d.password}
	if len(providers) > 0 {
		d.thirdParty = thirdparty.New(thirdparty.Config{
			Providers: providers,
			// The provider vouched for the address: no verification e-mail needed.
			OnVerifiedEmail: ev.MarkVerified,
			Hooks: thirdparty.Hooks{
				AfterSignInUp: func(ctx context.Context, res thirdparty.SignInUpResult) error {
					if !res.CreatedNewRecipeUser {
						return nil
					}
					// ADMIN_EMAILS counts only addresses the provider verified.
					return d.afterSignUp(ctx, res.User, "demo website ("+res.ThirdPartyID+")", res.UserInfo.EmailVerified)
				},
			},
		})
		d.recipes = append(d.recipes, d.thirdParty)
	}
	d.recipes = append(d.recipes, ev)
	// Account linking: signing in with a provider (or a code) on an address
	// an account already has, verified on both sides, lands in that account.
	d.recipes = append(d.recipes, accountlinking.New(accountlinking.Config{
		ShouldDoAutomaticAccountLinking: func(context.Context, accountlinking.AccountInfo, *ginauth.User, *ginauth.Session, string) (accountlinking.Decision, error) {
			return accountlinking.Decision{Link: true, RequireVerification: true}, nil
		},
	}))
	if len(cfg.TOTPKey) > 0 {
		if cfg.TOTPDevKey {
			log.Warn("demo: no TOTP_SECRET_KEY: DEMO_DEV_ROUTES=1 uses a fixed, public development key for TOTP secrets; never in production")
		}
		d.totp = totp.New(totp.Config{SecretKey: cfg.TOTPKey})
		// Codes by e-mail or text message, as second factors only (see
		// FirstFactors below); without SMTP the e-mails are logged, and
		// text messages always are (passwordless.LogSMSSender).
		codes := passwordless.New(passwordless.Config{ContactMethod: passwordless.ContactEmailOrPhone,
			FlowType: passwordless.FlowUserInputCode, EmailSender: sender})
		d.recipes = append(d.recipes,
			// Opt-in 2FA: only users who have set TOTP, or an e-mail or
			// SMS code, up must complete it after signing in; everyone
			// else signs in as before.
			multifactorauth.New(multifactorauth.Config{RequireSetUpFactors: true,
				RequiredSecondaryFactors: codes.RequiredSecondaryFactors,
				// Codes complete a sign-in, they do not start one.
				FirstFactors: []string{multifactorauth.FactorEmailPassword, multifactorauth.FactorThirdParty, multifactorauth.FactorWebAuthn}}),
			codes,
			d.totp) // after multifactorauth, which it registers its factor with
	} else {
		log.Info("demo: no TOTP_SECRET_KEY: two-factor auth (TOTP) is off")
	}
	// Passkeys, to sign up and in (and, with TOTP's multifactorauth above,
	// as a factor it registers); recovery links go through the same sender.
	d.recipes = append(d.recipes, webauthn.New(webauthn.Config{EmailSender: sender}))
	d.recipes = append(d.recipes, d.roles, d.metadata)
	if cfg.DashboardAPIKey != "" {
		// After the recipes it shows (roles, metadata, verification).
		d.dashboard = dashboard.New(dashboard.Config{APIKeys: []string{cfg.DashboardAPIKey}})
		d.recipes = append(d.recipes, d.dashboard)
	} else {
		log.Info("demo: no DASHBOARD_API_KEY: the user-management dashboard is off")
	}
	return d, nil
}

// afterSignUp runs once per new account, before its first session: it
// records where the user came from and, for ADMIN_EMAILS (when the address
// can be trusted), gives the admin role, so the session carries it.
func (d *demoAuth) afterSignUp(ctx context.Context, u *ginauth.User, from string, emailTrusted bool) error {
	if _, err := d.metadata.UpdateUserMetadata(ctx, u.ID, map[string]any{"signedUpFrom": from}); err != nil {
		return err
	}
	if !emailTrusted {
		return nil
	}
	for _, e := range u.Emails {
		if d.adminEmails[strings.ToLower(e)] {
			d.log.Info("demo: ADMIN_EMAILS: giving the admin role", "userId", u.ID)
			tenant := ginauth.DefaultTenant
			if len(u.TenantIDs) > 0 {
				tenant = u.TenantIDs[0]
			}
			_, err := d.roles.AddRoleToUser(ctx, tenant, u.ID, adminRole)
			return err
		}
	}
	return nil
}

// setUp creates what the app expects to exist once ginauth is running.
func (d *demoAuth) setUp(ctx context.Context, apiDomain string) error {
	_, err := d.roles.CreateNewRoleOrAddPermissions(ctx, adminRole, []string{"admin:read"})
	if err == nil && d.dashboard != nil {
		d.log.Info("demo: dashboard on, sign in with DASHBOARD_API_KEY", "url", apiDomain+d.dashboard.Path())
	}
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
