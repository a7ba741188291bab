// Package emailpassword is ginauth's e-mail and password recipe: sign-up,
// sign-in, "does this e-mail have an account" and password reset by e-mail,
// speaking SuperTokens' frontend protocol (rid "emailpassword"), so the
// official frontend SDKs and pre-built UI work against it unmodified.
//
// # Quick start
//
//	db, _ := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	_ = models.AutoMigrate(db) // includes this recipe's tables
//
//	ep := emailpassword.New(emailpassword.Config{
//		SignUpFields: []emailpassword.FormField{{ID: "name"}},
//		EmailSender:  smtpSender, // default: reset links go to the log
//	})
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: appInfo, Recipes: []ginauth.Recipe{ep}})
//	r := gin.New()
//	r.Use(ginauth.Middleware())
//
// The routes, under the API base path and with an optional tenant prefix:
//
//	POST /signup                       {formFields:[email, password, custom...]}
//	POST /signin                       {formFields:[email, password]}
//	GET  /emailpassword/email/exists   ?email=...  (also /signup/email/exists)
//	POST /user/password/reset/token    {formFields:[email]}
//	POST /user/password/reset          {method:"token", token, formFields:[password]}
//
// Business outcomes are HTTP 200 with a status: OK, FIELD_ERROR (with
// SuperTokens' default messages), WRONG_CREDENTIALS_ERROR,
// SIGN_UP_NOT_ALLOWED / SIGN_IN_NOT_ALLOWED (a hook said no),
// RESET_PASSWORD_INVALID_TOKEN_ERROR and GENERAL_ERROR. Malformed requests
// (bad JSON, wrong types, unknown or missing formFields, bodies over
// Config.MaxBodyBytes, invalid UTF-8) get a 4xx {"message": ...} and change
// nothing.
//
// # E-mail addresses
//
// Addresses are trimmed and lower-cased as a whole (NormaliseEmail) before
// they are validated, stored or looked up, so "Ann@Example.com" and
// "ann@example.com" are one account. An address is unique per tenant.
//
// # Passwords
//
// Passwords are hashed with argon2id, by default at the OWASP minimum
// (m=19456 KiB, t=2, p=1), and stored as PHC strings. Hashes made with other
// parameters, and bcrypt hashes imported from another system, verify and are
// replaced at the next successful sign-in. At most Config.MaxConcurrentHashes
// hashes run at once, so memory stays bounded under load. Signing in with an
// unknown e-mail costs the same hash as a wrong password, and a reset
// request answers OK whether or not the address has an account (its e-mail
// is sent in the background), so neither flow reveals which addresses are
// registered. Config.BlockCommonPasswords refuses passwords found on an
// embedded list of common ones.
//
// # Password reset
//
// A reset token has 256 random bits and is stored only as its SHA-256. It
// works once, for Config.ResetTokenValidity (one hour by default), in the
// tenant that issued it, and only while the account keeps the address it
// was sent to. Using it sets the new password and revokes every session of
// the user.
//
// # Customising
//
// Config.Hooks veto sign-ups and sign-ins (ginauth.NotAllowed), see custom
// sign-up fields, and add claims to the session created. The Go API
// (SignUp, SignIn, GetUserByEmail, CreateResetPasswordToken,
// ResetPasswordUsingToken, UpdateEmailOrPassword) is for an app's own
// admin tools and flows; it validates input but runs no hooks.
package emailpassword
