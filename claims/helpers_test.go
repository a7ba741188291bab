package claims

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

var (
	t0  = time.UnixMilli(1_700_000_000_000)
	ctx = context.Background()
)

// roundTrip encodes p as JSON and decodes it back, as a payload read from a
// signed access token would be.
func roundTrip(t *testing.T, p Payload) Payload {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("marshal %v: %v", p, err)
	}
	var out Payload
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return out
}

// reasonJSON renders a validation error as the JSON the frontend receives.
func errJSON(t *testing.T, e *ValidationError) string {
	t.Helper()
	if e == nil {
		return "null"
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func assertReason(t *testing.T, got *ValidationError, wantID string, want map[string]any) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("want pass, got %s", errJSON(t, got))
		}
		return
	}
	if got == nil {
		t.Fatalf("want failure %v, got pass", want)
	}
	if got.ID != wantID {
		t.Errorf("id = %q, want %q", got.ID, wantID)
	}
	if !reflect.DeepEqual(got.Reason, want) {
		t.Errorf("reason = %#v\nwant     %#v", got.Reason, want)
	}
}

func fixed[T any](v T, ok bool, err error) func(context.Context, string, string) (T, bool, error) {
	return func(context.Context, string, string) (T, bool, error) { return v, ok, err }
}
