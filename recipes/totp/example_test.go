package totp_test

import (
	"fmt"
	"time"

	"github.com/ginauth/ginauth/recipes/totp"
)

// Computing the code an authenticator app shows for a secret at a moment.
func ExampleCode() {
	secret, _ := totp.DecodeSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") // "12345678901234567890"
	code, _ := totp.Code(secret, time.Unix(1111111109, 0), totp.Params{})
	fmt.Println(code)
	code, _ = totp.Code(secret, time.Unix(1111111109, 0), totp.Params{Algorithm: totp.SHA1, Digits: 8, Period: 30})
	fmt.Println(code)
	// Output:
	// 081804
	// 07081804
}

// The otpauth:// URI an authenticator app scans as a QR code.
func ExampleURI() {
	fmt.Println(totp.URI("Todos", "ada@example.com", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", totp.Params{}))
	// Output:
	// otpauth://totp/Todos:ada@example.com?algorithm=SHA1&digits=6&issuer=Todos&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
}
