package usermetadata

import (
	"context"
	"encoding/json"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// RecipeID is the id of the usermetadata recipe.
const RecipeID = "usermetadata"

// DefaultMaxSize is the default cap on one user's metadata, as JSON.
const DefaultMaxSize = 64 << 10

// ErrTooLarge is returned, inside a 400 *ginauth.Error, when an update would
// make a user's metadata larger than Config.MaxSize. Nothing is stored.
// Check it with errors.Is.
var ErrTooLarge = errors.New("usermetadata: metadata too large")

// ErrNotSetUp is returned when the recipe is used before ginauth.New has
// set it up.
var ErrNotSetUp = kit.NotSetUp(RecipeID)

// Config tunes the recipe. The zero value gives the defaults.
type Config struct {
	// MaxSize caps one user's metadata, measured as compact JSON, in bytes.
	// 0 means DefaultMaxSize (64 KiB); a negative value means no cap.
	MaxSize int
}

// Recipe stores free-form JSON metadata per user (preferences, profile
// fields, a Stripe customer id, ...). Create it with New and pass it in
// ginauth.Config.Recipes; its methods work once ginauth.New has returned.
type Recipe struct {
	maxSize int
	db      *gorm.DB
}

// New returns the recipe. At most one Config is read. A Recipe belongs to
// the one Auth that sets it up: build another for another Auth.
func New(cfg ...Config) *Recipe {
	r := &Recipe{maxSize: DefaultMaxSize}
	if len(cfg) > 0 && cfg[0].MaxSize != 0 {
		r.maxSize = cfg[0].MaxSize
	}
	return r
}

// ID returns RecipeID.
func (r *Recipe) ID() string { return RecipeID }

// Setup registers the recipe's table and its part of deleting a user.
func (r *Recipe) Setup(reg *ginauth.Registrar) error {
	r.db = kit.From(reg).DB()
	reg.RequireTables(models.UserMetadataTables()...)
	reg.OnUserDelete(func(ctx context.Context, tx *gorm.DB, userID string) error {
		return ginauth.DBError(tx.WithContext(kit.DBContext(ctx)).Where("user_id = ?", userID).Delete(&models.UserMetadata{}).Error)
	})
	return nil
}

func (r *Recipe) conn(ctx context.Context) (*gorm.DB, error) {
	if r.db == nil {
		return nil, ErrNotSetUp
	}
	return r.db.WithContext(kit.DBContext(ctx)), nil
}

// GetUserMetadata returns a user's metadata: an empty, non-nil map when the
// user has none.
func (r *Recipe) GetUserMetadata(ctx context.Context, userID string) (map[string]any, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	var row models.UserMetadata
	err = db.Where("user_id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	if row.Metadata == nil {
		return map[string]any{}, nil
	}
	return row.Metadata, nil
}

// UpdateUserMetadata merges update into a user's metadata and returns the
// result. The merge is shallow: a top-level key of update replaces the
// stored one, and a nil (JSON null) value removes it; nested objects are
// replaced whole. It runs in one transaction, with the row locked, so that
// concurrent updates of one user do not lose each other's keys. A result
// larger than Config.MaxSize is ErrTooLarge, and nothing changes.
func (r *Recipe) UpdateUserMetadata(ctx context.Context, userID string, update map[string]any) (map[string]any, error) {
	db, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, ginauth.BadRequest("the user id must not be empty")
	}
	// Values must survive a JSON round trip, and PostgreSQL's jsonb
	// refuses NUL characters; find out before touching the database.
	if _, err := json.Marshal(update); err != nil {
		return nil, ginauth.BadRequest("the metadata cannot be encoded as JSON: %v", err)
	}
	if err := kit.CheckJSONValue("the metadata", update); err != nil {
		return nil, err
	}
	var result map[string]any
	err = db.Transaction(func(tx *gorm.DB) error {
		// Write first: it creates the row if needed and, on SQLite, takes
		// the write lock before the read (a read-then-write transaction
		// there fails rather than waits under concurrency). On PostgreSQL
		// the SELECT ... FOR UPDATE below serialises concurrent merges.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&models.UserMetadata{UserID: userID, Metadata: models.JSONObject{}}).Error; err != nil {
			return err
		}
		var row models.UserMetadata
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("user_id = ?", userID).Take(&row).Error; err != nil {
			return err
		}
		merged := map[string]any(row.Metadata)
		if merged == nil {
			merged = map[string]any{}
		}
		for k, v := range update {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		b, err := json.Marshal(merged)
		if err != nil {
			return ginauth.BadRequest("the metadata cannot be encoded as JSON: %v", err)
		}
		if r.maxSize > 0 && len(b) > r.maxSize {
			e := ginauth.BadRequest("the user's metadata would be %d bytes of JSON, over the %d byte limit", len(b), r.maxSize)
			e.Err = ErrTooLarge
			return e
		}
		if len(merged) == 0 {
			// Keep "no metadata" as no row.
			if err := tx.Where("user_id = ?", userID).Delete(&models.UserMetadata{}).Error; err != nil {
				return err
			}
		} else if err := tx.Model(&models.UserMetadata{}).Where("user_id = ?", userID).
			Update("metadata", models.JSONObject(merged)).Error; err != nil {
			return err
		}
		// Return what a later GetUserMetadata returns (numbers as float64,
		// and so on), not the caller's own values.
		result = map[string]any{}
		return json.Unmarshal(b, &result)
	})
	if err != nil {
		return nil, ginauth.DBError(err)
	}
	return result, nil
}

// ClearUserMetadata removes all of a user's metadata.
func (r *Recipe) ClearUserMetadata(ctx context.Context, userID string) error {
	db, err := r.conn(ctx)
	if err != nil {
		return err
	}
	return ginauth.DBError(db.Where("user_id = ?", userID).Delete(&models.UserMetadata{}).Error)
}

// MaxSize returns the configured cap in bytes (negative: none).
func (r *Recipe) MaxSize() int { return r.maxSize }
