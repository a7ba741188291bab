package claims

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestMerge(t *testing.T) {
	cases := []struct {
		name   string
		dst    Payload
		update Payload
		want   Payload
	}{
		{"adds", Payload{"sub": "u"}, Payload{"a": 1}, Payload{"sub": "u", "a": 1}},
		{"replaces", Payload{"a": 1}, Payload{"a": 2}, Payload{"a": 2}},
		{"null deletes", Payload{"a": 1, "b": 2}, Payload{"a": nil}, Payload{"b": 2}},
		{"null on absent key is a no-op", Payload{"b": 2}, Payload{"a": nil}, Payload{"b": 2}},
		{"shallow: nested object replaced whole", Payload{"a": map[string]any{"v": 1, "t": 1}}, Payload{"a": map[string]any{"v": 2}}, Payload{"a": map[string]any{"v": 2}}},
		{"nil update", Payload{"a": 1}, nil, Payload{"a": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			Merge(tc.dst, tc.update)
			if !reflect.DeepEqual(tc.dst, tc.want) {
				t.Errorf("got %v, want %v", tc.dst, tc.want)
			}
		})
	}
}

func TestMergeJSONNull(t *testing.T) {
	c := NewPrimitive[string]("k", nil)
	dst := roundTrip(t, Payload{"sub": "u", "k": map[string]any{"v": "x", "t": 1}})
	Merge(dst, roundTrip(t, c.Remove()))
	if got, want := mustJSON(t, dst), `{"sub":"u"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCheck(t *testing.T) {
	b := NewBoolean("st-ev", nil)
	r := NewPrimitiveArray[string]("st-role", nil)
	p := Payload{}
	Merge(p, b.Update(false, t0))
	Merge(p, r.Update([]string{"user"}, t0))
	p = roundTrip(t, p)

	if errs := Check(p, []Validator{b.IsFalse(), r.Includes("user"), nil}, t0); errs != nil {
		t.Errorf("all pass: Check = %v, want nil", errs)
	}

	errs := Check(p, []Validator{b.IsTrue(), r.Includes("user"), r.Includes("admin", ID("need-admin"))}, t0)
	want := []ValidationError{
		{ID: "st-ev", Reason: map[string]any{"message": "wrong value", "expectedValue": true, "actualValue": false}},
		{ID: "need-admin", Reason: map[string]any{"message": "wrong value", "expectedToInclude": "admin", "actualValue": []string{"user"}}},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("Check =\n%#v\nwant\n%#v", errs, want)
	}
	if got, wantJSON := mustJSON(t, errs),
		`[{"id":"st-ev","reason":{"actualValue":false,"expectedValue":true,"message":"wrong value"}},`+
			`{"id":"need-admin","reason":{"actualValue":["user"],"expectedToInclude":"admin","message":"wrong value"}}]`; got != wantJSON {
		t.Errorf("JSON = %s\nwant   %s", got, wantJSON)
	}
}

func TestCheckFillsEmptyID(t *testing.T) {
	c := NewPrimitive[string]("k", nil)
	bare := &bareValidator{claim: c, id: "bare"}
	errs := Check(Payload{}, []Validator{bare}, t0)
	if len(errs) != 1 || errs[0].ID != "bare" {
		t.Errorf("Check = %#v", errs)
	}
	if bare.err.ID != "" {
		t.Error("Check modified the validator's error value")
	}
}

// bareValidator returns failures without an ID.
type bareValidator struct {
	claim   Claim
	id      string
	refetch bool
	err     ValidationError
}

func (b *bareValidator) ID() string                            { return b.id }
func (b *bareValidator) Claim() Claim                          { return b.claim }
func (b *bareValidator) ShouldRefetch(Payload, time.Time) bool { return b.refetch }
func (b *bareValidator) Validate(Payload, time.Time) *ValidationError {
	b.err = ValidationError{Reason: map[string]any{"message": "no"}}
	return &b.err
}

func TestNeedRefetch(t *testing.T) {
	ev := NewBoolean("st-ev", nil)
	roles := NewPrimitiveArray[string]("st-role", nil)
	roles2 := NewPrimitiveArray[string]("st-role", nil) // same key, another instance
	plan := NewPrimitive[string]("plan", nil)
	now := t0.Add(time.Hour)

	p := Payload{}
	Merge(p, ev.Update(true, now))
	Merge(p, plan.Update("pro", now.Add(-time.Hour)))
	p = roundTrip(t, p)

	vs := []Validator{
		nil,
		ev.IsTrue(),             // fresh: no refetch
		roles.Includes("admin"), // missing
		plan.HasValue("pro", MaxAge(time.Minute)), // stale
		roles.Excludes("banned"),                  // same claim again
		roles2.Includes("x"),                      // same key again
		plan.HasValue("pro"),                      // same claim, fresh by its rule
		Custom("no-claim", nil, func(Payload, time.Time) bool { return true }, nil),
	}
	got := NeedRefetch(p, vs, now)
	if len(got) != 2 || got[0] != Claim(roles) || got[1] != Claim(plan) {
		keys := []string{}
		for _, c := range got {
			keys = append(keys, c.Key())
		}
		t.Errorf("NeedRefetch = %v, want [st-role plan]", keys)
	}

	// A claim whose first validator says no but a later one says yes is kept.
	got = NeedRefetch(p, []Validator{plan.HasValue("pro"), plan.HasValue("pro", MaxAge(time.Second))}, now)
	if len(got) != 1 || got[0] != Claim(plan) {
		t.Errorf("NeedRefetch later validator = %v", got)
	}

	if got := NeedRefetch(p, []Validator{ev.IsTrue()}, now); got != nil {
		t.Errorf("nothing stale: NeedRefetch = %v, want nil", got)
	}
}

func TestRefetch(t *testing.T) {
	calls := map[string]int{}
	ev := NewBoolean("st-ev", func(_ context.Context, userID, tenantID string) (bool, bool, error) {
		calls["st-ev"]++
		return true, true, nil
	})
	roles := NewPrimitiveArray("st-role", func(context.Context, string, string) ([]string, bool, error) {
		calls["st-role"]++
		return []string{"admin"}, true, nil
	})
	none := NewPrimitive("plan", func(context.Context, string, string) (string, bool, error) {
		calls["plan"]++
		return "", false, nil
	})
	now := t0

	p := Payload{"sub": "u1"}
	Merge(p, ev.Update(false, now))
	vs := []Validator{ev.IsTrue(), roles.Includes("admin"), roles.Excludes("x"), none.HasValue("pro")}

	changed, err := Refetch(ctx, p, vs, "u1", "public", now)
	if err != nil || !changed {
		t.Fatalf("Refetch = %v, %v", changed, err)
	}
	if want := map[string]int{"st-role": 1, "plan": 1}; !reflect.DeepEqual(calls, want) {
		t.Errorf("fetch calls = %v, want %v", calls, want)
	}
	if v, ok := ev.Get(p); !ok || v {
		t.Errorf("st-ev was refetched although present: %v", v)
	}
	if _, ok := none.Get(p); ok {
		t.Error("plan was set although fetch had no value")
	}
	errs := Check(p, vs, now)
	if len(errs) != 2 || errs[0].ID != "st-ev" || errs[1].ID != "plan" {
		t.Errorf("Check after Refetch = %v", errs)
	}

	// Nothing left to refetch except the claim with no value: unchanged.
	changed, err = Refetch(ctx, p, vs[:3], "u1", "public", now)
	if err != nil || changed {
		t.Errorf("second Refetch = %v, %v; want false, nil", changed, err)
	}

	boom := errors.New("boom")
	failing := NewPrimitive("x", fixed("", true, boom))
	changed, err = Refetch(ctx, Payload{}, []Validator{failing.HasValue("")}, "u1", "public", now)
	if !errors.Is(err, boom) || changed {
		t.Errorf("failing Refetch = %v, %v", changed, err)
	}
}

func TestCustom(t *testing.T) {
	c := NewPrimitive[int]("score", nil)
	atLeast := func(min int) Validator {
		return Custom("", c,
			func(p Payload, _ time.Time) bool { _, ok := c.Get(p); return !ok },
			func(p Payload, _ time.Time) *ValidationError {
				if v, ok := c.Get(p); !ok || v < min {
					return &ValidationError{Reason: map[string]any{"message": "too low", "min": min}}
				}
				return nil
			})
	}
	v := atLeast(10)
	if v.ID() != "score" || v.Claim() != Claim(c) {
		t.Errorf("ID/Claim = %q, %v", v.ID(), v.Claim())
	}
	high := roundTrip(t, c.Update(12, t0))
	low := roundTrip(t, c.Update(3, t0))
	if v.ShouldRefetch(high, t0) || !v.ShouldRefetch(Payload{}, t0) {
		t.Error("ShouldRefetch wrong")
	}
	if err := v.Validate(high, t0); err != nil {
		t.Errorf("Validate(high) = %s", errJSON(t, err))
	}
	assertReason(t, v.Validate(low, t0), "score", map[string]any{"message": "too low", "min": 10})

	kept := Custom("mine", c, nil, func(Payload, time.Time) *ValidationError {
		return &ValidationError{ID: "explicit"}
	})
	if kept.ID() != "mine" || kept.ShouldRefetch(Payload{}, t0) {
		t.Errorf("nil shouldRefetch: ID %q refetch %v", kept.ID(), kept.ShouldRefetch(Payload{}, t0))
	}
	if err := kept.Validate(Payload{}, t0); err == nil || err.ID != "explicit" {
		t.Errorf("explicit ID not kept: %v", err)
	}

	pass := Custom("always", nil, nil, nil)
	if pass.Validate(Payload{}, t0) != nil || pass.ShouldRefetch(Payload{}, t0) || pass.Claim() != nil {
		t.Error("nil funcs: want pass, no refetch, nil claim")
	}
}

// TestConcurrentUse runs shared claims and validators from many goroutines;
// it is meaningful under -race.
func TestConcurrentUse(t *testing.T) {
	ev := NewBoolean("st-ev", fixed(true, true, nil)).WithDefaultMaxAge(time.Minute)
	roles := NewPrimitiveArray("st-role", fixed([]string{"admin"}, true, nil))
	vs := []Validator{ev.IsTrue(), roles.Includes("admin")}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := t0.Add(time.Duration(i) * time.Second)
			p := Payload{"sub": "u"}
			if _, err := Refetch(ctx, p, vs, "u", "public", now); err != nil {
				t.Error(err)
				return
			}
			if errs := Check(roundTrip(t, p), vs, now); errs != nil {
				t.Errorf("Check = %v", errs)
			}
		}()
	}
	wg.Wait()
}
