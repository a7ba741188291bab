// Package models holds the GORM models behind ginauth: plain structs with
// explicit tags and fixed table names, all prefixed "ginauth_".
//
// The tables live in the application's own database, beside its own data.
// ginauth never migrates behind the application's back: run AutoMigrate (or
// your own migration tool, see docs/migrations.md) before calling ginauth.New.
//
//	db, _ := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	if err := models.AutoMigrate(db); err != nil { ... }
//	// or, with the app's own models:
//	_ = db.AutoMigrate(append(models.All(), &Todo{})...)
//
// This package imports gorm only.
package models
