// Package everyrecipe builds the recipes of an app with every built-in
// recipe, for the suites that check the whole API surface (tests/compat,
// tests/docs, tests/security).
package everyrecipe

import (
	"context"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/emaildelivery"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/emailverification"
	"github.com/ginauth/ginauth/recipes/multifactorauth"
	"github.com/ginauth/ginauth/recipes/multitenancy"
	"github.com/ginauth/ginauth/recipes/passwordless"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/totp"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
	"github.com/ginauth/ginauth/recipes/webauthn"
)

// LowArgon2 keeps password hashing cheap where its cost does not matter
// (the recipe accepts it with a warning in the log).
var LowArgon2 = emailpassword.Argon2Params{Memory: 256, Iterations: 1, Parallelism: 1}

// DashboardKey is the dashboard's API key unless Options sets another.
const DashboardKey = "everyrecipe-test-dashboard-key-0123456789"

// Options are what the suites' apps differ in; the zero value is usable.
type Options struct {
	// Mail sends every recipe's e-mail. Default: dropped.
	Mail emaildelivery.Sender
	// SMS sends passwordless text messages. Default: dropped.
	SMS passwordless.SMSSender
	// Providers are thirdparty's. Default: Google with a made-up client.
	Providers []thirdparty.Provider
	// DashboardKey is the dashboard's API key. Default: DashboardKey.
	DashboardKey string
	// TOTPKey seals TOTP secrets. Default: a fixed test key.
	TOTPKey []byte
	// PasswordlessFirst puts passwordless before emailpassword in All
	// (the order decides who answers the routes both have).
	PasswordlessFirst bool
}

// Recipes are every built-in recipe, in All in the order ginauth.Config
// takes them, with the ones the suites reach into by name.
type Recipes struct {
	EmailPassword *emailpassword.Recipe
	Passwordless  *passwordless.Recipe
	TOTP          *totp.Recipe
	Multitenancy  *multitenancy.Recipe
	All           []ginauth.Recipe
}

type discard struct{}

func (discard) Send(context.Context, emaildelivery.Email) error { return nil }

type discardSMS struct{}

func (discardSMS) Send(context.Context, passwordless.SMS) error { return nil }

// New returns a fresh set of every built-in recipe.
func New(o Options) Recipes {
	if o.Mail == nil {
		o.Mail = discard{}
	}
	if o.SMS == nil {
		o.SMS = discardSMS{}
	}
	if o.Providers == nil {
		o.Providers = []thirdparty.Provider{thirdparty.Google(thirdparty.Client{ClientID: "id", ClientSecret: "secret"})}
	}
	if o.DashboardKey == "" {
		o.DashboardKey = DashboardKey
	}
	if o.TOTPKey == nil {
		o.TOTPKey = []byte("everyrecipe-test-totp-sealing-k!") // 32 bytes
	}
	r := Recipes{
		EmailPassword: emailpassword.New(emailpassword.Config{Argon2: LowArgon2, EmailSender: o.Mail}),
		Passwordless: passwordless.New(passwordless.Config{ContactMethod: passwordless.ContactEmailOrPhone,
			EmailSender: o.Mail, SMSSender: o.SMS}),
		TOTP:         totp.New(totp.Config{SecretKey: o.TOTPKey}),
		Multitenancy: multitenancy.New(),
	}
	r.All = []ginauth.Recipe{r.EmailPassword, r.Passwordless}
	if o.PasswordlessFirst {
		r.All = []ginauth.Recipe{r.Passwordless, r.EmailPassword}
	}
	r.All = append(r.All,
		thirdparty.New(thirdparty.Config{Providers: o.Providers}),
		emailverification.New(emailverification.Config{Mode: emailverification.ModeOptional, EmailSender: o.Mail}),
		multifactorauth.New(),
		r.TOTP,
		webauthn.New(webauthn.Config{EmailSender: o.Mail}),
		r.Multitenancy,
		usermetadata.New(),
		userroles.New(),
		dashboard.New(dashboard.Config{APIKeys: []string{o.DashboardKey}}),
	)
	return r
}
