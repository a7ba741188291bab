package ginauth

import (
	"errors"
	"fmt"
	"testing"
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
