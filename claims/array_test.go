package claims

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestArrayBuild(t *testing.T) {
	c := NewPrimitiveArray("st-role", fixed([]string{"admin", "user"}, true, nil))
	p, err := c.Build(ctx, "u1", "public", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, p), `{"st-role":{"t":1700000000000,"v":["admin","user"]}}`; got != want {
		t.Errorf("Build = %s, want %s", got, want)
	}

	empty, _ := NewPrimitiveArray("st-role", fixed([]string(nil), true, nil)).Build(ctx, "u1", "public", t0)
	if got, want := mustJSON(t, empty), `{"st-role":{"t":1700000000000,"v":[]}}`; got != want {
		t.Errorf("nil slice with ok: Build = %s, want %s", got, want)
	}

	none, err := NewPrimitiveArray("st-role", fixed([]string{"x"}, false, nil)).Build(ctx, "u1", "public", t0)
	if none != nil || err != nil {
		t.Errorf("ok=false: Build = %v, %v", none, err)
	}
	boom := errors.New("boom")
	if _, err := NewPrimitiveArray("st-role", fixed([]string{"x"}, true, boom)).Build(ctx, "u1", "public", t0); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	if got, want := mustJSON(t, c.Remove()), `{"st-role":null}`; got != want {
		t.Errorf("Remove = %s, want %s", got, want)
	}
}

func TestArrayUpdateCopies(t *testing.T) {
	c := NewPrimitiveArray[string]("r", nil)
	in := []string{"a", "b"}
	p := c.Update(in, t0)
	in[0] = "z"
	if got, _ := c.Get(p); got[0] != "a" {
		t.Errorf("Update did not copy: %v", got)
	}
}

func TestArrayGet(t *testing.T) {
	t.Run("ints after json", func(t *testing.T) {
		c := NewPrimitiveArray[int]("n", nil)
		got, ok := c.Get(roundTrip(t, c.Update([]int{3, 1, 2}, t0)))
		if !ok || len(got) != 3 || got[0] != 3 || got[1] != 1 || got[2] != 2 {
			t.Errorf("Get = %v, %v", got, ok)
		}
	})
	t.Run("strings in process", func(t *testing.T) {
		c := NewPrimitiveArray[string]("s", nil)
		got, ok := c.Get(c.Update([]string{"a"}, t0))
		if !ok || len(got) != 1 || got[0] != "a" {
			t.Errorf("Get = %v, %v", got, ok)
		}
	})
	t.Run("empty after json", func(t *testing.T) {
		c := NewPrimitiveArray[string]("s", nil)
		got, ok := c.Get(roundTrip(t, c.Update(nil, t0)))
		if !ok || got == nil || len(got) != 0 {
			t.Errorf("Get = %#v, %v; want empty non-nil, true", got, ok)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		c := NewPrimitiveArray[int]("n", nil)
		for name, p := range map[string]Payload{
			"absent":    {},
			"null":      {"n": nil},
			"scalar v":  {"n": map[string]any{"v": float64(1), "t": float64(1)}},
			"string el": {"n": map[string]any{"v": []any{"a"}, "t": float64(1)}},
			"null v":    {"n": map[string]any{"v": nil, "t": float64(1)}},
		} {
			if got, ok := c.Get(p); ok {
				t.Errorf("%s: Get = %v, true", name, got)
			}
		}
	})
	t.Run("fetched at", func(t *testing.T) {
		c := NewPrimitiveArray[int]("n", nil)
		if at, ok := c.FetchedAt(roundTrip(t, c.Update([]int{1}, t0))); !ok || !at.Equal(t0) {
			t.Errorf("FetchedAt = %v, %v", at, ok)
		}
	})
}

func TestArrayValidators(t *testing.T) {
	c := NewPrimitiveArray[string]("st-role", nil)
	now := t0
	roles := roundTrip(t, c.Update([]string{"admin", "user"}, now))
	emptyRoles := roundTrip(t, c.Update([]string{}, now))
	have := []string{"admin", "user"}

	cases := []struct {
		name       string
		v          Validator
		p          Payload
		wantReason map[string]any
	}{
		{"Includes pass", c.Includes("admin"), roles, nil},
		{"Includes fail", c.Includes("owner"), roles,
			map[string]any{"message": "wrong value", "expectedToInclude": "owner", "actualValue": have}},
		{"Includes on empty", c.Includes("admin"), emptyRoles,
			map[string]any{"message": "wrong value", "expectedToInclude": "admin", "actualValue": []string{}}},
		{"Excludes pass", c.Excludes("banned"), roles, nil},
		{"Excludes pass on empty", c.Excludes("banned"), emptyRoles, nil},
		{"Excludes fail", c.Excludes("user"), roles,
			map[string]any{"message": "wrong value", "expectedToNotInclude": "user", "actualValue": have}},
		{"IncludesAll pass", c.IncludesAll([]string{"user", "admin"}), roles, nil},
		{"IncludesAll empty passes", c.IncludesAll(nil), emptyRoles, nil},
		{"IncludesAll fail", c.IncludesAll([]string{"admin", "owner"}), roles,
			map[string]any{"message": "wrong value", "expectedToInclude": []string{"admin", "owner"}, "actualValue": have}},
		{"IncludesAny pass", c.IncludesAny([]string{"owner", "user"}), roles, nil},
		{"IncludesAny fail", c.IncludesAny([]string{"owner", "root"}), roles,
			map[string]any{"message": "wrong value", "expectedToIncludeAtLeastOneOf": []string{"owner", "root"}, "actualValue": have}},
		{"IncludesAny empty fails", c.IncludesAny(nil), roles,
			map[string]any{"message": "wrong value", "expectedToIncludeAtLeastOneOf": []string{}, "actualValue": have}},
		{"ExcludesAll pass", c.ExcludesAll([]string{"owner", "root"}), roles, nil},
		{"ExcludesAll fail", c.ExcludesAll([]string{"root", "admin"}), roles,
			map[string]any{"message": "wrong value", "expectedToNotInclude": []string{"root", "admin"}, "actualValue": have}},

		{"Includes missing", c.Includes("admin"), Payload{},
			map[string]any{"message": "value does not exist", "expectedToInclude": "admin", "actualValue": nil}},
		{"Excludes missing", c.Excludes("admin"), Payload{},
			map[string]any{"message": "value does not exist", "expectedToNotInclude": "admin", "actualValue": nil}},
		{"IncludesAll missing", c.IncludesAll([]string{"a"}), Payload{},
			map[string]any{"message": "value does not exist", "expectedToInclude": []string{"a"}, "actualValue": nil}},
		{"IncludesAny missing", c.IncludesAny([]string{"a"}), Payload{},
			map[string]any{"message": "value does not exist", "expectedToIncludeAtLeastOneOf": []string{"a"}, "actualValue": nil}},
		{"ExcludesAll missing", c.ExcludesAll([]string{"a"}), Payload{},
			map[string]any{"message": "value does not exist", "expectedToNotInclude": []string{"a"}, "actualValue": nil}},
		{"wrong element type", c.Includes("admin"), Payload{"st-role": map[string]any{"v": []any{float64(1)}, "t": float64(now.UnixMilli())}},
			map[string]any{"message": "wrong value", "expectedToInclude": "admin", "actualValue": []any{float64(1)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertReason(t, tc.v.Validate(tc.p, now), "st-role", tc.wantReason)
		})
	}
}

func TestArrayIncludesInts(t *testing.T) {
	c := NewPrimitiveArray[int]("lvl", nil)
	p := roundTrip(t, c.Update([]int{1, 2}, t0))
	if err := c.Includes(2).Validate(p, t0); err != nil {
		t.Errorf("Includes(2) = %s", errJSON(t, err))
	}
	assertReason(t, c.Includes(3).Validate(p, t0), "lvl",
		map[string]any{"message": "wrong value", "expectedToInclude": 3, "actualValue": []int{1, 2}})
}

func TestArrayRefetchAndExpiry(t *testing.T) {
	c := NewPrimitiveArray[string]("st-role", nil).WithDefaultMaxAge(5 * time.Minute)
	now := t0.Add(time.Hour)
	at := func(age time.Duration) Payload { return roundTrip(t, c.Update([]string{"admin"}, now.Add(-age))) }
	expired := func(age, max float64) map[string]any {
		return map[string]any{"message": "expired", "ageInSeconds": age, "maxAgeInSeconds": max}
	}

	cases := []struct {
		name        string
		v           Validator
		p           Payload
		wantRefetch bool
		wantReason  map[string]any
	}{
		{"fresh", c.Includes("admin"), at(time.Minute), false, nil},
		{"at default max age", c.Includes("admin"), at(5 * time.Minute), false, nil},
		{"past default max age", c.Includes("admin"), at(6 * time.Minute), true, expired(360, 300)},
		{"Excludes expired", c.Excludes("x"), at(6 * time.Minute), true, expired(360, 300)},
		{"IncludesAll expired", c.IncludesAll([]string{"admin"}), at(6 * time.Minute), true, expired(360, 300)},
		{"IncludesAny expired", c.IncludesAny([]string{"admin"}), at(6 * time.Minute), true, expired(360, 300)},
		{"ExcludesAll expired", c.ExcludesAll([]string{"x"}), at(6 * time.Minute), true, expired(360, 300)},
		{"own MaxAge", c.Includes("admin", MaxAge(10*time.Second)), at(11 * time.Second), true, expired(11, 10)},
		{"NoMaxAge", c.Includes("admin", NoMaxAge()), at(100 * time.Hour), false, nil},
		{"missing refetches", c.Includes("admin"), Payload{}, true,
			map[string]any{"message": "value does not exist", "expectedToInclude": "admin", "actualValue": nil}},
		{"null v refetches", c.Includes("admin"), Payload{"st-role": map[string]any{"v": nil, "t": float64(now.UnixMilli())}}, true,
			map[string]any{"message": "value does not exist", "expectedToInclude": "admin", "actualValue": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.ShouldRefetch(tc.p, now); got != tc.wantRefetch {
				t.Errorf("ShouldRefetch = %v, want %v", got, tc.wantRefetch)
			}
			assertReason(t, tc.v.Validate(tc.p, now), "st-role", tc.wantReason)
		})
	}
}

func TestArrayValidatorIDAndClaim(t *testing.T) {
	c := NewPrimitiveArray[string]("st-perm", nil)
	vs := []Validator{
		c.Includes("a", ID("x")), c.Excludes("a", ID("x")), c.IncludesAll(nil, ID("x")),
		c.IncludesAny(nil, ID("x")), c.ExcludesAll(nil, ID("x")),
	}
	for i, v := range vs {
		if v.ID() != "x" {
			t.Errorf("validator %d: ID = %q", i, v.ID())
		}
		if v.Claim() != Claim(c) {
			t.Errorf("validator %d: Claim = %v", i, v.Claim())
		}
	}
	if id := c.Includes("a").ID(); id != "st-perm" {
		t.Errorf("default ID = %q", id)
	}
}

func TestArrayValidatorCopiesInput(t *testing.T) {
	c := NewPrimitiveArray[string]("r", nil)
	want := []string{"a"}
	v := c.IncludesAll(want)
	want[0] = "zzz"
	if err := v.Validate(c.Update([]string{"a"}, t0), t0); err != nil {
		t.Errorf("validator saw caller's later mutation: %s", errJSON(t, err))
	}
}

// A guard checks array claims on every request: reading a JSON-decoded
// []any of strings must not go through a JSON round trip (which cost 20
// allocations per check).
func TestArrayValidatorSkipsJSONRoundTrip(t *testing.T) {
	c := NewPrimitiveArray[string]("st-role", nil)
	var p Payload
	if err := json.Unmarshal([]byte(`{"st-role":{"v":["user","admin"],"t":1700000000000}}`), &p); err != nil {
		t.Fatal(err)
	}
	v := c.Includes("admin")
	now := time.UnixMilli(1700000001000)
	allocs := testing.AllocsPerRun(100, func() {
		if v.ShouldRefetch(p, now) || v.Validate(p, now) != nil {
			t.Fatal("admin should pass")
		}
	})
	if allocs > 8 {
		t.Fatalf("%v allocations per check, want at most 8", allocs)
	}
	// Element types the fast path does not cover still convert.
	ints := NewPrimitiveArray[int]("n", nil)
	var q Payload
	_ = json.Unmarshal([]byte(`{"n":{"v":[1,2,3],"t":1}}`), &q)
	if got, ok := ints.Get(q); !ok || len(got) != 3 || got[2] != 3 {
		t.Fatalf("[]int from JSON: %v %v", got, ok)
	}
}
