// Package usermetadata is the user metadata recipe: one free-form JSON
// object per user (preferences, profile fields, ids in other systems) kept
// in the app's database, in a jsonb column on PostgreSQL and a text column
// elsewhere.
//
// Quick start:
//
//	meta := usermetadata.New()
//	_ = ginauth.Init(ginauth.Config{DB: db, AppInfo: info,
//		Recipes: []ginauth.Recipe{emailpassword.New(emailpassword.Config{}), meta}})
//
//	m, err := meta.UpdateUserMetadata(ctx, userID, map[string]any{
//		"theme": "dark",
//		"beta":  nil, // nil removes a key
//	})
//	m, err = meta.GetUserMetadata(ctx, userID) // empty map when there is none
//	err = meta.ClearUserMetadata(ctx, userID)
//
// Updates are shallow merges done in one transaction with the row locked,
// so concurrent updates keep each other's keys. One user's metadata is
// capped (Config.MaxSize, 64 KiB of JSON by default); a larger result is
// ErrTooLarge and changes nothing. Deleting a user (Auth.DeleteUser)
// deletes its metadata. The table (models.UserMetadata) comes with
// models.AutoMigrate.
package usermetadata
