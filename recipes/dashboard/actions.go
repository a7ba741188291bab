package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/emailpassword"
	"github.com/ginauth/ginauth/recipes/usermetadata"
	"github.com/ginauth/ginauth/recipes/userroles"
)

// actionSpec is one change an admin can make to a user, served at
// POST <base>/dashboard/user/<path> with the user's id in the form field
// "id".
type actionSpec struct {
	path string
	// confirm, when set, makes the action take two steps: a first POST
	// answers a confirmation page whose form repeats the fields with
	// confirm=yes.
	confirm func(u *ginauth.User, f url.Values) *confirmView
	run     actionRun
}

// actionRun makes an action's change to user u from the form f.
type actionRun func(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error)

// outcome is what an action did.
type outcome struct {
	done      string // the notices key the detail page is redirected with
	detail    string // the event's detail, before " by <admin>"
	resetLink string // shown at once instead of redirecting
	deleted   bool
}

// inputError is a refusal the admin can fix: the detail page is shown
// again with the message and a 400.
type inputError string

func (e inputError) Error() string { return string(e) }

func (r *Recipe) actions() []actionSpec {
	return []actionSpec{
		{path: "roles/add", run: r.changeRole(roleStore.AddRoleToUser, "role-added", "add-role")},
		{path: "roles/remove", run: r.changeRole(roleStore.RemoveUserRole, "role-removed", "remove-role")},
		{path: "metadata", run: r.saveMetadata},
		{path: "sessions/revoke", run: r.revokeSession, confirm: func(u *ginauth.User, f url.Values) *confirmView {
			return &confirmView{Heading: "Revoke this session?", Button: "Revoke session",
				Text: "The device holding session " + f.Get("handle") + " of " + primary(u) + " is signed out: at once where the app checks the database, otherwise when its access token expires."}
		}},
		{path: "sessions/revoke-all", run: r.revokeAll, confirm: func(u *ginauth.User, _ url.Values) *confirmView {
			return &confirmView{Heading: "Revoke every session?", Button: "Revoke all sessions",
				Text: primary(u) + " is signed out on every device: at once where the app checks the database, otherwise when the access tokens expire."}
		}},
		{path: "password-reset", run: r.passwordReset},
		{path: "email/verify", run: r.setVerified(emailVerifier.MarkVerified, "verified", "mark-email-verified")},
		{path: "email/unverify", run: r.setVerified(emailVerifier.MarkUnverified, "unverified", "mark-email-unverified"), confirm: func(u *ginauth.User, f url.Values) *confirmView {
			return &confirmView{Heading: "Mark the address unverified?", Button: "Mark unverified",
				Text: f.Get("email") + " will count as unverified; where verification is required, " + primary(u) + " must verify it again."}
		}},
		{path: "link/primary", run: r.makePrimary},
		{path: "link/add", run: r.linkUser},
		{path: "link/remove", run: r.unlinkUser, confirm: func(u *ginauth.User, f url.Values) *confirmView {
			return &confirmView{Heading: "Unlink this login method?", Button: "Unlink",
				Text: "The login method of user " + f.Get("ruid") + " becomes a user of its own again, and its sessions as " + primary(u) + " are revoked."}
		}},
		{path: "delete", run: r.deleteUser, confirm: func(u *ginauth.User, _ url.Values) *confirmView {
			return &confirmView{Heading: "Delete this user?", Button: "Delete user for good",
				Text: "This deletes " + primary(u) + " (" + u.ID + ") with every login method, role, metadata and session. It cannot be undone."}
		}},
	}
}

// action serves one actionSpec: the page wrapper has admitted the admin
// and checked the CSRF token; this finds the user, asks for confirmation
// where the action needs it, runs it, records an event and redirects
// (POST, redirect, GET) to the user's page.
func (r *Recipe) action(ac actionSpec) gin.HandlerFunc {
	return r.page(func(c *gin.Context, adm *admin) {
		ctx := c.Request.Context()
		f := c.Request.PostForm
		u, ok := r.findUser(c, f.Get("id"), "The form does not say which user.")
		if !ok {
			return
		}
		if ac.confirm != nil && f.Get("confirm") != "yes" {
			cv := ac.confirm(u, f)
			cv.Action, cv.Back = c.Request.URL.Path, r.userLink(u.ID)
			for name, vals := range f {
				if name != csrfField && name != "confirm" && len(vals) > 0 {
					cv.Fields = append(cv.Fields, field{Name: name, Value: vals[0]})
				}
			}
			sort.Slice(cv.Fields, func(i, j int) bool { return cv.Fields[i].Name < cv.Fields[j].Name })
			d := r.data(adm, cv.Heading)
			d.Confirm = cv
			r.render(c, http.StatusOK, "confirm", d)
			return
		}
		out, err := ac.run(ctx, u, f)
		if err != nil {
			r.actionFailed(c, adm, u.ID, err, f)
			return
		}
		r.auth.EmitRequest(c, ginauth.Event{Type: EventAction, UserID: u.ID, Detail: out.detail + " by " + adm.actor})
		switch {
		case out.deleted:
			c.Redirect(http.StatusSeeOther, r.base+"?done=deleted")
		case out.resetLink != "":
			// Shown once, in this response: a redirect would put the
			// link in a URL, and so in history and logs.
			d := r.data(adm, "User")
			d.Notice = "A password reset link was created."
			d.User = &userView{ResetLink: out.resetLink}
			r.showUser(c, d, u.ID, http.StatusOK, nil)
		default:
			c.Redirect(http.StatusSeeOther, r.userLink(u.ID)+"&done="+out.done)
		}
	})
}

// actionFailed answers a failed action: the user's page again with the
// reason for what the admin can fix, an error page otherwise.
func (r *Recipe) actionFailed(c *gin.Context, adm *admin, userID string, err error, f url.Values) {
	var msg string
	var ie inputError
	var ge *ginauth.Error
	switch {
	case errors.As(err, &ie):
		msg = string(ie)
	case errors.Is(err, userroles.ErrUnknownRole):
		msg = "That role does not exist."
	case errors.Is(err, usermetadata.ErrTooLarge):
		msg = "The metadata is too large."
	case errors.Is(err, emailpassword.ErrUnknownUser):
		msg = "The user has no e-mail and password account in that tenant."
	case errors.Is(err, ginauth.ErrNotFound):
		r.message(c, http.StatusNotFound, "Not found", "It no longer exists; it may have been removed meanwhile.")
		return
	case errors.As(err, &ge) && ge.Status == http.StatusBadRequest:
		msg = sentence(ge.Message)
	default:
		r.fail(c, err)
		return
	}
	_ = c.Error(err)
	d := r.data(adm, "User")
	d.Error = msg
	var meta *string
	if c.Request.URL.Path == r.base+"/user/metadata" {
		text := f.Get("metadata")
		meta = &text
	}
	r.showUser(c, d, userID, http.StatusBadRequest, meta)
}

func hasTenant(u *ginauth.User, t string) bool {
	for _, x := range u.TenantIDs {
		if x == t {
			return true
		}
	}
	return false
}

// roleInput reads and checks the tenant and role of a role change.
func roleInput(u *ginauth.User, f url.Values) (string, string, error) {
	tenant, role := f.Get("tenant"), f.Get("role")
	if tenant == "" {
		tenant = ginauth.DefaultTenant
	}
	if !hasTenant(u, tenant) {
		return "", "", inputError("The user does not belong to tenant " + tenant + ".")
	}
	if role == "" || len(role) > 255 {
		return "", "", inputError("Choose a role.")
	}
	return tenant, role, nil
}

// changeRole is the action that adds (roleStore.AddRoleToUser) or removes
// (roleStore.RemoveUserRole) the role of a form; done and verb name the
// outcome and the event.
func (r *Recipe) changeRole(change func(roleStore, context.Context, string, string, string) (bool, error), done, verb string) actionRun {
	return func(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
		rs, ok := r.roles()
		if !ok {
			return outcome{}, inputError("The userroles recipe is not configured.")
		}
		tenant, role, err := roleInput(u, f)
		if err != nil {
			return outcome{}, err
		}
		if _, err := change(rs, ctx, tenant, u.ID, role); err != nil {
			return outcome{}, err
		}
		r.syncRoles(ctx, u.ID)
		return outcome{done: done, detail: fmt.Sprintf("%s %q in tenant %s", verb, role, tenant)}, nil
	}
}

// syncRoles rewrites the roles stored with the user's sessions, which
// their clients see at the next refresh. The change itself is done; a
// failure here is only logged.
func (r *Recipe) syncRoles(ctx context.Context, userID string) {
	if _, ok := r.auth.Recipe(userroles.RecipeID); !ok {
		return
	}
	if err := userroles.UpdateRolesInSessions(ctx, r.auth.Auth, userID); err != nil && !errors.Is(err, userroles.ErrNotSetUp) {
		r.auth.Logger().WarnContext(ctx, "dashboard: updating the roles in the user's sessions failed", "userId", userID, "error", err)
	}
}

func (r *Recipe) saveMetadata(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
	ms, ok := r.metadata()
	if !ok {
		return outcome{}, inputError("The usermetadata recipe is not configured.")
	}
	text := strings.TrimSpace(f.Get("metadata"))
	if text == "" {
		text = "{}"
	}
	var next map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&next); err != nil || next == nil || dec.More() {
		return outcome{}, inputError("The metadata must be one JSON object, like {\"plan\": \"pro\"}.")
	}
	old, err := ms.GetUserMetadata(ctx, u.ID)
	if err != nil {
		return outcome{}, err
	}
	// UpdateUserMetadata merges; a null removes a key. Replacing the
	// object is a merge of the new keys with nulls for the dropped ones.
	update := map[string]any{}
	for k := range old {
		update[k] = nil
	}
	for k, v := range next {
		update[k] = v
	}
	if _, err := ms.UpdateUserMetadata(ctx, u.ID, update); err != nil {
		return outcome{}, err
	}
	return outcome{done: "metadata-saved", detail: "edit-metadata"}, nil
}

func (r *Recipe) revokeSession(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
	handle := f.Get("handle")
	if handle == "" || len(handle) > 128 {
		return outcome{}, inputError("The form does not say which session.")
	}
	info, err := r.auth.GetSessionInfo(ctx, handle)
	if err != nil {
		return outcome{}, err
	}
	if info.UserID != u.ID {
		return outcome{}, ginauth.NewError(ginauth.ErrNotFound, errors.New("the session belongs to another user"))
	}
	if _, err := r.auth.RevokeSession(ctx, handle); err != nil {
		return outcome{}, err
	}
	return outcome{done: "session-revoked", detail: "revoke-session " + handle}, nil
}

func (r *Recipe) revokeAll(ctx context.Context, u *ginauth.User, _ url.Values) (outcome, error) {
	n, err := r.auth.RevokeAllSessions(ctx, u.ID)
	if err != nil {
		return outcome{}, err
	}
	return outcome{done: "sessions-revoked", detail: fmt.Sprintf("revoke-all-sessions (%d)", n)}, nil
}

func (r *Recipe) passwordReset(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
	pr, ok := r.resetter()
	if !ok {
		return outcome{}, inputError("The emailpassword recipe is not configured.")
	}
	// With several frontends the admin picks the one the link opens; only
	// a listed website origin is taken. Without a choice: the default.
	if w := f.Get("website"); w != "" {
		var err error
		if ctx, err = r.auth.WithWebsiteOrigin(ctx, w); err != nil {
			return outcome{}, inputError("The website is not one of the app's website origins.")
		}
	}
	for _, m := range u.LoginMethods {
		if m.RecipeID != emailpassword.RecipeID {
			continue
		}
		tenant := ginauth.DefaultTenant
		if len(m.TenantIDs) > 0 {
			tenant = m.TenantIDs[0]
		}
		token, err := pr.CreateResetPasswordToken(ctx, tenant, m.RecipeUserID)
		if err != nil {
			return outcome{}, err
		}
		return outcome{resetLink: pr.ResetPasswordLink(ctx, tenant, token), detail: "create-password-reset-link"}, nil
	}
	return outcome{}, inputError("The user has no e-mail and password login.")
}

// verificationInput finds the login method an (un)verify form names.
func verificationInput(u *ginauth.User, f url.Values) (string, string, error) {
	ruid, email := f.Get("ruid"), f.Get("email")
	for _, m := range u.LoginMethods {
		if m.RecipeUserID == ruid && m.Email != "" && strings.EqualFold(m.Email, email) {
			return ruid, m.Email, nil
		}
	}
	return "", "", inputError("The user has no login method with that address.")
}

// setVerified is the action that marks the address of a form verified
// (emailVerifier.MarkVerified) or unverified (emailVerifier.MarkUnverified);
// done and detail name the outcome and the event.
func (r *Recipe) setVerified(mark func(emailVerifier, context.Context, string, string) error, done, detail string) actionRun {
	return func(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
		ev, ok := r.verifier()
		if !ok {
			return outcome{}, inputError("The emailverification recipe is not configured.")
		}
		ruid, email, err := verificationInput(u, f)
		if err != nil {
			return outcome{}, err
		}
		if err := mark(ev, ctx, ruid, email); err != nil {
			return outcome{}, err
		}
		return outcome{done: done, detail: detail}, nil
	}
}

func (r *Recipe) deleteUser(ctx context.Context, u *ginauth.User, _ url.Values) (outcome, error) {
	if _, err := r.auth.DeleteUser(ctx, u.ID); err != nil {
		return outcome{}, err
	}
	return outcome{deleted: true, detail: "delete-user"}, nil
}
