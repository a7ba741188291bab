package usermetadata_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/usermetadata"
)

// Store, merge and remove a user's metadata.
func Example() {
	dir, _ := os.MkdirTemp("", "ginauth-example")
	defer os.RemoveAll(dir)
	db, _ := gorm.Open(sqlite.Open(filepath.Join(dir, "app.db")), &gorm.Config{Logger: logger.Discard})
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	_ = models.AutoMigrate(db)

	meta := usermetadata.New()
	_, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "Todos", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{meta},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	m, _ := meta.UpdateUserMetadata(ctx, "user-1", map[string]any{"theme": "dark", "newsletter": true})
	fmt.Println(m)
	// Top-level keys merge; nil removes one.
	m, _ = meta.UpdateUserMetadata(ctx, "user-1", map[string]any{"newsletter": nil, "lang": "en"})
	fmt.Println(m)
	m, _ = meta.GetUserMetadata(ctx, "user-2")
	fmt.Println(m)
	// Output:
	// map[newsletter:true theme:dark]
	// map[lang:en theme:dark]
	// map[]
}
