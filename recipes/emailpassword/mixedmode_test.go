package emailpassword

import (
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
)

// Sign-up and sign-in in one transfer mode with the other mode's tokens
// still in the request end with the new session, not front-token: remove
// (issue 12 item 1; supertokens-node's createNewSessionInRequest).
func TestSignInWithMixedTransferModes(t *testing.T) {
	h := newHarness(t, nil)
	for mode, hdr := range recipetest.MixedModes {
		t.Run(mode, func(t *testing.T) {
			email := mode + "@example.com"
			r := h.do("POST", "/auth/signup", ginauthtest.Form("email", email, "password", "Secret-pass-123"), hdr...)
			if status(r) != "OK" {
				t.Fatalf("sign-up: %d %s", r.Code, r.Body)
			}
			recipetest.CheckMixedModeSignIn(t, r.ResponseRecorder, mode)
			r = h.do("POST", "/auth/signin", ginauthtest.Form("email", email, "password", "Secret-pass-123"), hdr...)
			if status(r) != "OK" {
				t.Fatalf("sign-in: %d %s", r.Code, r.Body)
			}
			recipetest.CheckMixedModeSignIn(t, r.ResponseRecorder, mode)
		})
	}
}
