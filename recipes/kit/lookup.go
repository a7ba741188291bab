package kit

import (
	"context"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
)

// EmailLookup returns the ginauth.EmailLookupFunc of a recipe whose model
// (a pointer to a GORM model, e.g. &models.PasswordlessUser{}) has a
// user_id column and an email column holding addresses normalised with
// ginauth.NormaliseEmail. Register it with Registrar.AddEmailLookup so
// that ListUsers' Email filter finds the recipe's users, in any tenant.
func EmailLookup(model any) ginauth.EmailLookupFunc {
	return func(ctx context.Context, db *gorm.DB, email string) ([]string, error) {
		var ids []string
		err := db.WithContext(DBContext(ctx)).Model(model).
			Where("email = ?", ginauth.NormaliseEmail(email)).Pluck("user_id", &ids).Error
		return ids, err
	}
}
