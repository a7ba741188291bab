package dashboard

import (
	"context"
	"net/url"
	"strings"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/recipes/accountlinking"
	"github.com/ginauth/ginauth/recipes/kit"
)

// linker returns the account-linking recipe, when the app configured it.
func (r *Recipe) linker() (*accountlinking.Recipe, bool) {
	return kit.Find[*accountlinking.Recipe](r.auth.Auth, accountlinking.RecipeID)
}

// linkingView is the user page's account-linking card.
type linkingView struct {
	// Primary: the user is a primary user (others may be linked to it).
	Primary bool
	// Linked are the login methods' recipe users other than the primary's
	// own, which may be unlinked.
	Linked []string
}

func linkingOf(u *ginauth.User) *linkingView {
	v := &linkingView{Primary: u.IsPrimaryUser}
	seen := map[string]bool{u.ID: true}
	for _, m := range u.LoginMethods {
		if !seen[m.RecipeUserID] {
			seen[m.RecipeUserID] = true
			v.Linked = append(v.Linked, m.RecipeUserID)
		}
	}
	return v
}

// linkResult turns a conflict status into a message for the admin.
func linkResult(res *accountlinking.Result, err error, done, detail string) (outcome, error) {
	if err != nil {
		return outcome{}, err
	}
	if res.Status != accountlinking.StatusOK {
		msg := strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(res.Status, "_ERROR"), "_", " "))
		if res.Description != "" {
			msg = res.Description
		}
		if res.PrimaryUserID != "" {
			msg += " (primary user " + res.PrimaryUserID + ")"
		}
		return outcome{}, inputError("Not linked: " + msg + ".")
	}
	return outcome{done: done, detail: detail}, nil
}

// makePrimary makes the user a primary user (accountlinking.CreatePrimaryUser).
func (r *Recipe) makePrimary(ctx context.Context, u *ginauth.User, _ url.Values) (outcome, error) {
	al, ok := r.linker()
	if !ok {
		return outcome{}, inputError("Account linking is not configured.")
	}
	res, err := al.CreatePrimaryUser(ctx, u.ID)
	return linkResult(res, err, "made-primary", "make-primary-user")
}

// linkUser links the recipe user the admin entered to this primary user
// (accountlinking.LinkAccounts).
func (r *Recipe) linkUser(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
	al, ok := r.linker()
	if !ok {
		return outcome{}, inputError("Account linking is not configured.")
	}
	other := strings.TrimSpace(f.Get("recipeUserId"))
	if other == "" || len(other) > 128 {
		return outcome{}, inputError("Enter the id of the user to link.")
	}
	res, err := al.LinkAccounts(ctx, other, u.ID)
	return linkResult(res, err, "linked", "link-account "+other)
}

// unlinkUser detaches one of the user's login methods
// (accountlinking.UnlinkAccount).
func (r *Recipe) unlinkUser(ctx context.Context, u *ginauth.User, f url.Values) (outcome, error) {
	al, ok := r.linker()
	if !ok {
		return outcome{}, inputError("Account linking is not configured.")
	}
	ruid := f.Get("ruid")
	found := false
	for _, m := range u.LoginMethods {
		found = found || m.RecipeUserID == ruid
	}
	if !found {
		return outcome{}, inputError("That login method is not this user's.")
	}
	if _, err := al.UnlinkAccount(ctx, ruid); err != nil {
		return outcome{}, err
	}
	return outcome{done: "unlinked", detail: "unlink-account " + ruid}, nil
}
