package emailpassword_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/emailpassword"
)

// Example signs a user up and in through the Go API, on an SQLite database
// in a temporary directory, with the default (OWASP) hash parameters.
func Example() {
	dir, _ := os.MkdirTemp("", "ginauth-example")
	defer os.RemoveAll(dir)
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}
	if err := models.AutoMigrate(db); err != nil {
		panic(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()

	ep := emailpassword.New(emailpassword.Config{})
	_, err = ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Demo", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{ep},
		Logger:  slog.New(slog.DiscardHandler),
		Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA"},
	})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	user, err := ep.SignUp(ctx, "", " Ann@Example.com", "correct-horse-1")
	if err != nil {
		panic(err)
	}
	fmt.Println("signed up:", user.Emails[0], user.LoginMethods[0].RecipeID)

	again, err := ep.SignIn(ctx, "", "ann@example.com", "correct-horse-1")
	fmt.Println("signed in:", err == nil && again.ID == user.ID)

	_, err = ep.SignIn(ctx, "", "ann@example.com", "wrong-horse-1")
	fmt.Println("wrong password:", errors.Is(err, emailpassword.ErrWrongCredentials))

	_, err = ep.SignUp(ctx, "", "ann@example.com", "another-pw-2")
	fmt.Println("twice:", err)
	// Output:
	// signed up: ann@example.com emailpassword
	// signed in: true
	// wrong password: true
	// twice: emailpassword: this email already exists
}

// ExampleHashPassword prepares a hash for importing a user.
func ExampleHashPassword() {
	hash, err := emailpassword.HashPassword("correct-horse-1", emailpassword.Argon2Params{})
	if err != nil {
		panic(err)
	}
	fmt.Println(hash[:31])
	fmt.Println(emailpassword.NeedsRehash(hash, emailpassword.DefaultArgon2Params()))
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1$
	// false
}

// ExampleFormField adds a required "name" field to the sign-up form and
// hands its value to a hook.
func ExampleFormField() {
	cfg := emailpassword.Config{
		SignUpFields: []emailpassword.FormField{{
			ID: "name",
			Validate: func(_ context.Context, v any, _ string) string {
				if s, ok := v.(string); !ok || len(s) > 100 {
					return "Please give a name of up to 100 characters"
				}
				return ""
			},
		}},
		Hooks: emailpassword.Hooks{
			AfterSignUp: func(ctx context.Context, u *ginauth.User, fields map[string]any) error {
				fmt.Println("store the name", fields["name"], "for", u.ID)
				return nil
			},
		},
	}
	_ = emailpassword.New(cfg)
	fmt.Println("configured")
	// Output: configured
}
