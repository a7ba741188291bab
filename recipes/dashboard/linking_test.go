package dashboard_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ginauth/ginauth/recipes/accountlinking"
)

// The user page's account-linking card: make primary, link by id, unlink,
// each through accountlinking's Go API, and a refused link shown as a 400
// with the conflict.
func TestAccountLinkingActions(t *testing.T) {
	al := accountlinking.New(accountlinking.Config{})
	h := newHarness(t, withRecipes(al))
	ann := h.signUp("ann@example.com")
	bob := h.signUp("bob@example.com")
	cat := h.signUp("cat@example.com")
	b, csrf := h.admin()

	p := b.get(userPath(ann))
	expectCode(t, p, http.StatusOK)
	expectContains(t, p, "Account linking", "Make primary user")

	// Linking to a user that is not primary is refused and changes nothing.
	p = b.post(base+"/user/link/add", url.Values{"id": {ann}, "recipeUserId": {bob}, "csrf": {csrf}})
	expectCode(t, p, http.StatusBadRequest)
	expectContains(t, p, "Not linked")

	act(t, b, csrf, "link/primary", url.Values{"id": {ann}})
	if u, err := h.auth.GetUser(ctx, ann); err != nil || !u.IsPrimaryUser {
		t.Fatalf("not primary: %v", err)
	}
	act(t, b, csrf, "link/add", url.Values{"id": {ann}, "recipeUserId": {bob}})
	u, err := h.auth.GetUser(ctx, bob)
	h.must(err)
	if u.ID != ann || len(u.LoginMethods) != 2 {
		t.Fatalf("bob is in %s with %d methods", u.ID, len(u.LoginMethods))
	}
	p = b.get(userPath(ann))
	expectContains(t, p, "Primary user", bob, "Unlink")

	// cat becomes primary; linking it into ann is a conflict.
	act(t, b, csrf, "link/primary", url.Values{"id": {cat}})
	p = b.post(base+"/user/link/add", url.Values{"id": {ann}, "recipeUserId": {cat}, "csrf": {csrf}})
	expectCode(t, p, http.StatusBadRequest)
	expectContains(t, p, "itself a primary user")

	// Unlink asks first, then detaches bob.
	p = b.post(base+"/user/link/remove", url.Values{"id": {ann}, "ruid": {bob}, "csrf": {csrf}})
	expectCode(t, p, http.StatusOK)
	expectContains(t, p, "Unlink this login method?")
	act(t, b, csrf, "link/remove", url.Values{"id": {ann}, "ruid": {bob}, "confirm": {"yes"}})
	if u, err = h.auth.GetUser(ctx, bob); err != nil || u.ID != bob {
		t.Fatalf("bob still linked: %v", err)
	}
	// A login method of someone else cannot be unlinked through ann's page.
	p = b.post(base+"/user/link/remove", url.Values{"id": {ann}, "ruid": {cat}, "confirm": {"yes"}, "csrf": {csrf}})
	expectCode(t, p, http.StatusBadRequest)
}

// Without the recipe the page has no linking card.
func TestNoAccountLinkingCard(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	b, _ := h.admin()
	expectLacks(t, b.get(userPath(id)), "Account linking")
}
