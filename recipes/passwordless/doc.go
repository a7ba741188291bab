// Package passwordless is ginauth's passwordless recipe: sign-in and
// sign-up with a one-time code or a magic link sent by e-mail or SMS,
// speaking SuperTokens' frontend protocol (rid "passwordless"), so the
// official frontend SDKs and pre-built UI work against it unmodified.
//
// # Quick start
//
//	db, _ := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	_ = models.AutoMigrate(db) // includes this recipe's tables
//
//	smtp, _ := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
//		Host: "smtp.example.com", Username: "apikey", Password: os.Getenv("SMTP_PASSWORD"),
//		From: "Todos <noreply@todos.example>",
//	})
//	pl := passwordless.New(passwordless.Config{
//		ContactMethod: passwordless.ContactEmailOrPhone,
//		FlowType:      passwordless.FlowUserInputCodeAndMagicLink,
//		EmailSender:   smtp,      // default: codes and links go to the log
//		SMSSender:     mySMSSender, // a passwordless.SMSSender over your provider
//	})
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: appInfo, Recipes: []ginauth.Recipe{pl}})
//	r := gin.New()
//	r.Use(ginauth.Middleware())
//
// On the frontend, initialise supertokens-web-js (or auth-react) with the
// Passwordless recipe and the same contactMethod.
//
// # Routes
//
// Under the API base path, each with an optional "/<tenantId>" prefix:
//
//	POST /signinup/code                     {email} or {phoneNumber}
//	     -> OK {deviceId, preAuthSessionId, flowType} | GENERAL_ERROR {message} | SIGN_IN_UP_NOT_ALLOWED {reason}
//	POST /signinup/code/resend              {deviceId, preAuthSessionId}
//	     -> OK | RESTART_FLOW_ERROR
//	POST /signinup/code/consume             {preAuthSessionId, linkCode} or {preAuthSessionId, deviceId, userInputCode}
//	     -> OK {createdNewRecipeUser, user} + session
//	      | INCORRECT_USER_INPUT_CODE_ERROR / EXPIRED_USER_INPUT_CODE_ERROR {failedCodeInputAttemptCount, maximumCodeInputAttempts}
//	      | RESTART_FLOW_ERROR | SIGN_IN_UP_NOT_ALLOWED {reason}
//	GET  /passwordless/email/exists         ?email=...        -> OK {exists}
//	GET  /passwordless/phonenumber/exists   ?phoneNumber=...  -> OK {exists}
//	GET  /signup/phonenumber/exists         deprecated alias of the row above
//
// The deprecated alias /signup/email/exists is also an emailpassword route.
// As in SuperTokens, the request's rid header picks the recipe
// ("passwordless" or "thirdpartypasswordless" for this one); without a rid
// that names one of them, the recipe listed first in Config.Recipes
// answers. Current frontends call /passwordless/email/exists, which is
// always this recipe's.
// Config.DisableExistsAPIs removes the exists routes, which tell anyone
// whether an address or number has an account.
//
// Malformed requests get 400 {"message": ...} saying what was wrong: both
// or neither of email and phoneNumber, a contact the ContactMethod does not
// accept, missing ids, a linkCode sent with a deviceId or userInputCode,
// wrong JSON types, bodies over Config.MaxBodyBytes. An e-mail address or
// phone number that fails validation is a GENERAL_ERROR with the
// validator's message, as SuperTokens answers, so the UI shows it.
//
// # Flow
//
// POST /signinup/code makes a device: a random 256-bit device id, returned
// to the client only, and a pre-auth session id derived from it. Each code
// sent to the device is a pair: a user input code (Config.CodeDigits
// digits, 6 by default) and a link code (256 random bits) carried by the
// magic link
//
//	<websiteOrigin><websiteBasePath>/verify?preAuthSessionId=...&tenantId=...#<linkCode>
//
// Config.FlowType decides which of the two a message carries; a resend
// adds another pair, and every pair stays valid until it expires
// (Config.CodeLifetime, 15 minutes by default). The user input code works
// only with the device id, i.e. in the browser that asked for it; the
// magic link works anywhere (the frontend reads the link code from the URL
// fragment, which is never sent to servers).
//
// A consumed code signs the contact in: the passwordless user of the
// contact in the tenant is returned, or created together with its core
// user in one transaction (the key of ginauth_login_tenants makes
// concurrent first sign-ins yield one user). The device, and every other outstanding device of the
// contact in the tenant, is revoked. The session carries the
// multi-factor auth factor the code proved: "otp-email", "link-email",
// "otp-phone" or "link-phone". The user's login method (recipeId
// "passwordless") is verified; with an emailverification recipe
// configured, a proven address is also marked verified there, so its st-ev
// claim agrees.
//
// E-mail addresses are trimmed and lower-cased (NormaliseEmail), as the
// emailpassword recipe does. Phone numbers lose spaces, dashes, dots and
// parentheses, a leading "00" becomes "+" (NormalisePhoneNumber), and the
// result must be E.164 ("+14155550123"; DefaultValidatePhoneNumber).
//
// # Codes at rest
//
// No code is stored in the clear, and neither is the device id:
//
//   - The device row is keyed by the pre-auth session id, the SHA-256 of
//     the device id.
//   - A user input code is stored as HMAC-SHA256 keyed with the device id.
//     A 6-digit code has only 10^6 values, so a plain SHA-256 of it (even
//     salted with a value kept in the same row) would be recovered by
//     anyone who can read the table, in well under a second. Keying the
//     HMAC with the device id, which never reaches the database, leaves
//     such an attacker nothing to test guesses against. The per-device
//     secret is therefore not "stored in the DB too": it lives only with
//     the client, which sends it back with the code.
//   - A link code has 256 random bits and is stored as its SHA-256, which
//     is as good as the code being unguessable.
//
// Had the key been in the database, the code's protection at rest would
// rest only on its lifetime: an attacker reading the table could recover
// a live 6-digit code offline and use it within the remaining minutes.
// Online, a user input code is protected by the attempt limit (below), the
// rate limits and its short lifetime: 5 guesses at 10^-6 each per device.
//
// # Single use, expiry and attempt limits
//
// Consuming runs in one transaction that starts by deleting the matching
// live code: of two concurrent consumes of one code, exactly one deletes
// the row and gets a session; the other gets RESTART_FLOW_ERROR. A wrong
// or expired user input code increments the device's counter with one
// UPDATE in the same kind of transaction; the attempt that reaches
// Config.MaxCodeInputAttempts (5) deletes the device and answers
// RESTART_FLOW_ERROR, so concurrent wrong guesses cannot exceed the limit.
// An expired code answers EXPIRED_USER_INPUT_CODE_ERROR (and counts as an
// attempt); an unknown or expired link code answers RESTART_FLOW_ERROR.
// Expired codes are swept as new ones are made; DeleteExpiredCodes does it
// on demand.
//
// # Rate limits
//
// Besides the per-device attempt limit, the ginauth rate limiter counts:
//
//   - sending a code (create or resend): ginauth.ActionSendCode,
//     per IP address and per contact (every sent message counts against the
//     contact, whose limit is 10 an hour by default), which bounds both mail
//     and SMS bombing and the number of devices an attacker can guess at;
//   - checking a code: ginauth.ActionCodeEntry per IP address, and, for user
//     input codes, wrong codes per contact across all its devices (5 per 15
//     minutes by default), so that restarting the flow does not buy fresh
//     guesses. A success clears the contact's count.
//
// Answers over a limit are 429 with Retry-After. Set the limits through
// ginauth.Config.RateLimit.
//
// # Customising
//
// Config.Hooks.BeforeSignInUp vetoes a sign-in (ginauth.NotAllowed gives
// SIGN_IN_UP_NOT_ALLOWED {reason}), before a code is sent and again after it
// is consumed; AfterSignInUp sees the user (and whether it is new) before
// the session starts; SessionPayload adds claims to it. Hooks never run
// inside a database transaction. Config.EmailTemplate and Config.SMSTemplate
// change the messages (they see MessageData), and Config.EmailSender /
// SMSSender deliver them your way.
//
// The Go API (CreateCode, ResendCode, ConsumeCode, SignInUp, CreateMagicLink,
// GetUserByEmail, GetUserByPhoneNumber, UpdateUser, RevokeAllCodes,
// DeleteExpiredCodes) is for an app's own flows and admin tools; it
// validates contacts but runs no hooks, sends nothing and is not
// rate-limited. UpdateUser changes a user's e-mail and/or phone number in
// one transaction with the rows sign-in and account linking read.
//
// # As a second factor
//
// A code created and consumed with shouldTryLinkingWithSessionUser: true
// and a session completes otp-email, otp-phone, link-email or link-phone
// in that session (st-mfa updated, same user and session handle, no new
// session), or sets the factor up on a contact nobody holds, storing it on
// the session user's login method; another user's contact is refused.
// With the flag, codes are sent without a link, in the session's tenant,
// and BeforeSignInUp runs only before the code is sent. See docs/mfa.md,
// "SMS or e-mail code as a second factor". ginauth links no accounts here:
// the flag false or absent is a sign-in.
package passwordless
