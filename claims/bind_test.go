package claims

import (
	"context"
	"testing"
	"time"
)

type ctxKey struct{}

// binder is a validator that, bound, checks the value the context holds.
type binder struct{ Validator }

func (b binder) Bind(ctx context.Context) Validator {
	want, _ := ctx.Value(ctxKey{}).(bool)
	return Custom("bound", nil, nil, func(p Payload, _ time.Time) *ValidationError {
		if p["x"] != want {
			return &ValidationError{Reason: map[string]any{"message": "wrong"}}
		}
		return nil
	})
}

func TestBind(t *testing.T) {
	plain := Custom("plain", nil, nil, nil)
	vs := []Validator{plain, plain}
	if got := Bind(context.Background(), vs); &got[0] != &vs[0] {
		t.Fatal("Bind copied a list without Binders")
	}
	b := binder{Validator: Custom("unbound", nil, nil, nil)}
	vs = []Validator{plain, b, plain}
	ctx := context.WithValue(context.Background(), ctxKey{}, true)
	got := Bind(ctx, vs)
	if len(got) != 3 || got[0] != plain || got[2] != plain || got[1].ID() != "bound" {
		t.Fatalf("Bind: %v", got)
	}
	if vs[1].ID() != "unbound" {
		t.Fatal("Bind changed its argument")
	}
	if errs := Check(Payload{"x": true}, got, time.Now()); len(errs) != 0 {
		t.Fatalf("bound validator: %v", errs)
	}
	if errs := Check(Payload{"x": false}, got, time.Now()); len(errs) != 1 {
		t.Fatalf("bound validator on a wrong value: %v", errs)
	}
}
