package ginauth

import "testing"

func TestSmokeCreateVerifyRefresh(t *testing.T) {
	for _, mode := range []string{"cookie", "header"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, nil)
			cl := h.client(mode)
			cl.login("u1")
			r := cl.do("GET", "/me", "")
			expect(t, r, 200, "")
			if r.body["userId"] != "u1" {
				t.Fatalf("body %s", r.Body)
			}
			expect(t, cl.do("POST", "/auth/session/refresh", ""), 200, "")
			expect(t, cl.do("GET", "/me", ""), 200, "")
			expect(t, cl.do("POST", "/auth/signout", ""), 200, "")
			expect(t, cl.do("GET", "/me", ""), 401, "unauthorised")
		})
	}
}
