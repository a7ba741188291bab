package ginauth

import "context"

type recipeUserKey struct{}

// withRecipeUser returns ctx carrying the recipe user id of the session a
// claim is fetched for.
func withRecipeUser(ctx context.Context, recipeUserID string) context.Context {
	return context.WithValue(ctx, recipeUserKey{}, recipeUserID)
}

// ClaimRecipeUserID returns the recipe user id of the session whose claims
// are being fetched (Session.RecipeUserID: the login method it signed in
// with), or "" outside a claim fetch. Claim fetch functions receive the
// session's user id, which with account linking is the primary user's; a
// claim that belongs to the login method, as st-ev does in SuperTokens,
// reads this instead.
func ClaimRecipeUserID(ctx context.Context) string {
	id, _ := ctx.Value(recipeUserKey{}).(string)
	return id
}
