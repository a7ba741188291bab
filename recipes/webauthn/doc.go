// Package webauthn is the passkeys recipe: sign-up and sign-in with a
// passkey (WebAuthn), passkeys as the "webauthn" factor of
// multifactorauth, account recovery by an e-mailed link, and listing and
// removing a user's passkeys, over SuperTokens' FDI /webauthn/* routes.
//
// Attestation and assertion verification is done by
// github.com/go-webauthn/webauthn; this package keeps the ceremony state
// (options stored hashed, used once, expiring on ginauth's clock), the
// credentials (models.WebAuthnCredential), the refusal of cloned
// authenticators, and the rate limits. See docs/passkeys.md.
//
//	webauthn.New(webauthn.Config{EmailSender: sender}) // in ginauth.Config.Recipes, after multifactorauth
package webauthn
