package emailverification_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/recipes/emailverification"
)

// What an unverified session's 403 reports for the st-ev claim.
func ExampleIsVerified() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	payload := claims.Payload{}
	claims.Merge(payload, emailverification.EmailVerificationClaim.Update(false, now))

	v := emailverification.IsVerified()
	fmt.Println("refetch now:", v.ShouldRefetch(payload, now))
	fmt.Println("refetch in 11s:", v.ShouldRefetch(payload, now.Add(11*time.Second)))
	b, _ := json.Marshal(v.Validate(payload, now))
	fmt.Println(string(b))
	// Output:
	// refetch now: false
	// refetch in 11s: true
	// {"id":"st-ev","reason":{"actualValue":false,"expectedValue":true,"message":"wrong value"}}
}
