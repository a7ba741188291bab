package claims

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPrimitiveBuild(t *testing.T) {
	var gotUser, gotTenant string
	c := NewPrimitive("plan", func(_ context.Context, userID, tenantID string) (string, bool, error) {
		gotUser, gotTenant = userID, tenantID
		return "pro", true, nil
	})
	p, err := c.Build(ctx, "u1", "public", t0)
	if err != nil {
		t.Fatal(err)
	}
	if gotUser != "u1" || gotTenant != "public" {
		t.Errorf("fetch got (%q, %q)", gotUser, gotTenant)
	}
	if got, want := mustJSON(t, p), `{"plan":{"t":1700000000000,"v":"pro"}}`; got != want {
		t.Errorf("Build = %s, want %s", got, want)
	}

	none, err := NewPrimitive("plan", fixed("", false, nil)).Build(ctx, "u1", "public", t0)
	if err != nil || none != nil {
		t.Errorf("ok=false: Build = %v, %v; want nil, nil", none, err)
	}

	boom := errors.New("db down")
	failed, err := NewPrimitive("plan", fixed("pro", true, boom)).Build(ctx, "u1", "public", t0)
	if !errors.Is(err, boom) || failed != nil {
		t.Errorf("error: Build = %v, %v; want nil, %v", failed, err, boom)
	}

	nilFetch, err := NewPrimitive[string]("plan", nil).Build(ctx, "u1", "public", t0)
	if err != nil || nilFetch != nil {
		t.Errorf("nil fetch: Build = %v, %v", nilFetch, err)
	}
}

func TestPrimitiveUpdateRemove(t *testing.T) {
	c := NewPrimitive[int]("n", nil)
	if c.Key() != "n" {
		t.Errorf("Key = %q", c.Key())
	}
	if got, want := mustJSON(t, c.Update(42, t0)), `{"n":{"t":1700000000000,"v":42}}`; got != want {
		t.Errorf("Update = %s, want %s", got, want)
	}
	if got, want := mustJSON(t, c.Remove()), `{"n":null}`; got != want {
		t.Errorf("Remove = %s, want %s", got, want)
	}

	p := Payload{"sub": "u1"}
	Merge(p, c.Update(7, t0))
	if v, ok := c.Get(p); !ok || v != 7 {
		t.Errorf("after Update merge Get = %v, %v", v, ok)
	}
	Merge(p, roundTrip(t, c.Remove()))
	if _, present := p["n"]; present {
		t.Errorf("after Remove merge payload = %v", p)
	}
	if _, ok := c.Get(p); ok {
		t.Error("Get after Remove: ok = true")
	}
}

type tier string

func TestGetAfterJSONRoundTrip(t *testing.T) {
	t.Run("int", func(t *testing.T) {
		c := NewPrimitive[int]("k", nil)
		p := roundTrip(t, c.Update(123456789, t0))
		if _, isFloat := p["k"].(map[string]any)["v"].(float64); !isFloat {
			t.Fatalf("test premise: decoded v is %T, want float64", p["k"].(map[string]any)["v"])
		}
		if v, ok := c.Get(p); !ok || v != 123456789 {
			t.Errorf("Get = %v, %v", v, ok)
		}
	})
	t.Run("int64", func(t *testing.T) {
		c := NewPrimitive[int64]("k", nil)
		if v, ok := c.Get(roundTrip(t, c.Update(-5, t0))); !ok || v != -5 {
			t.Errorf("Get = %v, %v", v, ok)
		}
	})
	t.Run("string", func(t *testing.T) {
		c := NewPrimitive[string]("k", nil)
		if v, ok := c.Get(roundTrip(t, c.Update("héllo", t0))); !ok || v != "héllo" {
			t.Errorf("Get = %q, %v", v, ok)
		}
	})
	t.Run("named string", func(t *testing.T) {
		c := NewPrimitive[tier]("k", nil)
		if v, ok := c.Get(roundTrip(t, c.Update(tier("gold"), t0))); !ok || v != "gold" {
			t.Errorf("Get = %q, %v", v, ok)
		}
	})
	t.Run("bool", func(t *testing.T) {
		c := NewPrimitive[bool]("k", nil)
		for _, b := range []bool{true, false} {
			if v, ok := c.Get(roundTrip(t, c.Update(b, t0))); !ok || v != b {
				t.Errorf("Get(%v) = %v, %v", b, v, ok)
			}
		}
	})
	t.Run("float", func(t *testing.T) {
		c := NewPrimitive[float64]("k", nil)
		if v, ok := c.Get(roundTrip(t, c.Update(2.5, t0))); !ok || v != 2.5 {
			t.Errorf("Get = %v, %v", v, ok)
		}
	})
	t.Run("float32", func(t *testing.T) {
		c := NewPrimitive[float32]("k", nil)
		if v, ok := c.Get(roundTrip(t, c.Update(0.25, t0))); !ok || v != 0.25 {
			t.Errorf("Get = %v, %v", v, ok)
		}
	})
}

func TestPrimitiveGetUnreadable(t *testing.T) {
	c := NewPrimitive[int]("k", nil)
	cases := []struct {
		name string
		p    Payload
	}{
		{"absent", Payload{}},
		{"null entry", Payload{"k": nil}},
		{"entry not an object", Payload{"k": "x"}},
		{"no v", Payload{"k": map[string]any{"t": float64(1)}}},
		{"null v", Payload{"k": map[string]any{"v": nil, "t": float64(1)}}},
		{"string v", Payload{"k": map[string]any{"v": "7", "t": float64(1)}}},
		{"fractional v for int", Payload{"k": map[string]any{"v": 7.5, "t": float64(1)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if v, ok := c.Get(tc.p); ok {
				t.Errorf("Get = %v, true; want false", v)
			}
		})
	}
}

func TestFetchedAt(t *testing.T) {
	c := NewPrimitive[string]("k", nil)
	u := c.Update("x", t0)
	for name, p := range map[string]Payload{"in process": u, "json": roundTrip(t, u)} {
		got, ok := c.FetchedAt(p)
		if !ok || !got.Equal(t0) {
			t.Errorf("%s: FetchedAt = %v, %v; want %v", name, got, ok, t0)
		}
	}
	if _, ok := c.FetchedAt(Payload{}); ok {
		t.Error("FetchedAt on empty payload: ok = true")
	}
	if _, ok := c.FetchedAt(Payload{"k": map[string]any{"v": "x"}}); ok {
		t.Error("FetchedAt without t: ok = true")
	}
}

// TestEntryFromOtherRepresentations checks payloads whose claim object is not
// a map[string]any (for example a struct put there by Go code).
func TestEntryFromOtherRepresentations(t *testing.T) {
	type obj struct {
		V int   `json:"v"`
		T int64 `json:"t"`
	}
	c := NewPrimitive[int]("k", nil)
	p := Payload{"k": obj{V: 3, T: t0.UnixMilli()}}
	if v, ok := c.Get(p); !ok || v != 3 {
		t.Errorf("Get = %v, %v", v, ok)
	}
	if at, ok := c.FetchedAt(p); !ok || !at.Equal(t0) {
		t.Errorf("FetchedAt = %v, %v", at, ok)
	}
}

func TestHasValue(t *testing.T) {
	c := NewPrimitive[string]("plan", nil)
	now := t0.Add(time.Hour)
	at := func(age time.Duration) Payload { return roundTrip(t, c.Update("pro", now.Add(-age))) }

	cases := []struct {
		name        string
		v           Validator
		p           Payload
		wantRefetch bool
		wantID      string
		wantReason  map[string]any
	}{
		{
			name: "pass", v: c.HasValue("pro"), p: at(time.Hour),
		},
		{
			name: "pass in process payload", v: c.HasValue("pro"), p: c.Update("pro", now),
		},
		{
			name: "missing", v: c.HasValue("pro"), p: Payload{"sub": "u"},
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "value does not exist", "expectedValue": "pro", "actualValue": nil},
		},
		{
			name: "null entry", v: c.HasValue("pro"), p: roundTrip(t, c.Remove()),
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "value does not exist", "expectedValue": "pro", "actualValue": nil},
		},
		{
			name: "wrong value", v: c.HasValue("free"), p: at(0),
			wantID:     "plan",
			wantReason: map[string]any{"message": "wrong value", "expectedValue": "free", "actualValue": "pro"},
		},
		{
			name: "wrong type refetches and reports raw value", v: c.HasValue("pro"),
			p:           Payload{"plan": map[string]any{"v": float64(3), "t": float64(now.UnixMilli())}},
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "wrong value", "expectedValue": "pro", "actualValue": float64(3)},
		},
		{
			name: "expired", v: c.HasValue("pro", MaxAge(time.Minute)), p: at(61500 * time.Millisecond),
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "expired", "ageInSeconds": 61.5, "maxAgeInSeconds": float64(60)},
		},
		{
			name: "expiry checked before value", v: c.HasValue("free", MaxAge(time.Minute)), p: at(2 * time.Minute),
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "expired", "ageInSeconds": float64(120), "maxAgeInSeconds": float64(60)},
		},
		{
			name: "exactly max age is fresh", v: c.HasValue("pro", MaxAge(time.Minute)), p: at(time.Minute),
		},
		{
			name: "one ms past max age is stale", v: c.HasValue("pro", MaxAge(time.Minute)), p: at(time.Minute + time.Millisecond),
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "expired", "ageInSeconds": 60.001, "maxAgeInSeconds": float64(60)},
		},
		{
			name: "fetched in the future is fresh", v: c.HasValue("pro", MaxAge(time.Minute)), p: at(-time.Hour),
		},
		{
			name: "MaxAge(0) stale after 1ms", v: c.HasValue("pro", MaxAge(0)), p: at(time.Millisecond),
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "expired", "ageInSeconds": 0.001, "maxAgeInSeconds": float64(0)},
		},
		{
			name: "no max age never expires", v: c.HasValue("pro"), p: at(1000 * time.Hour),
		},
		{
			name: "missing t with max age is stale", v: c.HasValue("pro", MaxAge(time.Minute)),
			p:           Payload{"plan": map[string]any{"v": "pro"}},
			wantRefetch: true, wantID: "plan",
			wantReason: map[string]any{"message": "expired", "ageInSeconds": float64(now.UnixMilli()) / 1000, "maxAgeInSeconds": float64(60)},
		},
		{
			name: "missing t without max age passes", v: c.HasValue("pro"),
			p: Payload{"plan": map[string]any{"v": "pro"}},
		},
		{
			name: "custom id", v: c.HasValue("free", ID("plan-check")), p: at(0),
			wantID:     "plan-check",
			wantReason: map[string]any{"message": "wrong value", "expectedValue": "free", "actualValue": "pro"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.ShouldRefetch(tc.p, now); got != tc.wantRefetch {
				t.Errorf("ShouldRefetch = %v, want %v", got, tc.wantRefetch)
			}
			assertReason(t, tc.v.Validate(tc.p, now), tc.wantID, tc.wantReason)
		})
	}
}

func TestHasValueIntAfterRoundTrip(t *testing.T) {
	c := NewPrimitive[int]("level", nil)
	p := roundTrip(t, c.Update(3, t0))
	if err := c.HasValue(3).Validate(p, t0); err != nil {
		t.Errorf("HasValue(3) = %s", errJSON(t, err))
	}
	assertReason(t, c.HasValue(4).Validate(p, t0), "level",
		map[string]any{"message": "wrong value", "expectedValue": 4, "actualValue": 3})
}

func TestValidatorIDAndClaim(t *testing.T) {
	c := NewPrimitive[string]("plan", nil)
	v := c.HasValue("x")
	if v.ID() != "plan" {
		t.Errorf("default ID = %q", v.ID())
	}
	if v.Claim() != Claim(c) {
		t.Errorf("Claim = %v, want the primitive", v.Claim())
	}
	if got := c.HasValue("x", ID("")).ID(); got != "plan" {
		t.Errorf("ID(\"\") = %q, want plan", got)
	}
	if got := c.HasValue("x", ID("a"), ID("b")).ID(); got != "b" {
		t.Errorf("last ID wins: %q", got)
	}
}

func TestDefaultMaxAge(t *testing.T) {
	c := NewPrimitive[string]("plan", nil).WithDefaultMaxAge(time.Minute)
	now := t0.Add(time.Hour)
	old := roundTrip(t, c.Update("pro", now.Add(-2*time.Minute)))

	cases := []struct {
		name        string
		v           Validator
		wantRefetch bool
		wantExpired bool
	}{
		{"default applies", c.HasValue("pro"), true, true},
		{"MaxAge overrides", c.HasValue("pro", MaxAge(time.Hour)), false, false},
		{"NoMaxAge disables", c.HasValue("pro", NoMaxAge()), false, false},
		{"MaxAge after NoMaxAge", c.HasValue("pro", NoMaxAge(), MaxAge(time.Second)), true, true},
		{"NoMaxAge after MaxAge", c.HasValue("pro", MaxAge(time.Second), NoMaxAge()), false, false},
		{"negative MaxAge acts as zero", c.HasValue("pro", MaxAge(-time.Hour)), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.ShouldRefetch(old, now); got != tc.wantRefetch {
				t.Errorf("ShouldRefetch = %v, want %v", got, tc.wantRefetch)
			}
			err := tc.v.Validate(old, now)
			if expired := err != nil && err.Reason["message"] == "expired"; expired != tc.wantExpired {
				t.Errorf("Validate = %s, want expired=%v", errJSON(t, err), tc.wantExpired)
			}
		})
	}
}

func TestReasonJSON(t *testing.T) {
	c := NewPrimitive[bool]("st-ev", nil)
	got := errJSON(t, c.HasValue(true).Validate(Payload{}, t0))
	want := `{"id":"st-ev","reason":{"actualValue":null,"expectedValue":true,"message":"value does not exist"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = errJSON(t, c.HasValue(true, MaxAge(10*time.Second)).Validate(roundTrip(t, c.Update(true, t0)), t0.Add(12500*time.Millisecond)))
	want = `{"id":"st-ev","reason":{"ageInSeconds":12.5,"maxAgeInSeconds":10,"message":"expired"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
