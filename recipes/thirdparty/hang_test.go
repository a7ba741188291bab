package thirdparty_test

import (
	"net/url"
	"testing"

	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/recipes/thirdparty/oidctest"
)

// TestHungProviderDoesNotBlockOthers: a provider that accepts connections and
// never answers holds up its own sign-ins only. Discovery and key fetches
// hold no lock across the network, so another provider signs in at once
// while the hung one's request is still waiting.
func TestHungProviderDoesNotBlockOthers(t *testing.T) {
	slow := oidctest.NewServer(oidctest.Config{ClientID: clientID, ClientSecret: clientSecret,
		RedirectURIs: []string{callback}, User: oidctest.User{Subject: "s", Email: "s@example.com", EmailVerified: true}})
	t.Cleanup(slow.Close)
	h := newHarness(t, setup{providers: func(idp *oidctest.Server) []thirdparty.Provider {
		return append(defaultProviders(idp),
			thirdparty.OIDC("slow", slow.Issuer(), thirdparty.Client{ClientID: clientID, ClientSecret: clientSecret}))
	}})

	arrived, release := slow.Hang()
	defer release()
	slowDone := make(chan int, 1)
	go func() {
		q := url.Values{"thirdPartyId": {"slow"}, "redirectURIOnProviderDashboard": {callback}}
		slowDone <- h.do("GET", "/auth/authorisationurl?"+q.Encode(), "").Code
	}()
	<-arrived // the slow provider's discovery request is now hanging

	expectStatus(t, h.signIn(), "OK") // discovery, token, JWKS of the other provider
	select {
	case code := <-slowDone:
		t.Fatalf("the hung provider's request ended (%d) before it was released: the other sign-in waited for it", code)
	default:
	}

	release()
	if code := <-slowDone; code != 200 {
		t.Fatalf("after release the slow provider's authorisation URL answered %d", code)
	}
}

// TestParallelSignInsShareOneKeyFetch: sign-ins that arrive together on a
// cold cache share one JWKS request instead of each asking the provider.
func TestParallelSignInsShareOneKeyFetch(t *testing.T) {
	h := newHarness(t, setup{})
	const n = 12
	tokens := make([]string, n)
	for i := range tokens {
		_, idt, err := h.idp.MintTokens("")
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = idt
	}
	// Hold the provider so that every sign-in is waiting on the key fetch
	// before the first one completes.
	arrived, release := h.idp.Hang()
	results := make(chan string, n)
	for _, idt := range tokens {
		go func() {
			r := h.postJSON("/auth/signinup", map[string]any{"thirdPartyId": "oidc", "oAuthTokens": map[string]any{"id_token": idt}})
			s, _ := r.body["status"].(string)
			results <- s
		}()
	}
	<-arrived
	release()
	for range n {
		if s := <-results; s != "OK" {
			t.Fatalf("a parallel sign-in answered %q", s)
		}
	}
	// One discovery request and one JWKS request: with a fetch per caller
	// there would be up to n of each.
	if got := h.idp.JWKSFetches(); got != 1 {
		t.Fatalf("%d JWKS fetches for %d parallel sign-ins, want 1", got, n)
	}
}
