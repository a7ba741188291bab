package testdb_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/internal/testdb"
	"gorm.io/gorm"
)

type widget struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"uniqueIndex;not null"`
}

func TestOpenRoundTrip(t *testing.T) {
	t.Parallel()
	db := testdb.Open(t)

	if got, want := db.Dialector.Name(), testdb.Dialect(); got != want {
		t.Fatalf("dialector %q, Dialect() %q", got, want)
	}
	if testdb.Postgres(t) != (testdb.Dialect() == testdb.DialectPostgres) {
		t.Fatal("Postgres() disagrees with Dialect()")
	}
	if err := db.AutoMigrate(&widget{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.Create(&widget{Name: "sprocket"}).Error; err != nil {
		t.Fatalf("insert: %v", err)
	}
	var got widget
	if err := db.Where("name = ?", "sprocket").First(&got).Error; err != nil {
		t.Fatalf("select: %v", err)
	}
	if got.ID == 0 || got.Name != "sprocket" {
		t.Fatalf("read back %+v", got)
	}
	// Constraints are enforced on both backends.
	if err := db.Create(&widget{Name: "sprocket"}).Error; err == nil {
		t.Fatal("duplicate insert succeeded; unique index not enforced")
	}
}

func TestOpenIsolated(t *testing.T) {
	t.Parallel()
	a := testdb.Open(t)
	b := testdb.Open(t)

	if err := a.AutoMigrate(&widget{}); err != nil {
		t.Fatalf("migrate a: %v", err)
	}
	if err := a.Create(&widget{Name: "only-in-a"}).Error; err != nil {
		t.Fatalf("insert a: %v", err)
	}
	if b.Migrator().HasTable(&widget{}) {
		t.Fatal("table created in a is visible in b")
	}
	if err := b.AutoMigrate(&widget{}); err != nil {
		t.Fatalf("migrate b: %v", err)
	}
	var n int64
	if err := b.Model(&widget{}).Count(&n).Error; err != nil {
		t.Fatalf("count b: %v", err)
	}
	if n != 0 {
		t.Fatalf("b has %d rows, want 0", n)
	}
}

// TestOpenEveryConnection checks that all pooled connections see the test's
// database (on Postgres: its schema via search_path) and that foreign keys are
// enforced (on SQLite: the foreign_keys pragma on every connection).
func TestOpenEveryConnection(t *testing.T) {
	t.Parallel()
	db := testdb.Open(t)
	type parent struct{ ID uint }
	type child struct {
		ID       uint
		ParentID uint
		Parent   parent `gorm:"constraint:OnDelete:CASCADE"`
	}
	if err := db.AutoMigrate(&parent{}, &child{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		schemas = map[string]bool{}
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Hold a connection each, so the pool has to open several.
			err := db.Transaction(func(tx *gorm.DB) error {
				if testdb.Postgres(t) {
					var s string
					if err := tx.Raw("SELECT current_schema()").Scan(&s).Error; err != nil {
						return err
					}
					mu.Lock()
					schemas[s] = true
					mu.Unlock()
					return tx.Exec("SELECT pg_sleep(0.05)").Error
				}
				if testdb.MySQL(t) {
					return tx.Exec("SELECT SLEEP(0.05)").Error
				}
				var fk int
				if err := tx.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil {
					return err
				}
				if fk != 1 {
					t.Errorf("PRAGMA foreign_keys = %d on a pooled connection", fk)
				}
				return nil
			})
			if err != nil {
				t.Errorf("tx: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()

	if testdb.Postgres(t) {
		if len(schemas) != 1 {
			t.Fatalf("connections saw schemas %v, want exactly one", schemas)
		}
		for s := range schemas {
			if !strings.HasPrefix(s, "t_") {
				t.Fatalf("current_schema %q, want t_<hex>", s)
			}
		}
	}
	if err := db.Create(&child{ParentID: 12345}).Error; err == nil {
		t.Fatal("insert with dangling foreign key succeeded")
	}
}
