package userroles_test

import (
	"reflect"
	"testing"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
	"github.com/ginauth/ginauth/recipes/kit"
)

// TestDeleteUserLeavesNoRow deletes a user who has roles in two tenants,
// metadata and sessions, then looks in every string column of every
// ginauth table for the user's id.
func TestDeleteUserLeavesNoRow(t *testing.T) {
	h := newHarness(t)
	a := h.auth
	db := kit.Of(a).DB()
	var ids []string
	for range 2 {
		id, _, err := kit.Of(a).CreateUser(ctx, db, "")
		h.must(err)
		ids = append(ids, id)
		_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"p"})
		h.must(err)
		for _, tenant := range []string{"public", "acme"} {
			_, err = h.roles.AddRoleToUser(ctx, tenant, id, "admin")
			h.must(err)
		}
		_, err = h.meta.UpdateUserMetadata(ctx, id, map[string]any{"theme": "dark", "owner": id})
		h.must(err)
		_, _, err = a.CreateSessionTokens(ctx, ginauth.NewSession{UserID: id})
		h.must(err)
	}
	victim, other := ids[0], ids[1]

	count := func(id string) map[string]int64 {
		t.Helper()
		found := map[string]int64{}
		for _, m := range models.All() {
			stmt := &gorm.Statement{DB: db}
			if err := stmt.Parse(m); err != nil {
				t.Fatal(err)
			}
			for _, f := range stmt.Schema.Fields {
				if f.DBName == "" || (f.FieldType.Kind() != reflect.String && f.FieldType != reflect.TypeOf(models.JSONObject{})) {
					continue
				}
				if !db.Migrator().HasTable(stmt.Schema.Table) {
					continue // another recipe's table, not migrated in this database
				}
				var n int64
				q := db.Table(stmt.Schema.Table)
				if f.FieldType.Kind() == reflect.String {
					q = q.Where(db.Statement.Quote(f.DBName)+" = ?", id)
				} else { // JSON: look for the id anywhere in the text
					text := "TEXT"
					if testdb.MySQL(t) {
						text = "CHAR"
					}
					q = q.Where("CAST("+db.Statement.Quote(f.DBName)+" AS "+text+") LIKE ?", "%"+id+"%")
				}
				if err := q.Count(&n).Error; err != nil {
					t.Fatalf("%s.%s: %v", stmt.Schema.Table, f.DBName, err)
				}
				if n > 0 {
					found[stmt.Schema.Table+"."+f.DBName] = n
				}
			}
		}
		return found
	}
	before, beforeOther := count(victim), count(other)
	for _, col := range []string{"ginauth_users.id", "ginauth_user_tenants.user_id", "ginauth_sessions.user_id",
		"ginauth_user_roles.user_id", "ginauth_user_metadata.user_id", "ginauth_user_metadata.metadata"} {
		if before[col] == 0 {
			t.Fatalf("setup: no row in %s (found %v)", col, before)
		}
	}
	existed, err := a.DeleteUser(ctx, victim)
	if err != nil || !existed {
		t.Fatal(existed, err)
	}
	if left := count(victim); len(left) > 0 {
		t.Fatalf("rows left for the deleted user: %v", left)
	}
	if kept := count(other); !reflect.DeepEqual(kept, beforeOther) {
		t.Fatalf("the other user's rows changed: %v, before %v", kept, beforeOther)
	}
	if roles, _ := h.roles.GetRolesForUser(ctx, "acme", other); len(roles) != 1 {
		t.Fatalf("other user's roles: %v", roles)
	}
}
