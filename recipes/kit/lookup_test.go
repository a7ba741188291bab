package kit

import (
	"slices"
	"testing"

	"github.com/ginauth/ginauth/internal/testdb"
)

// TestEmailLookup: the lookup normalises the address it is asked for (the
// rows hold normalised ones) and returns every matching user, in any
// tenant; a database failure comes back as an error, not an empty list.
func TestEmailLookup(t *testing.T) {
	type account struct {
		UserID   string `gorm:"primaryKey"`
		TenantID string
		Email    string
	}
	db := testdb.Open(t)
	if err := db.AutoMigrate(&account{}); err != nil {
		t.Fatal(err)
	}
	db.Create(&[]account{{"u1", "public", "ann@example.com"}, {"u2", "acme", "ann@example.com"}, {"u3", "public", "bob@example.com"}})
	find := EmailLookup(&account{})
	ids, err := find(t.Context(), db, "  ANN@Example.com ")
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"u1", "u2"}) {
		t.Fatalf("ids %v, %v", ids, err)
	}
	if ids, err := find(t.Context(), db, "nobody@example.com"); err != nil || len(ids) != 0 {
		t.Fatalf("unknown address: %v, %v", ids, err)
	}
	if err := db.Migrator().DropTable(&account{}); err != nil {
		t.Fatal(err)
	}
	if _, err := find(t.Context(), db, "ann@example.com"); err == nil {
		t.Fatal("a missing table gave no error")
	}
}
