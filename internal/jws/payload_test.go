package jws

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// payloadSeeds are the fuzz corpus and the table for TestDecodePayload:
// real payloads, every kind of value, escapes, invalid UTF-8, surrogates,
// numbers at the edges, duplicate keys and malformed input.
var payloadSeeds = []string{
	`{"sub":"u1","rsub":"u1","tId":"public","sessionHandle":"h","refreshTokenHash1":"abc","iat":1700000000,"exp":1700003600,"iss":"http://localhost:3001/auth","antiCsrfToken":"x","st-role":{"v":["admin"],"t":1700000000000}}`,
	`{}`, ` { } `, `null`, ` null `, `{"a":null}`, `{"a":[]}`, `{"a":{}}`, `{"a":[1,"x",true,false,null,{"b":[[]]}]}`,
	`{"a":1,"a":2}`, `{"a":{"x":1},"a":[1]}`, `{"":""}`,
	"{\"a\"\t:\n1\r, \"b\" : [ 1 , 2 ] }",
	`{"a":0}`, `{"a":-0}`, `{"a":-0.0e+0}`, `{"a":1.5E-3}`, `{"a":1e308}`, `{"a":1e309}`, `{"a":-1e400}`, `{"a":1e-400}`,
	`{"a":123456789012345678901234567890}`, `{"a":0.1}`, `{"a":4.9e-324}`,
	`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":+1}`, `{"a":0x10}`, `{"a":1_0}`, `{"a":Infinity}`, `{"a":NaN}`,
	`{"a":"\"\\\/\b\f\n\r\t"}`, `{"a":"\u00e9\u20ac\ud83d\ude00"}`, `{"a":"\ud800"}`, `{"a":"\udc00\ud800x"}`, `{"a":"\ud800\u0041"}`,
	`{"a":"\x"}`, `{"a":"\'"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`,
	"{\"a\":\"caf\xc3\xa9\"}", "{\"a\":\"\xff\xfe\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"\xff\":1}", "{\"a\":\"\x01\"}", "{\"a\":\"\x7f\"}",
	`{"a":tru}`, `{"a":true`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":1 "b":2}`, `{"a":1}x`, `{"a":1}{}`, `[1]`, `"x"`, `1`, `true`, ``, ` `,
	`{"a":[1,]}`, `{"a":[,1]}`, `{a:1}`, `{'a':1}`, "\ufeff{}", `{"a":nul}`, `nullx`,
}

func TestDecodePayload(t *testing.T) {
	for _, s := range payloadSeeds {
		checkAgainstEncodingJSON(t, []byte(s))
	}
	deep := func(n int, open, close string) string {
		return `{"a":` + strings.Repeat(open, n-1) + strings.Repeat(close, n-1) + `}`
	}
	for _, n := range []int{9999, 10000, 10001} {
		checkAgainstEncodingJSON(t, []byte(deep(n, "[", "]")))
		checkAgainstEncodingJSON(t, []byte(deep(n, `{"b":`, "}")))
	}
	m, err := DecodePayload([]byte(`{"n":1e308,"e":[]}`))
	if err != nil || m["n"] != 1e308 || m["e"] == nil {
		t.Fatalf("got %#v, %v", m, err)
	}
	if _, err := DecodePayload([]byte(`{"n":1e309}`)); err == nil {
		t.Fatal("out-of-range number accepted")
	}
}

// FuzzDecodePayload holds DecodePayload to json.Unmarshal into a
// map[string]any: same value (reflect.DeepEqual tells nil from empty maps
// and slices) and an error exactly when encoding/json reports one.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstEncodingJSON(t, b)
	})
}

func checkAgainstEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]any
	wantErr := json.Unmarshal(b, &want)
	got, err := DecodePayload(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json %v", b, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", b, got, want)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	payload := []byte(payloadSeeds[0])
	b.Run("DecodePayload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePayload(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(payload, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
