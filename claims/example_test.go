package claims_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/claims"
)

func ExampleNewBoolean() {
	verified := map[string]bool{"alice": true, "bob": false}
	emailVerified := claims.NewBoolean("st-ev", func(_ context.Context, userID, _ string) (bool, bool, error) {
		v, known := verified[userID]
		return v, known, nil
	})
	now := time.UnixMilli(1_700_000_000_000)

	for _, user := range []string{"alice", "bob"} {
		// Session creation: store the claim in the access-token payload.
		payload := claims.Payload{"sub": user}
		update, err := emailVerified.Build(context.Background(), user, "public", now)
		if err != nil {
			panic(err)
		}
		claims.Merge(payload, update)
		b, _ := json.Marshal(payload)
		fmt.Println(string(b))

		// Request: validate it.
		errs := claims.Check(payload, []claims.Validator{emailVerified.IsTrue()}, now)
		out, _ := json.Marshal(errs)
		fmt.Println(string(out))
	}
	// Output:
	// {"st-ev":{"t":1700000000000,"v":true},"sub":"alice"}
	// null
	// {"st-ev":{"t":1700000000000,"v":false},"sub":"bob"}
	// [{"id":"st-ev","reason":{"actualValue":false,"expectedValue":true,"message":"wrong value"}}]
}

func ExampleNewPrimitiveArray() {
	roles := claims.NewPrimitiveArray("st-role", func(context.Context, string, string) ([]string, bool, error) {
		return []string{"user", "editor"}, true, nil
	}).WithDefaultMaxAge(5 * time.Minute)

	fetched := time.UnixMilli(1_700_000_000_000)
	payload := claims.Payload{"sub": "alice"}
	vs := []claims.Validator{roles.Includes("editor")}

	// The claim is missing, so the validator asks for a refetch.
	fmt.Println(claims.NeedRefetch(payload, vs, fetched)[0].Key())
	changed, _ := claims.Refetch(context.Background(), payload, vs, "alice", "public", fetched)
	fmt.Println("changed:", changed)
	fmt.Println(claims.Check(payload, vs, fetched) == nil)

	// Ten minutes later the value is older than the default max age.
	later := fetched.Add(10 * time.Minute)
	fmt.Println(len(claims.NeedRefetch(payload, vs, later)))
	out, _ := json.Marshal(claims.Check(payload, []claims.Validator{roles.Includes("admin", claims.NoMaxAge())}, later))
	fmt.Println(string(out))
	// Output:
	// st-role
	// changed: true
	// true
	// 1
	// [{"id":"st-role","reason":{"actualValue":["user","editor"],"expectedToInclude":"admin","message":"wrong value"}}]
}
