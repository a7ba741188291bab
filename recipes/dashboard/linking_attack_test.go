package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/accountlinking"
)

// The account-linking card attacked from outside: forms without a
// dashboard session, without the CSRF token or from another site change
// nothing; ids that name nobody are a clear 4xx; a burst of link and
// unlink forms from one admin answers no 5xx and leaves one consistent
// group.

// snapshotPost sends a form with a copy of b's cookies and headers and
// leaves b alone, so that goroutines can share one signed-in browser.
func snapshotPost(b *browser, path string, form url.Values, header ...string) page {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range b.header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.h.r.ServeHTTP(w, req)
	return page{ResponseRecorder: w, body: w.Body.String()}
}

func TestAccountLinkingCardRefusesForgedForms(t *testing.T) {
	al := accountlinking.New(accountlinking.Config{})
	h := newHarness(t, withRecipes(al))
	ann := h.signUp("ann@example.com")
	bob := h.signUp("bob@example.com")
	b, csrf := h.admin()
	primary := func() bool {
		u, err := h.auth.GetUser(ctx, ann)
		h.must(err)
		return u.IsPrimaryUser
	}

	// No dashboard session: sent to the sign-in page, nothing changed.
	anon := h.browser()
	p := anon.post(base+"/user/link/primary", url.Values{"id": {ann}, "csrf": {csrf}})
	if p.Code == http.StatusSeeOther && p.location() != base+"/signin" || p.Code == http.StatusOK || primary() {
		t.Fatalf("without a session: %d %q primary=%v", p.Code, p.location(), primary())
	}
	// Signed in, but no or another token.
	for _, tok := range []string{"", csrf + "x", strings.ToUpper(csrf)} {
		p = snapshotPost(b, base+"/user/link/primary", url.Values{"id": {ann}, "csrf": {tok}})
		expectCode(t, p, http.StatusForbidden)
	}
	// The right token, from another site.
	for _, hdr := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}} {
		p = snapshotPost(b, base+"/user/link/primary", url.Values{"id": {ann}, "csrf": {csrf}}, hdr...)
		expectCode(t, p, http.StatusForbidden)
	}
	if primary() {
		t.Fatal("a refused form made ann primary")
	}

	act(t, b, csrf, "link/primary", url.Values{"id": {ann}})
	// Ids that name nobody: a user of another app or a deleted one, an id
	// in another case, with look-alike (full-width) or invisible
	// characters. MariaDB's collation finds the user by the first two;
	// account linking takes exact ids only (lockUser).
	fullwidth := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' {
			return r - '0' + '０'
		}
		return r
	}, bob)
	for _, other := range []string{"00000000-0000-0000-0000-000000000000", strings.ToUpper(bob), fullwidth, "ｂｏｂ", bob + "\u200b", "\u200b" + bob} {
		p = b.post(base+"/user/link/add", url.Values{"id": {ann}, "recipeUserId": {other}, "csrf": {csrf}})
		if p.Code != http.StatusNotFound && p.Code != http.StatusBadRequest {
			t.Fatalf("link %q: %d\n%s", other, p.Code, p.body)
		}
	}
	// (The page's own id is looked up by the core's GetUser, which on
	// MariaDB finds ann by a look-alike of her id too; the action then
	// runs on the user whose page that is.)
	for _, id := range []string{"ｘ", "00000000-0000-0000-0000-000000000000"} {
		p = b.post(base+"/user/link/primary", url.Values{"id": {id}, "csrf": {csrf}})
		if p.Code != http.StatusNotFound && p.Code != http.StatusBadRequest {
			t.Fatalf("make primary %q: %d\n%s", id, p.Code, p.body)
		}
	}
	// Hostile strings (refused by the core's input check before the card
	// runs; PostgreSQL would refuse the first two with an error): a 4xx
	// page, nothing linked.
	for _, other := range []string{"a\x00b", "a\xffb", strings.Repeat("b", 1<<20)} {
		for _, f := range []url.Values{{"id": {ann}, "recipeUserId": {other}}, {"id": {other}, "recipeUserId": {bob}}} {
			f.Set("csrf", csrf)
			p = snapshotPost(b, base+"/user/link/add", f)
			if p.Code < 400 || p.Code >= 500 {
				t.Fatalf("hostile %.20q: %d\n%.300s", other, p.Code, p.body)
			}
		}
	}
	if u, err := h.auth.GetUser(ctx, bob); err != nil || u.ID != bob {
		t.Fatalf("bob was linked: %v", err)
	}
}

// 50 link and unlink forms at once for one login method: every answer is
// a redirect or a 400 with the conflict (never a 5xx), and bob ends
// either linked to ann or on his own.
func TestAccountLinkingCardBurst(t *testing.T) {
	al := accountlinking.New(accountlinking.Config{})
	h := newHarness(t, withRecipes(al))
	ann := h.signUp("ann@example.com")
	bob := h.signUp("bob@example.com")
	b, csrf := h.admin()
	act(t, b, csrf, "link/primary", url.Values{"id": {ann}})
	var mu sync.Mutex
	codes := map[int]int{}
	ginauthtest.Burst(50, func(i int) {
		var p page
		switch i % 3 {
		case 0:
			p = snapshotPost(b, base+"/user/link/add", url.Values{"id": {ann}, "recipeUserId": {bob}, "csrf": {csrf}})
		case 1:
			p = snapshotPost(b, base+"/user/link/remove", url.Values{"id": {ann}, "ruid": {bob}, "confirm": {"yes"}, "csrf": {csrf}})
		case 2:
			p = snapshotPost(b, base+"/user/link/primary", url.Values{"id": {bob}, "csrf": {csrf}})
		}
		mu.Lock()
		codes[p.Code]++
		mu.Unlock()
		if p.Code >= 500 {
			t.Errorf("%d\n%s", p.Code, p.body)
		}
	})
	t.Logf("answers %v", codes)
	u, err := h.auth.GetUser(ctx, bob)
	h.must(err)
	if u.ID != ann && u.ID != bob {
		t.Fatalf("bob is in %s", u.ID)
	}
}
