package thirdparty_test

import (
	"encoding/json"
	"testing"

	"github.com/ginauth/ginauth/recipes/internal/recipetest"
)

// Third-party sign-in in one transfer mode with the other mode's tokens
// still in the request ends with the new session, not front-token: remove
// (issue 12 item 1; supertokens-node's createNewSessionInRequest).
func TestSignInUpWithMixedTransferModes(t *testing.T) {
	h := newHarness(t, setup{})
	for mode, hdr := range recipetest.MixedModes {
		t.Run(mode, func(t *testing.T) {
			u, v := h.authURL("oidc", callback)
			params := h.authorize(u)
			b, _ := json.Marshal(signInUpBody("oidc", callback, params, v))
			r := h.do("POST", "/auth/signinup", string(b), hdr...)
			if r.Code != 200 || r.body["status"] != "OK" {
				t.Fatalf("signinup: %d %s", r.Code, r.Body)
			}
			recipetest.CheckMixedModeSignIn(t, r.ResponseRecorder, mode)
		})
	}
}
