package kit

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/testdb"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "db error " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"), true},
		{errors.New("Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction"), true},
		{fmt.Errorf("wrapped: %w", sqlStateErr("40P01")), true},
		{sqlStateErr("40001"), true},
		{sqlStateErr("23505"), false},
		{errors.New("Error 1062 (23000): Duplicate entry"), false},
	} {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestIsUniqueViolation checks the detection against a real unique
// violation from the database the tests run on (SQLite, or Postgres with
// GINAUTH_TEST_DATABASE_URL), and that other failures are not taken for one.
func TestIsUniqueViolation(t *testing.T) {
	type item struct {
		ID   uint   `gorm:"primaryKey"`
		Name string `gorm:"uniqueIndex;not null"`
	}
	db := testdb.Open(t)
	if err := db.AutoMigrate(&item{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&item{Name: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	dup := db.Create(&item{Name: "a"}).Error
	if dup == nil {
		t.Fatal("a duplicate insert succeeded")
	}
	if !IsUniqueViolation(dup) {
		t.Fatalf("%s: not recognised as a unique violation: %T %v", testdb.Dialect(), dup, dup)
	}
	if !IsUniqueViolation(ginauth.DBError(dup)) {
		t.Fatal("not recognised inside a ginauth *Error")
	}
	pk := db.Create(&item{ID: 1, Name: "b"}).Error
	if !IsUniqueViolation(pk) {
		t.Fatalf("%s: duplicate primary key not recognised: %T %v", testdb.Dialect(), pk, pk)
	}
	notNull := db.Exec("INSERT INTO items (name) VALUES (NULL)").Error
	if notNull == nil {
		t.Fatal("a NULL name was accepted")
	}
	for _, err := range []error{nil, notNull, errors.New("connection refused"), ginauth.NewError(ginauth.ErrDatabase, nil)} {
		if IsUniqueViolation(err) {
			t.Errorf("%v taken for a unique violation", err)
		}
	}
}
