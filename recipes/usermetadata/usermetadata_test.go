package usermetadata_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/usermetadata"
)

var ctx = context.Background()

func setup(t *testing.T, cfg ...usermetadata.Config) (*ginauth.Auth, *usermetadata.Recipe) {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	r := usermetadata.New(cfg...)
	a, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "test", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: []ginauth.Recipe{r},
		Now:     func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Session: ginauth.SessionConfig{SigningAlgorithm: "ES256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

func obj(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

func TestMerge(t *testing.T) {
	_, r := setup(t)
	steps := []struct {
		name   string
		update map[string]any
		want   string
	}{
		{"first update creates", map[string]any{"theme": "dark", "n": 1, "prefs": map[string]any{"a": 1, "b": 2}}, `{"theme":"dark","n":1,"prefs":{"a":1,"b":2}}`},
		{"shallow merge replaces nested objects whole", map[string]any{"prefs": map[string]any{"c": 3}}, `{"theme":"dark","n":1,"prefs":{"c":3}}`},
		{"null removes a key", map[string]any{"n": nil, "lang": "hu"}, `{"theme":"dark","prefs":{"c":3},"lang":"hu"}`},
		{"removing an absent key is fine", map[string]any{"ghost": nil}, `{"theme":"dark","prefs":{"c":3},"lang":"hu"}`},
		{"empty update changes nothing", map[string]any{}, `{"theme":"dark","prefs":{"c":3},"lang":"hu"}`},
		{"arrays, unicode and SQL-looking strings", map[string]any{"tags": []string{"a", "ű"}, "q": "'; DROP TABLE x; --"},
			`{"theme":"dark","prefs":{"c":3},"lang":"hu","tags":["a","ű"],"q":"'; DROP TABLE x; --"}`},
		{"removing every key", map[string]any{"theme": nil, "prefs": nil, "lang": nil, "tags": nil, "q": nil}, `{}`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := r.UpdateUserMetadata(ctx, "u1", s.update)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, obj(s.want)) {
				t.Fatalf("update returned %v, want %s", got, s.want)
			}
			stored, err := r.GetUserMetadata(ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stored, obj(s.want)) {
				t.Fatalf("stored %v, want %s", stored, s.want)
			}
		})
	}
	t.Run("none is an empty map", func(t *testing.T) {
		m, err := r.GetUserMetadata(ctx, "nobody")
		if err != nil || m == nil || len(m) != 0 {
			t.Fatal(m, err)
		}
	})
	t.Run("clear", func(t *testing.T) {
		if _, err := r.UpdateUserMetadata(ctx, "u2", map[string]any{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		if err := r.ClearUserMetadata(ctx, "u2"); err != nil {
			t.Fatal(err)
		}
		if err := r.ClearUserMetadata(ctx, "u2"); err != nil {
			t.Fatal("clearing twice:", err)
		}
		if m, err := r.GetUserMetadata(ctx, "u2"); err != nil || len(m) != 0 {
			t.Fatal(m, err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		if _, err := r.UpdateUserMetadata(ctx, "", map[string]any{"k": 1}); !errors.Is(err, ginauth.ErrBadRequest) {
			t.Fatal(err)
		}
		if _, err := r.UpdateUserMetadata(ctx, "u3", map[string]any{"f": func() {}}); !errors.Is(err, ginauth.ErrBadRequest) {
			t.Fatal(err)
		}
	})
}

func TestSizeCap(t *testing.T) {
	cases := []struct {
		name    string
		cfg     usermetadata.Config
		fits    int // bytes of the value that must fit
		tooBig  int // bytes that must not; 0 skips
		limitIs int
	}{
		{"default 64 KiB", usermetadata.Config{}, 60 << 10, 64 << 10, usermetadata.DefaultMaxSize},
		{"custom", usermetadata.Config{MaxSize: 100}, 80, 100, 100},
		{"no cap", usermetadata.Config{MaxSize: -1}, 200 << 10, 0, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, r := setup(t, tc.cfg)
			if r.MaxSize() != tc.limitIs {
				t.Fatalf("MaxSize %d", r.MaxSize())
			}
			if _, err := r.UpdateUserMetadata(ctx, "u", map[string]any{"a": strings.Repeat("x", tc.fits)}); err != nil {
				t.Fatal(err)
			}
			if tc.tooBig == 0 {
				return
			}
			_, err := r.UpdateUserMetadata(ctx, "u", map[string]any{"b": strings.Repeat("y", tc.tooBig)})
			if !errors.Is(err, usermetadata.ErrTooLarge) || !errors.Is(err, ginauth.ErrBadRequest) {
				t.Fatalf("err %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "limit") {
				t.Fatalf("unclear error: %v", err)
			}
			m, err := r.GetUserMetadata(ctx, "u")
			if err != nil || len(m) != 1 || m["b"] != nil {
				t.Fatalf("a refused update changed the metadata: %d keys, %v", len(m), err)
			}
			// A new user's refused update leaves no row either.
			if _, err := r.UpdateUserMetadata(ctx, "v", map[string]any{"b": strings.Repeat("y", tc.tooBig)}); !errors.Is(err, usermetadata.ErrTooLarge) {
				t.Fatal(err)
			}
			if m, _ := r.GetUserMetadata(ctx, "v"); len(m) != 0 {
				t.Fatal("row left behind")
			}
		})
	}
}

// TestConcurrentUpdates: 20 goroutines each add their own key to one user;
// with the row locked per merge, none is lost.
func TestConcurrentUpdates(t *testing.T) {
	_, r := setup(t)
	const n = 20
	errc := make(chan error, n)
	ginauthtest.Burst(n, func(i int) {
		if _, err := r.UpdateUserMetadata(ctx, "u", map[string]any{fmt.Sprintf("k%02d", i): i}); err != nil {
			errc <- err
		}
	})
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	m, err := r.GetUserMetadata(ctx, "u")
	if err != nil || len(m) != n {
		t.Fatalf("%d keys, want %d: %v", len(m), n, err)
	}
}

func TestColumnType(t *testing.T) {
	a, r := setup(t)
	if _, err := r.UpdateUserMetadata(ctx, "u", map[string]any{"plan": "pro", "seats": 3}); err != nil {
		t.Fatal(err)
	}
	db := kit.Of(a).DB()
	if testdb.MySQL(t) {
		// longtext holding JSON: MySQL's JSON functions work on it, so apps
		// can query metadata in SQL.
		var typ string
		if err := db.Raw("SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'metadata'",
			models.TableUserMetadata).Scan(&typ).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(typ, "longtext") {
			t.Fatalf("MySQL column type %q, want longtext", typ)
		}
		var plan string
		if err := db.Raw("SELECT JSON_UNQUOTE(JSON_EXTRACT(metadata, '$.plan')) FROM "+models.TableUserMetadata+
			" WHERE JSON_CONTAINS(metadata, ?)", `{"seats":3}`).Scan(&plan).Error; err != nil {
			t.Fatal(err)
		}
		if plan != "pro" {
			t.Fatalf("JSON query gave %q", plan)
		}
		return
	}
	if !testdb.Postgres(t) {
		var typ string
		if err := db.Raw("SELECT type FROM pragma_table_info(?) WHERE name = 'metadata'", models.TableUserMetadata).Scan(&typ).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(typ, "text") {
			t.Fatalf("SQLite column type %q, want text", typ)
		}
		return
	}
	var typ string
	if err := db.Raw("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'metadata'",
		models.TableUserMetadata).Scan(&typ).Error; err != nil {
		t.Fatal(err)
	}
	if typ != "jsonb" {
		t.Fatalf("Postgres column type %q, want jsonb", typ)
	}
	// jsonb operators work on it: apps can query metadata in SQL.
	var plan string
	if err := db.Raw("SELECT metadata->>'plan' FROM "+models.TableUserMetadata+" WHERE metadata @> ?::jsonb", `{"seats":3}`).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	if plan != "pro" {
		t.Fatalf("jsonb query gave %q", plan)
	}
}

func TestNotSetUp(t *testing.T) {
	r := usermetadata.New()
	if _, err := r.GetUserMetadata(ctx, "u"); !errors.Is(err, usermetadata.ErrNotSetUp) {
		t.Fatal(err)
	}
	if _, err := r.UpdateUserMetadata(ctx, "u", nil); !errors.Is(err, usermetadata.ErrNotSetUp) {
		t.Fatal(err)
	}
}

func TestMissingTable(t *testing.T) {
	db := testdb.Open(t)
	if err := db.AutoMigrate(&models.User{}, &models.UserTenant{}, &models.Session{}, &models.SigningKey{}); err != nil {
		t.Fatal(err)
	}
	_, err := ginauth.New(ginauth.Config{DB: db, Recipes: []ginauth.Recipe{usermetadata.New()},
		AppInfo: ginauth.AppInfo{AppName: "t", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"}})
	if !errors.Is(err, ginauth.ErrMissingTables) || !strings.Contains(err.Error(), models.TableUserMetadata) {
		t.Fatal(err)
	}
}
