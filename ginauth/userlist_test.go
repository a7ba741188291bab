package ginauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/ginauthtest"
)

// emailRecipe is a test recipe that knows users' e-mails and registers an
// e-mail lookup, as emailpassword does.
type emailRecipe struct{ emails map[string]string } // user id -> e-mail

func (emailRecipe) ID() string { return "testemail" }

func (e emailRecipe) Setup(r *Registrar) error {
	r.AddEmailLookup(func(ctx context.Context, db *gorm.DB, email string) ([]string, error) {
		var ids []string
		for id, em := range e.emails {
			if strings.EqualFold(em, email) {
				ids = append(ids, id)
			}
		}
		return ids, nil
	})
	return nil
}

func TestListUsers(t *testing.T) {
	emails := map[string]string{}
	h := newHarness(t, func(c *Config) { c.Recipes = append(c.Recipes, emailRecipe{emails: emails}) })
	ctx := context.Background()
	a := h.auth

	// 7 users: 5 in "public" (two sharing a sign-up instant, to exercise
	// the id tie-break), 2 in "acme".
	var all []string // oldest first
	for i := range 7 {
		tenant := DefaultTenant
		if i >= 5 {
			tenant = "acme"
		}
		id, _, err := a.createUser(ctx, a.db, tenant)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
		if i != 1 {
			h.clock.Advance(time.Second)
		}
	}
	// Users 1 and 2 joined at the same instant: they sort by id.
	if all[1] > all[2] {
		all[1], all[2] = all[2], all[1]
	}
	emails[all[3]] = "carol@example.com"
	emails[all[6]] = "Carol@Example.com"

	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)

	collect := func(t *testing.T, o ListUsersOptions) ([]string, int) {
		t.Helper()
		var ids []string
		pages := 0
		for {
			users, next, err := a.ListUsers(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if next == "" {
				return ids, pages
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			o.PaginationToken = next
		}
	}
	cases := []struct {
		name  string
		opts  ListUsersOptions
		want  []string
		pages int
	}{
		{"default", ListUsersOptions{}, all, 1},
		{"oldest first by 2", ListUsersOptions{Limit: 2}, all, 4},
		{"newest first by 2", ListUsersOptions{Limit: 2, Newest: true}, newestFirst, 4},
		{"newest first by 3", ListUsersOptions{Limit: 3, Newest: true}, newestFirst, 3},
		{"exact page size", ListUsersOptions{Limit: 7}, all, 1},
		{"tenant public", ListUsersOptions{Limit: 2, TenantID: "public"}, all[:5], 3},
		{"tenant acme newest", ListUsersOptions{Limit: 1, TenantID: "acme", Newest: true}, []string{all[6], all[5]}, 2},
		{"unknown tenant", ListUsersOptions{TenantID: "nope"}, nil, 1},
		{"email", ListUsersOptions{Email: " carol@example.com "}, []string{all[3], all[6]}, 1},
		{"email and tenant", ListUsersOptions{Email: "carol@example.com", TenantID: "acme"}, []string{all[6]}, 1},
		{"email nobody has", ListUsersOptions{Email: "dave@example.com"}, nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := collect(t, tc.opts)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
			if pages != tc.pages {
				t.Fatalf("%d pages, want %d", pages, tc.pages)
			}
		})
	}

	t.Run("user object", func(t *testing.T) {
		users, _, err := a.ListUsers(ctx, ListUsersOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		u := users[0]
		if u.ID != all[0] || !slices.Equal(u.TenantIDs, []string{"public"}) || u.TimeJoined != ginauthtest.NewClock(time.Time{}).Now().UnixMilli() {
			t.Fatalf("user %+v", u)
		}
	})

	t.Run("a user deleted between pages is neither repeated nor skipping others", func(t *testing.T) {
		users, next, err := a.ListUsers(ctx, ListUsersOptions{Limit: 3})
		if err != nil || len(users) != 3 {
			t.Fatal(users, err)
		}
		if _, err := a.DeleteUser(ctx, users[2].ID); err != nil { // the cursor's own row
			t.Fatal(err)
		}
		rest, _, err := a.ListUsers(ctx, ListUsersOptions{Limit: 10, PaginationToken: next})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range rest {
			ids = append(ids, u.ID)
		}
		if !slices.Equal(ids, all[3:]) {
			t.Fatalf("after deletion: %v, want %v", ids, all[3:])
		}
	})

	t.Run("limits", func(t *testing.T) {
		for _, n := range []int{-1, 0, 10_000} {
			users, _, err := a.ListUsers(ctx, ListUsersOptions{Limit: n})
			if err != nil || len(users) != 6 {
				t.Fatalf("limit %d: %d users, %v", n, len(users), err)
			}
		}
	})
}

func TestListUsersBadToken(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for range 3 {
		if _, _, err := h.auth.createUser(ctx, h.auth.db, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, good, err := h.auth.ListUsers(ctx, ListUsersOptions{Limit: 1})
	if err != nil || good == "" {
		t.Fatal(good, err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name   string
		token  string
		newest bool
	}{
		{"not base64", "%%%", false},
		{"not json", b64("hello"), false},
		{"no id", b64(`{"t":"2026-01-02T03:04:05Z"}`), false},
		{"bad time", b64(`{"t":"yesterday","i":"x"}`), false},
		{"extra field", b64(`{"t":"2026-01-02T03:04:05Z","i":"x","sql":"1; drop table x"}`), false},
		{"too long", strings.Repeat("A", 5000), false},
		{"other order", good, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			users, next, err := h.auth.ListUsers(ctx, ListUsersOptions{PaginationToken: tc.token, Newest: tc.newest})
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("err %v, want ErrBadRequest", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "pagination token") {
				t.Fatalf("error %#v", err)
			}
			if users != nil || next != "" {
				t.Fatal("results with an error")
			}
		})
	}
}

func TestCountUsers(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	for _, tenant := range []string{"", "public", "acme"} {
		if _, _, err := h.auth.createUser(ctx, h.auth.db, tenant); err != nil {
			t.Fatal(err)
		}
	}
	for tenant, want := range map[string]int64{"": 3, "public": 2, "acme": 1, "nope": 0} {
		n, err := h.auth.CountUsers(ctx, tenant)
		if err != nil || n != want {
			t.Fatalf("CountUsers(%q) = %d, %v; want %d", tenant, n, err, want)
		}
	}
}
