package thirdparty

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
)

// lookup follows a dot-separated path through nested JSON objects.
func lookup(m map[string]any, path string) (any, bool) {
	if m == nil || path == "" {
		return nil, false
	}
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// lookupString returns the value at path as a string; numbers (GitHub's
// numeric ids) are formatted without exponent.
func lookupString(m map[string]any, path string) string {
	v, ok := lookup(m, path)
	if !ok {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// lookupBool returns the value at path as a bool; Apple sends "true" as a
// string.
func lookupBool(m map[string]any, path string) bool {
	v, ok := lookup(m, path)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// applyMap fills info from one source; set fields win over existing ones.
func applyMap(info *UserInfo, src map[string]any, fm FieldMap) {
	if id := lookupString(src, fm.UserID); id != "" {
		info.ThirdPartyUserID = id
	}
	if e := lookupString(src, fm.Email); e != "" {
		if info.Email != "" && !strings.EqualFold(e, info.Email) {
			info.EmailVerified = false // a different address: only this source's word counts
		}
		info.Email = e
		if fm.EmailVerified != "" {
			info.EmailVerified = lookupBool(src, fm.EmailVerified)
		}
	}
}

// defaultUserInfo reads the user from the verified ID token's claims and,
// when the provider has a user-info endpoint and an access token was given,
// from that endpoint.
func (r *Recipe) defaultUserInfo(ctx context.Context, p *Provider, tokens Tokens, idClaims map[string]any) (UserInfo, error) {
	m := p.userInfoMap()
	info := UserInfo{FromIDToken: idClaims}
	applyMap(&info, idClaims, m.FromIDToken)
	if p.UserInfoURL != "" && tokens.AccessToken != "" && m.FromUserInfo != (FieldMap{}) {
		var ui map[string]any
		if err := getJSON(ctx, p.UserInfoURL, tokens.AccessToken, &ui); err != nil {
			return UserInfo{}, err
		}
		// An ID token and the user-info answer must be about the same user
		// (OpenID Connect Core §5.3.2).
		if idSub, uiSub := lookupString(idClaims, "sub"), lookupString(ui, "sub"); idSub != "" && uiSub != "" && idSub != uiSub {
			return UserInfo{}, errorf(ErrProvider, "the user-info answer is about another user than the ID token")
		}
		info.FromUserInfo = ui
		applyMap(&info, ui, m.FromUserInfo)
	}
	return info, nil
}

// getJSON GETs a provider API with the access token and decodes the answer,
// using the recipe's HTTP client from ctx. Numbers decode as json.Number.
func getJSON(ctx context.Context, url, accessToken string, v *map[string]any) error {
	var raw json.RawMessage
	if err := fetchJSON(ctx, HTTPClient(ctx), url, accessToken, &raw); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errorf(ErrProvider, "GET %s: answer is not a JSON object", url)
	}
	return nil
}
