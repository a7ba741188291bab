package recipetest

import (
	"net/http/httptest"
	"testing"
	"time"
)

// MixedModes are the two directions of a sign-in made while the frontend
// still holds tokens of the other transfer mode (after an app changed
// tokenTransferMethod, supertokens-website keeps sending what it stored):
// for each mode to sign in with, the extra request headers.
var MixedModes = map[string][]string{
	"header": {"st-auth-mode", "header", "Cookie", "sAccessToken=old-access; sRefreshToken=old-refresh"},
	"cookie": {"st-auth-mode", "cookie", "Authorization", "Bearer old-header-access-token"},
}

// CheckMixedModeSignIn fails unless w created a session in mode and
// cleared the other mode's tokens without ending in "front-token: remove":
// exactly one front-token, a new one; the new tokens in mode; the other
// mode's tokens cleared. This is what supertokens-node's
// createNewSessionInRequest answers (it clears the other mode before
// attaching the new tokens).
func CheckMixedModeSignIn(t testing.TB, w *httptest.ResponseRecorder, mode string) {
	t.Helper()
	if v := w.Header().Values("front-token"); len(v) != 1 || v[0] == "remove" || v[0] == "" {
		t.Fatalf("front-token %q, want one new token; headers %v", v, w.Header())
	}
	live, cleared := map[string]bool{}, map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.Value == "" || c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Unix(1, 0))) {
			cleared[c.Name] = true
		} else {
			live[c.Name] = true
		}
	}
	if mode == "header" {
		if w.Header().Get("st-access-token") == "" || w.Header().Get("st-refresh-token") == "" {
			t.Fatalf("no header tokens: %v", w.Header())
		}
		if !cleared["sAccessToken"] || !cleared["sRefreshToken"] || len(live) != 0 {
			t.Fatalf("old cookies not cleared: %v", w.Header()["Set-Cookie"])
		}
		return
	}
	if !live["sAccessToken"] || !live["sRefreshToken"] {
		t.Fatalf("no session cookies: %v", w.Header()["Set-Cookie"])
	}
	for _, h := range []string{"St-Access-Token", "St-Refresh-Token"} {
		if v, ok := w.Header()[h]; !ok || v[0] != "" {
			t.Fatalf("%s not cleared: %v", h, w.Header())
		}
	}
}
