package claims

import (
	"testing"
	"time"
)

func TestBoolean(t *testing.T) {
	b := NewBoolean("st-ev", fixed(true, true, nil)).WithDefaultMaxAge(time.Minute)
	var _ *Boolean = b // WithDefaultMaxAge keeps the concrete type

	p, err := b.Build(ctx, "u1", "public", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, p), `{"st-ev":{"t":1700000000000,"v":true}}`; got != want {
		t.Errorf("Build = %s, want %s", got, want)
	}
	if got, want := mustJSON(t, b.Remove()), `{"st-ev":null}`; got != want {
		t.Errorf("Remove = %s, want %s", got, want)
	}

	fresh := roundTrip(t, b.Update(true, t0))
	falsy := roundTrip(t, b.Update(false, t0))
	old := roundTrip(t, b.Update(true, t0.Add(-2*time.Minute)))

	cases := []struct {
		name        string
		v           Validator
		p           Payload
		wantRefetch bool
		wantReason  map[string]any
	}{
		{"IsTrue pass", b.IsTrue(), fresh, false, nil},
		{"IsTrue wrong", b.IsTrue(), falsy, false,
			map[string]any{"message": "wrong value", "expectedValue": true, "actualValue": false}},
		{"IsFalse pass", b.IsFalse(), falsy, false, nil},
		{"IsFalse wrong", b.IsFalse(), fresh, false,
			map[string]any{"message": "wrong value", "expectedValue": false, "actualValue": true}},
		{"IsTrue missing", b.IsTrue(), Payload{}, true,
			map[string]any{"message": "value does not exist", "expectedValue": true, "actualValue": nil}},
		{"IsFalse missing", b.IsFalse(), Payload{}, true,
			map[string]any{"message": "value does not exist", "expectedValue": false, "actualValue": nil}},
		{"IsTrue default max age", b.IsTrue(), old, true,
			map[string]any{"message": "expired", "ageInSeconds": float64(120), "maxAgeInSeconds": float64(60)}},
		{"IsTrue own max age", b.IsTrue(MaxAge(time.Hour)), old, false, nil},
		{"HasValue on boolean", b.HasValue(true, NoMaxAge()), old, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.ShouldRefetch(tc.p, t0); got != tc.wantRefetch {
				t.Errorf("ShouldRefetch = %v, want %v", got, tc.wantRefetch)
			}
			assertReason(t, tc.v.Validate(tc.p, t0), "st-ev", tc.wantReason)
			if tc.v.Claim() != Claim(b) {
				t.Errorf("Claim() = %T, want the *Boolean", tc.v.Claim())
			}
		})
	}

	if v, ok := b.Get(falsy); !ok || v {
		t.Errorf("Get = %v, %v; want false, true", v, ok)
	}
}

func TestBooleanNoValue(t *testing.T) {
	b := NewBoolean("st-ev", fixed(false, false, nil))
	p, err := b.Build(ctx, "u1", "public", t0)
	if err != nil || p != nil {
		t.Errorf("Build = %v, %v; want nil, nil", p, err)
	}
}
