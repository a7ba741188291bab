// Package totp is the TOTP recipe: time-based one-time passwords (RFC 6238)
// from authenticator apps as a second factor, wire-compatible with
// SuperTokens' frontend SDKs (FDI 1.19+, rid "totp").
//
// Codes are computed with the standard library (HMAC-SHA1 by default,
// SHA256 and SHA512 optional; 6 to 8 digits; 30-second steps; one step of
// clock skew each side). Each code is accepted once: a device remembers the
// last time step it used, and older or equal steps are refused. Wrong codes
// count per user and tenant (5 in a row by default) and then lock the user
// out until 15 minutes after the last; the count is a lockout rule of the
// core rate limiter (ginauth.Auth.ReserveLockout), kept in the database,
// so it holds across processes and concurrent guesses. Device secrets are sealed with
// AES-256-GCM under Config.SecretKey, which the app keeps outside the
// database; they are never stored in the clear.
//
// # Routes (under the API base path, session required)
//
//	POST /totp/device         {deviceName?}          OK {deviceName, secret, qrCodeString} | DEVICE_ALREADY_EXISTS_ERROR
//	GET  /totp/device/list                           OK {devices: [{name, period, skew, verified}]}
//	POST /totp/device/remove  {deviceName}           OK {didDeviceExist}
//	POST /totp/device/verify  {deviceName, totp}     OK {wasAlreadyVerified} | UNKNOWN_DEVICE_ERROR | INVALID_TOTP_ERROR | LIMIT_REACHED_ERROR
//	POST /totp/verify         {totp}                 OK | INVALID_TOTP_ERROR | LIMIT_REACHED_ERROR | UNKNOWN_USER_ID_ERROR
//
// The global claim validators are not run on these routes (as in
// SuperTokens), so neither the st-mfa claim nor an app's own second-factor
// claim locks the user out of the routes that complete it. With the
// multifactorauth recipe configured, a successful verification marks the
// "totp" factor completed in the current session (a new access token and
// front-token go out on the same response), enrolling is allowed only as
// multifactorauth.Recipe.AssertAllowedToSetUp says, and removing a verified
// device needs a session that meets its MFA requirements.
//
// Devices are named as the SuperTokens core names them: without a
// deviceName, "TOTP Device <n>" with n from the count of verified devices;
// a name held by an unverified device replaces it (a new secret), one held
// by a verified device is DEVICE_ALREADY_EXISTS_ERROR. Verifying a device
// verified already answers wasAlreadyVerified true without checking the code
// (and completes nothing). Every route but the list is sensitive
// (ginauth.Route.Sensitive): a revoked session is refused at once, and a
// refused request writes nothing.
//
// # Quick start
//
//	key, _ := base64.StdEncoding.DecodeString(os.Getenv("TOTP_KEY")) // 32 bytes
//	err := ginauth.Init(ginauth.Config{
//		DB:      db,
//		AppInfo: appInfo,
//		Recipes: []ginauth.Recipe{
//			emailpassword.New(emailpassword.Config{}),
//			multifactorauth.New(multifactorauth.Config{RequireFactors: []string{multifactorauth.FactorTOTP}}),
//			totp.New(totp.Config{SecretKey: key}),
//		},
//	})
//
// See docs/mfa.md for the whole guide, including SuperTokens' documented
// "2fa-completed" BooleanClaim pattern written with Config.AfterVerify.
package totp
