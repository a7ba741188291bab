package emailverification_test

import (
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// TestSendBurstSendsExactlyTen: 30 verification e-mails requested at once
// by one user (default rule: 10 an hour per user) send exactly 10, with
// the counters in the database (SQLite, or the shared Postgres when
// GINAUTH_TEST_DATABASE_URL is set) and in memory.
func TestSendBurstSendsExactlyTen(t *testing.T) {
	for _, name := range []string{"database", "memory"} {
		t.Run(name, func(t *testing.T) {
			s := setup{defaultLimits: true}
			if name == "memory" {
				s.modifyCore = func(c *ginauth.Config) { c.RateLimit.Store = ginauth.NewMemoryRateLimitStore() }
			}
			h := newHarness(t, s)
			cl := h.client("header")
			cl.signup("ann@example.com")
			// Each request is its own client holding the user's access
			// token.
			clients := make([]*ginauthtest.Client, 30)
			for i := range clients {
				clients[i] = &ginauthtest.Client{Handler: h.r, RID: "emailverification", Access: cl.c.Access,
					Headers: []string{"fdi-version", "3.1,4.0,4.1,4.2"}}
			}
			codes := ginauthtest.BurstCodes(len(clients), func(i int) int {
				return clients[i].Do("POST", "/auth/user/email/verify/token", "").Code
			})
			if sent := h.mail.count(); sent != 10 || codes[200] != 10 || codes[429] != 20 {
				t.Fatalf("%d e-mails, answers %v; want exactly 10 and 20 refusals", sent, codes)
			}
		})
	}
}
