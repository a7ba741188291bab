package passwordless_test

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
	"github.com/ginauth/ginauth/recipes/passwordless"
)

// Example signs a user in with a code through the Go API, on an SQLite
// database in a temporary directory. Over HTTP, the frontend SDKs drive
// the same steps through POST /signinup/code and /signinup/code/consume.
func Example() {
	dir, _ := os.MkdirTemp("", "ginauth-example")
	defer os.RemoveAll(dir)
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	if err := models.AutoMigrate(db); err != nil {
		panic(err)
	}

	pl := passwordless.New(passwordless.Config{ContactMethod: passwordless.ContactEmailOrPhone})
	_, err = ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Demo", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{pl},
		Logger:  slog.New(slog.DiscardHandler),
		Session: ginauth.SessionConfig{SigningAlgorithm: "EdDSA"},
	})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	code, err := pl.CreateCode(ctx, "", passwordless.EmailContact(" Ann@Example.com"))
	if err != nil {
		panic(err)
	}
	fmt.Println("digits:", len(code.UserInputCode))

	_, err = pl.ConsumeCode(ctx, "", passwordless.ConsumeInput{
		PreAuthSessionID: code.PreAuthSessionID, DeviceID: code.DeviceID, UserInputCode: "not-it"})
	fmt.Println("wrong code:", err)

	res, err := pl.ConsumeCode(ctx, "", passwordless.ConsumeInput{
		PreAuthSessionID: code.PreAuthSessionID, DeviceID: code.DeviceID, UserInputCode: code.UserInputCode})
	if err != nil {
		panic(err)
	}
	fmt.Println("signed in:", res.User.Emails[0], res.CreatedNewRecipeUser, res.Factor)

	_, err = pl.ConsumeCode(ctx, "", passwordless.ConsumeInput{
		PreAuthSessionID: code.PreAuthSessionID, DeviceID: code.DeviceID, UserInputCode: code.UserInputCode})
	fmt.Println("used again:", errors.Is(err, passwordless.ErrRestartFlow))

	_, err = pl.CreateCode(ctx, "", passwordless.PhoneContact("555-0123"))
	fmt.Println(err)
	// Output:
	// digits: 6
	// wrong code: passwordless: incorrect user input code (1 of 5 attempts)
	// signed in: ann@example.com true otp-email
	// used again: true
	// passwordless: Phone number is invalid: enter it in international format, with + and the country code (e.g. +14155550123)
}

// ExampleRecipe_MagicLink shows the link format the frontend SDKs expect.
func ExampleRecipe_MagicLink() {
	dir, _ := os.MkdirTemp("", "ginauth-example")
	defer os.RemoveAll(dir)
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		panic(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}()
	if err := models.AutoMigrate(db); err != nil {
		panic(err)
	}
	pl := passwordless.New(passwordless.Config{})
	_, err = ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Demo", APIDomain: "https://api.example.com", WebsiteDomain: "https://example.com", WebsiteBasePath: "/login"},
		Recipes: []ginauth.Recipe{pl},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(pl.MagicLink(context.Background(), "public", "PRE", "LINKCODE"))
	// Output:
	// https://example.com/login/verify?preAuthSessionId=PRE&tenantId=public#LINKCODE
}

// ExampleSMSSenderFunc plugs an SMS provider in.
func ExampleSMSSenderFunc() {
	sender := passwordless.SMSSenderFunc(func(ctx context.Context, sms passwordless.SMS) error {
		// Call your provider's API here with sms.To and sms.Body.
		fmt.Println("to", sms.To, "body", sms.Body)
		return nil
	})
	_ = sender.Send(context.Background(), passwordless.SMS{To: "+14155550123", Body: "123456 is your sign-in code."})
	fmt.Println(passwordless.SMS{To: "+14155550123", Code: "123456"})
	// Output:
	// to +14155550123 body 123456 is your sign-in code.
	// SMS{To:+14155550123 Body:[redacted]}
}
