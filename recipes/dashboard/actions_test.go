package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/dashboard"
)

// act posts an action's form with the CSRF token and expects a redirect
// back to the user's page (or the list, after a delete).
func act(t *testing.T, b *browser, csrf, path string, form url.Values) page {
	t.Helper()
	form.Set("csrf", csrf)
	p := b.post(base+"/user/"+path, form)
	expectCode(t, p, http.StatusSeeOther)
	return p
}

func TestActions(t *testing.T) {
	h := newHarness(t)
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "editor", nil)
	h.must(err)
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	lastEvent := func() ginauth.Event {
		ev := h.events.OfType(dashboard.EventAction)
		if len(ev) == 0 {
			t.Fatal("no dashboard-action event")
		}
		return ev[len(ev)-1]
	}

	t.Run("add and remove a role", func(t *testing.T) {
		handle := h.session(id)
		p := act(t, b, csrf, "roles/add", url.Values{"id": {id}, "tenant": {"public"}, "role": {"editor"}})
		if p.location() != userPath(id)+"&done=role-added" {
			t.Fatalf("Location %q", p.location())
		}
		if r := h.rolesOf(id); len(r) != 1 || r[0] != "editor" {
			t.Fatalf("roles %v", r)
		}
		if e := lastEvent(); e.UserID != id || !strings.HasPrefix(e.Detail, `add-role "editor" in tenant public by api-key:`) {
			t.Fatalf("event %+v", e)
		}
		// The user's session carries the new role from its next refresh.
		info, err := h.auth.GetSessionInfo(ctx, handle)
		h.must(err)
		if !strings.Contains(toJSON(info.AccessTokenPayload), "editor") {
			t.Fatalf("session payload %v", info.AccessTokenPayload)
		}
		expectContains(t, b.get(p.location()), "The role was added.")

		act(t, b, csrf, "roles/remove", url.Values{"id": {id}, "tenant": {"public"}, "role": {"editor"}})
		if r := h.rolesOf(id); len(r) != 0 {
			t.Fatalf("roles %v", r)
		}
		_, err = h.auth.RevokeSession(ctx, handle)
		h.must(err)
	})
	t.Run("unknown role or tenant", func(t *testing.T) {
		p := b.post(base+"/user/roles/add", url.Values{"id": {id}, "tenant": {"public"}, "role": {"root"}, "csrf": {csrf}})
		expectCode(t, p, http.StatusBadRequest)
		expectContains(t, p, "That role does not exist.", "<h1>ann@example.com</h1>")
		p = b.post(base+"/user/roles/add", url.Values{"id": {id}, "tenant": {"acme"}, "role": {"editor"}, "csrf": {csrf}})
		expectCode(t, p, http.StatusBadRequest)
		expectContains(t, p, "does not belong to tenant acme")
		if r := h.rolesOf(id); len(r) != 0 {
			t.Fatalf("roles %v", r)
		}
	})
	t.Run("metadata", func(t *testing.T) {
		_, err := h.meta.UpdateUserMetadata(ctx, id, map[string]any{"old": true, "keep": 1})
		h.must(err)
		act(t, b, csrf, "metadata", url.Values{"id": {id}, "metadata": {`{"keep": 2, "plan": {"name": "pro"}}`}})
		m, err := h.meta.GetUserMetadata(ctx, id)
		h.must(err)
		if got := toJSON(m); got != `{"keep":2,"plan":{"name":"pro"}}` {
			t.Fatalf("metadata %s", got)
		}
		for _, bad := range []string{`[1,2]`, `{"a":`, `{"a":1} {"b":2}`, `null`} {
			p := b.post(base+"/user/metadata", url.Values{"id": {id}, "metadata": {bad}, "csrf": {csrf}})
			expectCode(t, p, http.StatusBadRequest)
			expectContains(t, p, "The metadata must be one JSON object", ">"+htmlEscape(bad)+"</textarea>")
		}
		m, err = h.meta.GetUserMetadata(ctx, id)
		h.must(err)
		if got := toJSON(m); got != `{"keep":2,"plan":{"name":"pro"}}` {
			t.Fatalf("metadata changed by a refused edit: %s", got)
		}
		act(t, b, csrf, "metadata", url.Values{"id": {id}, "metadata": {""}})
		m, err = h.meta.GetUserMetadata(ctx, id)
		h.must(err)
		if len(m) != 0 {
			t.Fatalf("metadata %v", m)
		}
	})
	t.Run("revoke a session", func(t *testing.T) {
		keep, gone := h.session(id), h.session(id)
		form := url.Values{"id": {id}, "handle": {gone}, "csrf": {csrf}}
		p := b.post(base+"/user/sessions/revoke", form)
		expectCode(t, p, http.StatusOK) // the confirmation step
		expectContains(t, p, "Revoke this session?", `name="confirm" value="yes"`, `name="handle" value="`+gone+`"`)
		if h.sessionCount(id) != 2 {
			t.Fatal("revoked before confirmation")
		}
		act(t, b, p.csrf(t), "sessions/revoke", url.Values{"id": {id}, "handle": {gone}, "confirm": {"yes"}})
		ss, err := h.auth.ListSessions(ctx, id)
		h.must(err)
		if len(ss) != 1 || ss[0].Handle != keep {
			t.Fatalf("sessions %+v", ss)
		}
		// Another user's session cannot be revoked through this one.
		other := h.signUp("bob@example.com")
		theirs := h.session(other)
		p = b.post(base+"/user/sessions/revoke", url.Values{"id": {id}, "handle": {theirs}, "csrf": {csrf}, "confirm": {"yes"}})
		expectCode(t, p, http.StatusNotFound)
		if h.sessionCount(other) != 1 {
			t.Fatal("another user's session was revoked")
		}
	})
	t.Run("revoke all sessions", func(t *testing.T) {
		h.session(id)
		expectCode(t, b.post(base+"/user/sessions/revoke-all", url.Values{"id": {id}, "csrf": {csrf}}), http.StatusOK)
		act(t, b, csrf, "sessions/revoke-all", url.Values{"id": {id}, "confirm": {"yes"}})
		if n := h.sessionCount(id); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
	})
	t.Run("password reset link", func(t *testing.T) {
		p := b.post(base+"/user/password-reset", url.Values{"id": {id}, "csrf": {csrf}})
		expectCode(t, p, http.StatusOK)
		m := regexp.MustCompile(`value="(http://localhost:3000/auth/reset-password\?[^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no reset link:\n%s", p.body)
		}
		link, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		h.must(err)
		token := link.Query().Get("token")
		if _, err := h.ep.ResetPasswordUsingToken(ctx, link.Query().Get("tenantId"), token, "brand-new-pass-9"); err != nil {
			t.Fatalf("the link's token does not work: %v", err)
		}
		if _, err := h.ep.SignIn(ctx, "public", "ann@example.com", "brand-new-pass-9"); err != nil {
			t.Fatal(err)
		}
		if e := lastEvent(); strings.Contains(e.Detail, token) {
			t.Fatalf("the event holds the token: %+v", e)
		}
		h.events.AssertNoSecret(t, token)
	})
	t.Run("verify and unverify", func(t *testing.T) {
		act(t, b, csrf, "email/verify", url.Values{"id": {id}, "ruid": {id}, "email": {"ann@example.com"}})
		ok, err := h.ev.IsVerified(ctx, id, "ann@example.com")
		h.must(err)
		if !ok {
			t.Fatal("not verified")
		}
		expectCode(t, b.post(base+"/user/email/unverify", url.Values{"id": {id}, "ruid": {id}, "email": {"ann@example.com"}, "csrf": {csrf}}), http.StatusOK)
		act(t, b, csrf, "email/unverify", url.Values{"id": {id}, "ruid": {id}, "email": {"ann@example.com"}, "confirm": {"yes"}})
		ok, err = h.ev.IsVerified(ctx, id, "ann@example.com")
		h.must(err)
		if ok {
			t.Fatal("still verified")
		}
		p := b.post(base+"/user/email/verify", url.Values{"id": {id}, "ruid": {id}, "email": {"someone@else.com"}, "csrf": {csrf}})
		expectCode(t, p, http.StatusBadRequest)
		var n int64
		h.must(h.db.Model(&models.VerifiedEmail{}).Count(&n).Error)
		if n != 0 {
			t.Fatalf("%d verified addresses", n)
		}
	})
	t.Run("delete", func(t *testing.T) {
		h.session(id)
		p := b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}})
		expectCode(t, p, http.StatusOK)
		expectContains(t, p, "Delete this user?", "cannot be undone", `href="`+htmlEscape(userPath(id))+`">Cancel`)
		if !h.userExists(id) {
			t.Fatal("deleted before confirmation")
		}
		p = act(t, b, csrf, "delete", url.Values{"id": {id}, "confirm": {"yes"}})
		if p.location() != base+"?done=deleted" {
			t.Fatalf("Location %q", p.location())
		}
		if h.userExists(id) || h.sessionCount(id) != 0 {
			t.Fatal("the user or a session is left")
		}
		expectContains(t, b.get(p.location()), "The user was deleted.")
		if e := lastEvent(); e.UserID != id || !strings.HasPrefix(e.Detail, "delete-user by api-key:") || e.IP == "" {
			t.Fatalf("event %+v", e)
		}
		p = b.post(base+"/user/delete", url.Values{"id": {id}, "csrf": {csrf}, "confirm": {"yes"}})
		expectCode(t, p, http.StatusNotFound)
	})
}

// With several frontends the admin picks the website a reset link opens;
// an origin that is not listed is refused and makes no link. Fails when
// passwordReset takes the website field without WithWebsiteOrigin's check.
func TestPasswordResetLinkForAWebsite(t *testing.T) {
	h := newHarness(t, withOrigins("https://staging.example.com", "com.example.app://"))
	id := h.signUp("ann@example.com")
	b, csrf := h.admin()
	expectContains(t, b.get(userPath(id)), `<option value="com.example.app://">`)
	link := func(p page) string {
		m := regexp.MustCompile(`value="([^"]+/auth/reset-password\?[^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			return ""
		}
		return strings.ReplaceAll(m[1], "&amp;", "&")
	}
	for website, want := range map[string]string{
		"":                            "http://localhost:3000/auth/reset-password?",
		"https://staging.example.com": "https://staging.example.com/auth/reset-password?",
		"com.example.app://":          "com.example.app:///auth/reset-password?",
	} {
		p := b.post(base+"/user/password-reset", url.Values{"id": {id}, "csrf": {csrf}, "website": {website}})
		expectCode(t, p, http.StatusOK)
		if l := link(p); !strings.HasPrefix(l, want) {
			t.Fatalf("website %q: link %q, want %s...", website, l, want)
		}
	}
	p := b.post(base+"/user/password-reset", url.Values{"id": {id}, "csrf": {csrf}, "website": {"https://evil.example"}})
	if l := link(p); l != "" || !strings.Contains(p.body, "not one of the app&#39;s website origins") {
		t.Fatalf("unlisted website: %d, link %q\n%s", p.Code, l, p.body)
	}
}
