package passwordless

import (
	"testing"

	"github.com/ginauth/ginauth/recipes/internal/recipetest"
)

// Consuming a code in one transfer mode with the other mode's tokens still
// in the request ends with the new session, not front-token: remove
// (issue 12 item 1; supertokens-node's createNewSessionInRequest).
func TestConsumeWithMixedTransferModes(t *testing.T) {
	h := newHarness(t, nil)
	for mode, hdr := range recipetest.MixedModes {
		t.Run(mode, func(t *testing.T) {
			d := h.startEmail(mode + "@example.com")
			code, _ := codeFrom(t, h.waitMail())
			r := h.do("POST", "/auth/signinup/code/consume",
				js(map[string]any{"preAuthSessionId": d.pre, "deviceId": d.deviceID, "userInputCode": code}), hdr...)
			expectStatus(t, r, "OK")
			recipetest.CheckMixedModeSignIn(t, r.ResponseRecorder, mode)
		})
	}
}
