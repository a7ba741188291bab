package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// TableUserMetadata is the table of the usermetadata recipe.
const TableUserMetadata = "ginauth_user_metadata"

// UserMetadataTables lists the tables the usermetadata recipe needs.
func UserMetadataTables() []string { return []string{TableUserMetadata} }

func init() { register(&UserMetadata{}) }

// UserMetadata holds one user's free-form JSON metadata.
type UserMetadata struct {
	UserID   string     `gorm:"column:user_id;primaryKey;size:64"`
	Metadata JSONObject `gorm:"column:metadata;not null"`
}

// TableName returns TableUserMetadata.
func (UserMetadata) TableName() string { return TableUserMetadata }

// JSONObject is a JSON object stored in one column: jsonb on PostgreSQL,
// longtext on MySQL and MariaDB, text elsewhere. A NULL column reads as an
// empty object. (MariaDB's JSON type is an alias of LONGTEXT that GORM's
// migrator does not recognise, so declaring JSON there would make every
// AutoMigrate rebuild the table; MySQL's JSON functions work on text too.)
type JSONObject map[string]any

// GormDataType returns the generic data type, "json".
func (JSONObject) GormDataType() string { return "json" }

// GormDBDataType returns the column type for the database's dialect.
func (JSONObject) GormDBDataType(db *gorm.DB, _ *schema.Field) string {
	switch db.Dialector.Name() {
	case "postgres":
		return "jsonb"
	case "mysql":
		return "longtext"
	}
	return "text"
}

// Value encodes the object as JSON text ("{}" for nil).
func (j JSONObject) Value() (driver.Value, error) {
	if j == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(j))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan decodes JSON text or bytes from the database.
func (j *JSONObject) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*j = JSONObject{}
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("models: cannot scan %T into JSONObject", src)
	}
	m := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("models: JSONObject: %w", err)
		}
	}
	if m == nil { // the JSON text "null"
		m = map[string]any{}
	}
	*j = m
	return nil
}
