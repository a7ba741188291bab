package multifactorauth_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/claims"
	mfa "github.com/ginauth/ginauth/recipes/multifactorauth"
)

// Reading st-mfa from an access-token payload, and checking it the way a
// route guard does.
func ExampleGetValue() {
	var p claims.Payload
	_ = json.Unmarshal([]byte(`{"sub":"u1","st-mfa":{"c":{"emailpassword":1767322000,"totp":1767322060},"v":true}}`), &p)
	v, _ := mfa.GetValue(p)
	fmt.Println(v.CompletedFactors(), v.Satisfied)

	needTOTP := mfa.HasCompletedFactors(mfa.Factor("totp"))
	fmt.Println(claims.Check(p, []claims.Validator{needTOTP}, time.Now()) == nil)
	needEmail := mfa.HasCompletedFactors(mfa.OneOf("otp-email", "link-email"))
	fmt.Println(claims.Check(p, []claims.Validator{needEmail}, time.Now())[0].Reason["message"])
	// Output:
	// [emailpassword totp] true
	// true
	// none of the factors is completed
}

// The payload update that stores a claim value.
func ExampleValue_Payload() {
	b, _ := json.Marshal(mfa.Value{Completed: map[string]int64{"emailpassword": 1767322000}, Satisfied: false}.Payload())
	fmt.Println(string(b))
	// Output:
	// {"st-mfa":{"c":{"emailpassword":1767322000},"v":false}}
}
