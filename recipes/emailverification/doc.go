// Package emailverification is the e-mail verification recipe (recipe id
// "emailverification"), wire-compatible with SuperTokens' frontends: the
// pre-built UI's "verify your e-mail" screen and web-js's EmailVerification
// recipe work against it unmodified.
//
// It serves (FDI 3.3)
//
//	POST /auth/user/email/verify/token   send a verification link to the session's user
//	POST /auth/[<tenantId>/]user/email/verify   {"method":"token","token":...}: verify
//	GET  /auth/user/email/verify         {"isVerified":...}, refreshing the st-ev claim
//
// and keeps the st-ev claim (EmailVerificationClaim) in every session's
// access token. In ModeRequired (the default) its validator is global, so
// every ginauth.VerifySession answers 403 "invalid claim" for a user who
// has not verified their address; the frontend then shows its verification
// screen. In ModeOptional routes ask for it themselves with
// ginauth.RequireClaim(emailverification.IsVerified()).
//
// Verification links point to
// <websiteOrigin><websiteBasePath>/verify-email?token=...&tenantId=...
// (the origin of the request that asked for the e-mail, see
// ginauth.Auth.WebsiteOrigin), expire after Config.TokenLifetime (24 hours by default), work once, and
// are stored only as SHA-256 hashes. Verified addresses are kept per user
// in models.VerifiedEmail; the user's login methods show "verified": true.
// A user without an e-mail address counts as verified.
//
// # Quick start
//
//	sender, err := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
//		Host: "smtp.example.com", Username: "apikey", Password: os.Getenv("SMTP_PASSWORD"),
//		From: "Todos <noreply@todos.example>",
//	})
//	if err != nil { ... }
//	ev := emailverification.New(emailverification.Config{
//		Mode:        emailverification.ModeRequired,
//		EmailSender: sender, // default: log the link (development)
//	})
//	err = ginauth.Init(ginauth.Config{
//		DB: db, AppInfo: appInfo,
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), ev},
//	})
//
//	// Everything behind VerifySession now needs a verified address, except
//	// routes that opt out:
//	r.GET("/profile", ginauth.VerifySession(ginauth.VerifyOptions{
//		OverrideGlobalClaimValidators: func(global []claims.Validator, c *gin.Context) []claims.Validator { return nil },
//	}), profile)
//
// From Go, ev.SendVerificationEmail, ev.CreateVerificationToken,
// ev.VerifyUsingToken, ev.IsVerified, ev.MarkVerified and ev.MarkUnverified
// do what the routes do, for sign-up hooks, admin tools and imports.
package emailverification
