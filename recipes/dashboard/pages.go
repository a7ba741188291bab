package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/multitenancy"
)

// The recipes the dashboard works with, found through Auth.Recipe and
// used through these interfaces, so that it shows what is configured and
// nothing else.
type (
	roleStore interface {
		GetAllRoles(ctx context.Context) ([]string, error)
		GetRolesForUser(ctx context.Context, tenantID, userID string) ([]string, error)
		AddRoleToUser(ctx context.Context, tenantID, userID, role string) (bool, error)
		RemoveUserRole(ctx context.Context, tenantID, userID, role string) (bool, error)
	}
	metadataStore interface {
		GetUserMetadata(ctx context.Context, userID string) (map[string]any, error)
		UpdateUserMetadata(ctx context.Context, userID string, update map[string]any) (map[string]any, error)
	}
	emailVerifier interface {
		IsVerified(ctx context.Context, userID, email string) (bool, error)
		MarkVerified(ctx context.Context, userID, email string) error
		MarkUnverified(ctx context.Context, userID, email string) error
	}
	passwordResetter interface {
		CreateResetPasswordToken(ctx context.Context, tenantID, userID string) (string, error)
		ResetPasswordLink(ctx context.Context, tenantID, token string) string
	}
	tenantLister interface {
		ListTenants(ctx context.Context) ([]multitenancy.Tenant, error)
	}
)

func (r *Recipe) roles() (roleStore, bool) { return kit.Find[roleStore](r.auth.Auth, "userroles") }
func (r *Recipe) metadata() (metadataStore, bool) {
	return kit.Find[metadataStore](r.auth.Auth, "usermetadata")
}
func (r *Recipe) verifier() (emailVerifier, bool) {
	return kit.Find[emailVerifier](r.auth.Auth, "emailverification")
}
func (r *Recipe) resetter() (passwordResetter, bool) {
	return kit.Find[passwordResetter](r.auth.Auth, "emailpassword")
}

// listView is the user list.
type listView struct {
	Email         string
	Tenant        string
	Oldest        bool
	Filtered      bool
	Total         int64
	Tenants       []tenantCount
	TenantOptions []tenantCount
	Users         []userRow
	Page          int
	First, Next   string
}

type tenantCount struct {
	ID    string
	Count int64
	Link  string
	On    bool
}

type userRow struct {
	ID, Link, Primary, Joined string
	Methods                   []methodBadge
	Tenants                   []string
}

type methodBadge struct {
	Name     string
	Verified bool
}

// maxTenantsShown bounds the per-tenant counts on the list page.
const maxTenantsShown = 50

// handleList serves GET <base>/dashboard: a page of users, newest first
// unless ?order=oldest, filtered by ?email= and ?tenant=, continued with
// ?page=<token>.
func (r *Recipe) handleList(c *gin.Context, adm *admin) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	v := &listView{Email: strings.TrimSpace(q.Get("email")), Tenant: strings.TrimSpace(q.Get("tenant")),
		Oldest: q.Get("order") == "oldest", Page: 1}
	if len(v.Email) > 256 || len(v.Tenant) > 64 {
		r.message(c, http.StatusBadRequest, "Bad request", "The search is too long.")
		return
	}
	v.Filtered = v.Email != "" || v.Tenant != "" || v.Oldest
	if p, err := strconv.Atoi(q.Get("p")); err == nil && p > 1 && p < 1e6 {
		v.Page = p
	}
	token := q.Get("page")
	if token == "" {
		v.Page = 1
	}
	users, next, err := r.auth.ListUsers(ctx, ginauth.ListUsersOptions{Limit: r.cfg.PageSize, PaginationToken: token,
		Newest: !v.Oldest, TenantID: v.Tenant, Email: v.Email})
	if err != nil {
		r.fail(c, err)
		return
	}
	if v.Total, err = r.auth.CountUsers(ctx, ""); err != nil {
		r.fail(c, err)
		return
	}
	counts, err := r.tenantCounts(ctx)
	if err != nil {
		r.fail(c, err)
		return
	}
	link := func(extra url.Values) string {
		vals := url.Values{}
		if v.Email != "" {
			vals.Set("email", v.Email)
		}
		if v.Tenant != "" {
			vals.Set("tenant", v.Tenant)
		}
		if v.Oldest {
			vals.Set("order", "oldest")
		}
		for k, x := range extra {
			vals[k] = x
		}
		if len(vals) == 0 {
			return r.base
		}
		return r.base + "?" + vals.Encode()
	}
	for _, t := range counts {
		t.On = t.ID == v.Tenant
		t.Link = r.base + "?" + url.Values{"tenant": {t.ID}}.Encode()
		v.TenantOptions = append(v.TenantOptions, t)
		if len(v.Tenants) < maxTenantsShown {
			v.Tenants = append(v.Tenants, t)
		}
	}
	if len(counts) == 1 && counts[0].ID == ginauth.DefaultTenant && v.Tenant == "" {
		v.Tenants, v.TenantOptions = nil, nil // one tenant: the total says it all
	}
	if next != "" {
		v.Next = link(url.Values{"page": {next}, "p": {strconv.Itoa(v.Page + 1)}})
	}
	if token != "" {
		v.First = link(nil)
	}
	for i := range users {
		v.Users = append(v.Users, r.row(&users[i]))
	}
	d := r.data(adm, "Users")
	d.List = v
	if c.Query("done") == "deleted" {
		d.Notice = "The user was deleted."
	}
	r.render(c, http.StatusOK, "list", d)
}

// tenantCounts returns how many users each tenant has, the tenants with
// none included when the multitenancy recipe lists them; public first.
func (r *Recipe) tenantCounts(ctx context.Context) ([]tenantCount, error) {
	var rows []struct {
		TenantID string
		N        int64
	}
	err := r.auth.DB().WithContext(kit.DBContext(ctx)).Model(&models.UserTenant{}).
		Select("tenant_id, COUNT(*) AS n").Group("tenant_id").Order("tenant_id").Limit(1000).Scan(&rows).Error
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	byID := map[string]int64{ginauth.DefaultTenant: 0}
	for _, row := range rows {
		byID[row.TenantID] = row.N
	}
	if mt, ok := kit.Find[tenantLister](r.auth.Auth, multitenancy.RecipeID); ok {
		tenants, err := mt.ListTenants(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range tenants {
			if _, ok := byID[t.ID]; !ok {
				byID[t.ID] = 0
			}
		}
	}
	out := make([]tenantCount, 0, len(byID))
	for id, n := range byID {
		out = append(out, tenantCount{ID: id, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].ID == ginauth.DefaultTenant) != (out[j].ID == ginauth.DefaultTenant) {
			return out[i].ID == ginauth.DefaultTenant
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (r *Recipe) userLink(id string) string {
	return r.base + "/user?" + url.Values{"id": {id}}.Encode()
}

// primary is the name a user is shown by.
func primary(u *ginauth.User) string {
	switch {
	case len(u.Emails) > 0:
		return u.Emails[0]
	case len(u.PhoneNumbers) > 0:
		return u.PhoneNumbers[0]
	case len(u.ThirdParty) > 0:
		return u.ThirdParty[0].ID + " user"
	}
	return "(no e-mail)"
}

func (r *Recipe) row(u *ginauth.User) userRow {
	row := userRow{ID: u.ID, Link: r.userLink(u.ID), Primary: primary(u), Joined: whenMilli(u.TimeJoined), Tenants: u.TenantIDs}
	for _, m := range u.LoginMethods {
		name := m.RecipeID
		if m.ThirdParty != nil {
			name += " · " + m.ThirdParty.ID
		}
		row.Methods = append(row.Methods, methodBadge{Name: name, Verified: m.Verified && (m.Email != "" || m.PhoneNumber != "")})
	}
	return row
}

// userView is the user detail page.
type userView struct {
	ID, Primary, Joined string
	Tenants             []string
	Emails, Phones      []string
	Methods             []methodRow
	// Linking is set when account linking is configured.
	Linking      *linkingView
	Verification []verificationRow
	Roles        *rolesView
	Metadata     *metadataView
	Sessions     []sessionRow
	CanReset     bool
	ResetLink    string
	// Websites are the website origins a reset link may be made for, when
	// the app has several frontends (AppInfo.WebsiteOrigins); the first is
	// the default.
	Websites []string
}

type methodRow struct {
	Recipe, Identity, Email, Joined string
	Tenants                         []string
	Verified                        bool
}

type verificationRow struct {
	RecipeUserID, Email string
	Verified            bool
}

type rolesView struct {
	Assigned []assignedRole
	All      []string
}

type assignedRole struct{ Tenant, Role string }

type metadataView struct {
	Text string
	Rows int
}

type sessionRow struct {
	Handle, Short, Tenant, Created, Expires string
}

// handleUser serves GET <base>/dashboard/user?id=<user id>.
func (r *Recipe) handleUser(c *gin.Context, adm *admin) {
	d := r.data(adm, "User")
	if n, ok := notices[c.Query("done")]; ok {
		d.Notice = n
	}
	r.showUser(c, d, c.Query("id"), http.StatusOK, nil)
}

// notices are the outcomes a successful action redirects with; only these
// fixed sentences are shown, never text from the query.
var notices = map[string]string{
	"role-added":       "The role was added.",
	"role-removed":     "The role was removed.",
	"metadata-saved":   "The metadata was saved.",
	"session-revoked":  "The session was revoked.",
	"sessions-revoked": "All sessions were revoked.",
	"verified":         "The address is now marked verified.",
	"unverified":       "The address is now marked unverified.",
	"made-primary":     "The user is now a primary user.",
	"linked":           "The login method was linked.",
	"unlinked":         "The login method was unlinked.",
}

// showUser renders the detail page of userID into d. metaText, when not
// nil, replaces the stored metadata in the editor (to keep an admin's
// rejected edit).
func (r *Recipe) showUser(c *gin.Context, d *pageData, userID string, status int, metaText *string) {
	u, ok := r.findUser(c, userID, "Say which user: ?id=<user id>.")
	if !ok {
		return
	}
	v, err := r.userView(c.Request.Context(), u)
	if err != nil {
		r.fail(c, err)
		return
	}
	if metaText != nil && v.Metadata != nil {
		v.Metadata.Text = *metaText
	}
	if d.User != nil { // a reset link made by the request
		v.ResetLink = d.User.ResetLink
	}
	d.Title, d.User = v.Primary, v
	r.render(c, status, "user", d)
}

// findUser fetches the user id names, or answers and reports false: a 400
// saying noID when id is missing or too long, a 404 when there is no such
// user, an error page when the lookup fails.
func (r *Recipe) findUser(c *gin.Context, id, noID string) (*ginauth.User, bool) {
	if id == "" || len(id) > 128 {
		r.message(c, http.StatusBadRequest, "Bad request", noID)
		return nil, false
	}
	u, err := r.auth.GetUser(c.Request.Context(), id)
	if errors.Is(err, ginauth.ErrNotFound) {
		r.message(c, http.StatusNotFound, "Not found", "There is no user with this id.")
		return nil, false
	}
	if err != nil {
		r.fail(c, err)
		return nil, false
	}
	return u, true
}

func (r *Recipe) userView(ctx context.Context, u *ginauth.User) (*userView, error) {
	v := &userView{ID: u.ID, Primary: primary(u), Joined: whenMilli(u.TimeJoined), Tenants: u.TenantIDs,
		Emails: u.Emails, Phones: u.PhoneNumbers}
	if _, ok := r.linker(); ok {
		v.Linking = linkingOf(u)
	}
	ev, hasEV := r.verifier()
	seen := map[string]bool{}
	for _, m := range u.LoginMethods {
		row := methodRow{Recipe: m.RecipeID, Email: m.Email, Tenants: m.TenantIDs, Joined: whenMilli(m.TimeJoined), Verified: m.Verified}
		switch {
		case m.Email != "":
			row.Identity = m.Email
		case m.PhoneNumber != "":
			row.Identity = m.PhoneNumber
		}
		if m.ThirdParty != nil {
			row.Identity = strings.TrimSpace(row.Identity + " (" + m.ThirdParty.ID + ")")
		}
		v.Methods = append(v.Methods, row)
		if m.RecipeID == "emailpassword" {
			_, v.CanReset = r.resetter()
			if ws := r.auth.WebsiteOrigins(); v.CanReset && len(ws) > 1 {
				v.Websites = ws
			}
		}
		if hasEV && m.Email != "" && !seen[m.RecipeUserID+"\x00"+m.Email] {
			seen[m.RecipeUserID+"\x00"+m.Email] = true
			ok, err := ev.IsVerified(ctx, m.RecipeUserID, m.Email)
			if err != nil {
				return nil, err
			}
			v.Verification = append(v.Verification, verificationRow{RecipeUserID: m.RecipeUserID, Email: m.Email, Verified: ok})
		}
	}
	if rs, ok := r.roles(); ok {
		rv := &rolesView{}
		for _, t := range u.TenantIDs {
			roles, err := rs.GetRolesForUser(ctx, t, u.ID)
			if err != nil {
				return nil, err
			}
			for _, role := range roles {
				rv.Assigned = append(rv.Assigned, assignedRole{Tenant: t, Role: role})
			}
		}
		all, err := rs.GetAllRoles(ctx)
		if err != nil {
			return nil, err
		}
		rv.All = all
		v.Roles = rv
	}
	if ms, ok := r.metadata(); ok {
		m, err := ms.GetUserMetadata(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		text := prettyJSON(m)
		v.Metadata = &metadataView{Text: text, Rows: min(max(strings.Count(text, "\n")+2, 4), 24)}
	}
	sessions, err := r.auth.ListSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		short := s.Handle
		if len(short) > 12 {
			short = short[:8] + "…"
		}
		v.Sessions = append(v.Sessions, sessionRow{Handle: s.Handle, Short: short, Tenant: s.TenantID,
			Created: when(s.CreatedAt), Expires: when(s.ExpiresAt)})
	}
	return v, nil
}

// prettyJSON indents a metadata object for the editor, leaving <, > and &
// as they are: the template escapes them for the page.
func prettyJSON(m map[string]any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return "{}"
	}
	return strings.TrimSpace(buf.String())
}
