package jws

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
)

// referenceParseHeader is Parse's header handling before the fast path,
// as it was: encoding/json, then the hostile-name check when a suspicious
// name or an escape appears. (JOSE names are case-sensitive: "JKU" is not
// jku, and is ignored like any unknown name.)
func referenceParseHeader(hb []byte) (Header, error) {
	var h Header
	if err := json.Unmarshal(hb, &h); err != nil {
		return Header{}, ErrMalformed
	}
	if !bytes.Contains(hb, []byte(`"jku"`)) && !bytes.Contains(hb, []byte(`"x5u"`)) &&
		!bytes.Contains(hb, []byte(`"jwk"`)) && !bytes.Contains(hb, []byte(`"x5c"`)) &&
		!bytes.Contains(hb, []byte(`"crit"`)) && !bytes.Contains(hb, []byte(`\u`)) {
		return h, nil
	}
	var x hostile
	if err := json.Unmarshal(hb, &x); err != nil {
		return Header{}, ErrMalformed
	}
	if x.Jku != nil || x.X5u != nil || x.Jwk != nil || x.X5c != nil || x.Crit != nil {
		return Header{}, ErrHeader
	}
	return h, nil
}

var headerSeeds = []string{
	`{"alg":"RS256","typ":"JWT","kid":"d-1700000000-abc","version":"5"}`,
	`{"alg":"ES256","kid":"k1"}`, `{"alg":"EdDSA"}`, `{"alg":"none"}`, `{"alg":"HS256","typ":"jwt","version":"4"}`, `{}`,
	`{"alg":"RS256","alg":"ES256"}`, `{"alg":"RS256","jku":"https://evil"}`, `{"alg":"RS256","x5u":"u"}`,
	`{"alg":"RS256","jwk":{}}`, `{"alg":"RS256","x5c":[]}`, `{"alg":"RS256","crit":["b64"]}`, `{"alg":"RS256","crit":null}`,
	`{"alg":"RS256","\u006aku":"x"}`, `{"alg":"RS256","JKU":"x"}`, `{"ALG":"RS256"}`, `{"Alg":"RS256","KID":"k"}`,
	`{"alg":"RS\u0032\u0035\u0036"}`, `{"alg":"RS256","kid":"jku"}`, `{"alg":"RS256", "kid":"k"}`, ` {"alg":"RS256"}`,
	`{"alg":"RS256"} `, `{"alg":"RS256",}`, `{"alg":RS256}`, `{"alg":null}`, `{"alg":1}`, `{"alg":"RS256","kid":null}`,
	`{"alg":"RS256","x":1}`, `{"alg":"RS256"`, `{"alg"}`, `{`, `[]`, `null`, ``, "{\"alg\":\"RS\x7f\"}", "{\"kid\":\"\xff\"}",
	"{\"kid\":\"a\tb\"}", `{"kid":"a\"b"}`, `{"alg":"RS256"}{}`,
}

func TestParseHeaderMatchesReference(t *testing.T) {
	for _, s := range headerSeeds {
		checkHeader(t, []byte(s))
	}
}

// FuzzParseHeader holds Parse's header handling (fast path and fallback)
// to encoding/json plus the hostile-name check: same Header, and refused
// (ErrHeader for a hostile name) exactly when the reference refuses.
func FuzzParseHeader(f *testing.F) {
	for _, s := range headerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hb []byte) {
		checkHeader(t, hb)
	})
}

func checkHeader(t *testing.T, hb []byte) {
	t.Helper()
	enc := base64.RawURLEncoding
	tok := enc.EncodeToString(hb) + "." + enc.EncodeToString([]byte(`{}`)) + "." + enc.EncodeToString([]byte("sig"))
	want, wantErr := referenceParseHeader(hb)
	p, err := Parse(tok)
	if (err != nil) != (wantErr != nil) || errors.Is(err, ErrHeader) != errors.Is(wantErr, ErrHeader) {
		t.Fatalf("%q: error %v, reference %v", hb, err, wantErr)
	}
	if err == nil && p.Header != want {
		t.Fatalf("%q: header %+v, reference %+v", hb, p.Header, want)
	}
}
