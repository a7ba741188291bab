// Package multifactorauth is the MFA recipe: the st-mfa session claim, the
// registry of factors, PUT /mfa/info, and recovery codes, wire-compatible
// with SuperTokens' frontend SDKs (rid "multifactorauth").
//
// Every new session carries
//
//	"st-mfa": {"c": {"emailpassword": 1767322000}, "v": false}
//
// where c maps the factors completed in the session (the first one is
// NewSession.Factor, set by the sign-in recipe) to when, in seconds, and v
// says whether they meet the user's requirements. The requirements are,
// as in SuperTokens, "one of" the required secondary factors: the union of
// Config.RequireFactors, Config.RequiredSecondaryFactors(user) and, with
// Config.RequireSetUpFactors, the secondary factors the user has set up;
// Config.Requirements replaces the rule outright. The recipe adds
// IsSatisfied as a global validator, so protected routes answer 403
// "invalid claim" until v is true; the frontend then calls PUT /mfa/info
// and shows the factor screens.
//
// A second-factor recipe (totp) calls Recipe.MarkFactorCompleted after a
// good code: the current session is upgraded in place, with a new access
// token and front-token on the same response, and no new sign-in.
//
// # Recovery codes
//
// SuperTokens has none; ginauth adds them. GenerateRecoveryCodes makes ten
// single-use codes of 80 random bits, shown once and stored as SHA-256
// hashes (a slow hash adds nothing at that entropy). A used code completes
// the "recovery-code" factor, which stands in for TOTP (by default; see
// RecoveryCodeConfig.Satisfies) wherever a requirement or a
// HasCompletedFactors validator asks for TOTP. Wrong codes are limited like
// TOTP codes. Routes: POST /mfa/recovery-code {code} (session required, MFA
// not) and POST /mfa/recovery-codes (a fully satisfied session), both
// ginauth extensions outside the FDI.
//
// # Quick start
//
//	mfa := multifactorauth.New(multifactorauth.Config{
//		RequiredSecondaryFactors: func(ctx context.Context, userID, tenantID string) ([]string, error) {
//			if isAdmin(ctx, userID) { // e.g. through the userroles recipe
//				return []string{multifactorauth.FactorTOTP}, nil
//			}
//			return nil, nil
//		},
//	})
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: appInfo,
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), mfa, totp.New(totp.Config{SecretKey: key})}})
//	r.GET("/admin", ginauth.VerifySession(), adminHandler) // 403 until TOTP is done
//	r.GET("/always-totp", ginauth.VerifySession(),
//		ginauth.RequireClaim(multifactorauth.HasCompletedFactors(multifactorauth.Factor("totp"))), h)
package multifactorauth
