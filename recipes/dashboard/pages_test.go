package dashboard_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/recipes/dashboard"
	"github.com/ginauth/ginauth/recipes/internal/recipetest"
)

var userLinkRe = regexp.MustCompile(`href="/auth/dashboard/user\?id=([0-9a-f-]+)"`)

// usersOn returns the user ids a list page links to, in order.
func usersOn(p page) []string {
	var ids []string
	for _, m := range userLinkRe.FindAllStringSubmatch(p.body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var nextRe = regexp.MustCompile(`href="([^"]+)">Next page`)

func nextLink(p page) string {
	m := nextRe.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestListAndPaginate(t *testing.T) {
	h := newHarness(t, withConfig(dashboard.Config{APIKeys: []string{testKey}, PageSize: 2}))
	var ids []string
	for i := 1; i <= 5; i++ {
		ids = append(ids, h.signUp(fmt.Sprintf("user%d@example.com", i)))
	}
	b, _ := h.admin()

	walk := func(first string) [][]string {
		var pages [][]string
		for path := first; path != ""; {
			p := b.get(path)
			expectCode(t, p, http.StatusOK)
			pages = append(pages, usersOn(p))
			path = nextLink(p)
			if len(pages) > 5 {
				t.Fatal("the pages do not end")
			}
		}
		return pages
	}
	got := walk(base)
	want := [][]string{{ids[4], ids[3]}, {ids[2], ids[1]}, {ids[0]}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("newest first: %v, want %v", got, want)
	}
	got = walk(base + "?order=oldest")
	want = [][]string{{ids[0], ids[1]}, {ids[2], ids[3]}, {ids[4]}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("oldest first: %v, want %v", got, want)
	}

	p := b.get(base)
	expectContains(t, p, "user5@example.com", ">5</span><span class=\"label\">users in all", "Page 1")
	p = b.get(nextLink(p))
	expectContains(t, p, "Page 2", "First page")

	t.Run("search", func(t *testing.T) {
		p := b.get(base + "?email=" + url.QueryEscape(" USER3@example.com "))
		expectCode(t, p, http.StatusOK)
		if got := usersOn(p); len(got) != 1 || got[0] != ids[2] {
			t.Fatalf("found %v", got)
		}
		expectContains(t, p, `value="USER3@example.com"`, "Clear")
		p = b.get(base + "?email=nobody@example.com")
		expectContains(t, p, "No users found.")
	})
	t.Run("bad page token", func(t *testing.T) {
		p := b.get(base + "?page=garbage")
		expectCode(t, p, http.StatusBadRequest)
		expectContains(t, p, "Invalid pagination token")
	})
}

func TestTenantCounts(t *testing.T) {
	h := newHarness(t, withRecipes(recipetest.AnyTenant()))
	h.signUp("a@example.com")
	h.signUp("b@example.com")
	acme := h.signUpIn("acme", "c@example.com")
	b, _ := h.admin()
	p := b.get(base)
	expectContains(t, p, ">3</span><span class=\"label\">users in all",
		">2</span><span class=\"label\">tenant public", ">1</span><span class=\"label\">tenant acme",
		`<option value="acme">acme</option>`)
	p = b.get(base + "?tenant=acme")
	if got := usersOn(p); len(got) != 1 || got[0] != acme {
		t.Fatalf("tenant acme lists %v", got)
	}
	expectContains(t, p, `<option value="acme" selected>`)
}

func TestUserPage(t *testing.T) {
	h := newHarness(t)
	id := h.signUp("ann@example.com")
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "editor", []string{"posts:write"})
	h.must(err)
	_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, "viewer", nil)
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "public", id, "editor")
	h.must(err)
	_, err = h.meta.UpdateUserMetadata(ctx, id, map[string]any{"plan": "pro"})
	h.must(err)
	handle := h.session(id)
	b, _ := h.admin()

	p := b.get(userPath(id))
	expectCode(t, p, http.StatusOK)
	expectContains(t, p,
		"<h1>ann@example.com</h1>", id, // account
		`<span class="badge">emailpassword</span>`, `<span class="badge warn">unverified</span>`, // login method
		`<span class="badge">public</span>`,                                                       // tenant
		"Mark verified",                                                                           // verification
		`<span class="badge">editor</span>`, `<option value="viewer">viewer</option>`, "Add role", // roles
		`&#34;plan&#34;: &#34;pro&#34;`, "Save metadata", // metadata
		handle, "Revoke all sessions", // sessions
		"Create password reset link", "Delete user") // actions

	h.must(h.ev.MarkVerified(ctx, id, "ann@example.com"))
	p = b.get(userPath(id))
	expectContains(t, p, `<span class="badge ok">verified</span>`, "Mark unverified")

	expectCode(t, b.get(userPath("no-such-user")), http.StatusNotFound)
	expectCode(t, b.get(base+"/user"), http.StatusBadRequest)
}

func TestEscaping(t *testing.T) {
	h := newHarness(t)
	evil := `<script>alert(1)</script>"'@evil.example`
	id := h.signUp(evil)
	_, err := h.meta.UpdateUserMetadata(ctx, id, map[string]any{"bio": "</textarea><script>alert(2)</script>"})
	h.must(err)
	_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, `<img src=x onerror=alert(3)>`, nil)
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "public", id, `<img src=x onerror=alert(3)>`)
	h.must(err)
	b, csrf := h.admin()
	for name, p := range map[string]page{
		"list":    b.get(base),
		"search":  b.get(base + "?email=" + url.QueryEscape(evil)),
		"user":    b.get(userPath(id)),
		"confirm": b.post(base+"/user/email/unverify", url.Values{"id": {id}, "ruid": {id}, "email": {evil}, "csrf": {csrf}}),
	} {
		t.Run(name, func(t *testing.T) {
			expectCode(t, p, http.StatusOK)
			expectLacks(t, p, "<script", "<img", "</textarea><")
			expectContains(t, p, "&lt;script&gt;alert(1)&lt;/script&gt;")
		})
	}
	p := b.get(userPath(id))
	expectContains(t, p, "&lt;/textarea&gt;&lt;script&gt;alert(2)", "&lt;img src=x onerror=alert(3)&gt;")
	if !strings.Contains(p.body, "<textarea") {
		t.Fatal("no metadata editor")
	}
}

// Every page names its icon, which anyone may load: without it browsers
// ask for /favicon.ico, whose 404 is a console error in the browser test.
func TestIcon(t *testing.T) {
	h := newHarness(t)
	expectContains(t, h.browser().get(base+"/signin"), `<link rel="icon" href="/auth/dashboard/icon.svg" type="image/svg+xml">`)
	p := h.browser().get(base + "/icon.svg")
	expectCode(t, p, http.StatusOK)
	if ct := p.Header().Get("Content-Type"); ct != "image/svg+xml" || !strings.HasPrefix(p.body, "<svg") ||
		p.Header().Get("Content-Security-Policy") != "default-src 'none'" || strings.Contains(p.body, "<script") {
		t.Fatalf("%q %q", ct, p.body)
	}
}
