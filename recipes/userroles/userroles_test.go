package userroles_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/kit"
	"github.com/ginauth/ginauth/recipes/userroles"
)

var ctx = context.Background()

func ok(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) }

func jsonEqual(t *testing.T, got string, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body\n %s\nwant\n %s", got, want)
	}
}

func TestRoleGuard(t *testing.T) {
	h := newHarness(t)
	a := h.auth
	h.r.DELETE("/todos/:id", a.VerifySession(), a.RequireClaim(userroles.HasRole("admin")), ok)
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"todos:delete"})
	h.must(err)
	_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, "user", []string{"todos:read"})
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "", "alice", "admin")
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "public", "bob", "user")
	h.must(err)

	alice, bob, nobody := h.login("alice"), h.login("bob"), h.client()
	cases := []struct {
		name string
		cl   *client
		code int
		body string
	}{
		{"admin passes", alice, 200, `{"ok":true}`},
		{"user is forbidden", bob, 403, `{"message":"invalid claim","claimValidationErrors":[{"id":"st-role",
			"reason":{"message":"wrong value","expectedToInclude":"admin","actualValue":["user"]}}]}`},
		{"no session is unauthorised", nobody, 401, `{"message":"unauthorised"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.cl.do("DELETE", "/todos/1")
			if r.code != tc.code {
				t.Fatalf("status %d, want %d: %s", r.code, tc.code, r.raw)
			}
			jsonEqual(t, r.raw, tc.body)
		})
	}
	t.Run("roles and permissions are in the new session's payload", func(t *testing.T) {
		s, _, err := a.CreateSessionTokens(ctx, ginauth.NewSession{UserID: "alice"})
		h.must(err)
		if roles, _ := userroles.RoleClaim.Get(s.Payload()); !slices.Equal(roles, []string{"admin"}) {
			t.Fatalf("st-role %v", s.Payload()["st-role"])
		}
		if perms, _ := userroles.PermissionClaim.Get(s.Payload()); !slices.Equal(perms, []string{"todos:delete"}) {
			t.Fatalf("st-perm %v", s.Payload()["st-perm"])
		}
	})
}

// TestPackageLevelGuard uses the exact line of the documentation, with the
// default instance.
func TestPackageLevelGuard(t *testing.T) {
	h := newHarness(t)
	ginauth.SetDefault(h.auth)
	t.Cleanup(func() { ginauth.SetDefault(nil) })
	router := h.r
	del := ok
	router.DELETE("/todos/:id", ginauth.VerifySession(), ginauth.RequireClaim(userroles.HasRole("admin")), del)

	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil)
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "", "alice", "admin")
	h.must(err)
	if r := h.login("alice").do("DELETE", "/todos/1"); r.code != 200 {
		t.Fatalf("admin: %d %s", r.code, r.raw)
	}
	if r := h.login("bob").do("DELETE", "/todos/1"); r.code != 403 {
		t.Fatalf("non-admin: %d %s", r.code, r.raw)
	}
}

func TestRevocationTiming(t *testing.T) {
	h := newHarness(t)
	a := h.auth
	h.r.GET("/admin", a.VerifySession(), a.RequireClaim(userroles.HasRole("admin")), ok)
	h.r.GET("/admin-fresh", a.VerifySession(), a.RequireClaim(userroles.HasRole("admin", claims.MaxAge(0))), ok)
	h.r.POST("/refresh-roles", a.VerifySession(), func(c *gin.Context) {
		if err := userroles.RefreshRolesInSession(c, ginauth.MustSession(c)); err != nil {
			kit.Of(a).WriteError(c, err)
			return
		}
		ok(c)
	})
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", nil)
	h.must(err)
	grant := func() {
		_, err := h.roles.AddRoleToUser(ctx, "", "alice", "admin")
		h.must(err)
	}
	revoke := func() {
		_, err := h.roles.RemoveUserRole(ctx, "", "alice", "admin")
		h.must(err)
	}
	expect := func(cl *client, path string, code int) {
		t.Helper()
		if r := cl.do("GET", path); r.code != code {
			t.Fatalf("GET %s: %d, want %d: %s", path, r.code, code, r.raw)
		}
	}

	t.Run("revoked role works until the max age, then stops", func(t *testing.T) {
		grant()
		cl := h.login("alice")
		expect(cl, "/admin", 200)
		revoke()
		h.clock.Advance(299 * time.Second)
		expect(cl, "/admin", 200) // the token's roles are 299 s old: not refetched
		expect(cl, "/admin-fresh", 403)
		h.clock.Advance(2 * time.Second)
		expect(cl, "/admin", 403) // refetched: revoked
	})
	t.Run("granted role works after the max age", func(t *testing.T) {
		cl := h.login("alice")
		expect(cl, "/admin", 403)
		grant()
		expect(cl, "/admin", 403)
		h.clock.Advance(301 * time.Second)
		expect(cl, "/admin", 200)
		revoke()
	})
	t.Run("RefreshRolesInSession makes it immediate", func(t *testing.T) {
		grant()
		cl := h.login("alice")
		expect(cl, "/admin", 200)
		revoke()
		if r := cl.do("POST", "/refresh-roles"); r.code != 200 {
			t.Fatalf("refresh-roles: %d %s", r.code, r.raw)
		}
		expect(cl, "/admin", 403)
	})
	t.Run("UpdateRolesInSessions reaches clients at their next refresh", func(t *testing.T) {
		grant()
		cl1, cl2 := h.login("alice"), h.login("alice")
		expect(cl1, "/admin", 200)
		revoke()
		h.must(userroles.UpdateRolesInSessions(ctx, h.auth, "alice"))
		expect(cl1, "/admin", 200) // the old access token still says admin
		for _, cl := range []*client{cl1, cl2} {
			if r := cl.do("POST", "/auth/session/refresh"); r.code != 200 {
				t.Fatalf("refresh: %d %s", r.code, r.raw)
			}
			expect(cl, "/admin", 403)
		}
	})
}

func TestPermissionGuards(t *testing.T) {
	h := newHarness(t)
	a := h.auth
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "editor", []string{"read", "write"})
	h.must(err)
	_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, "reviewer", []string{"read", "comment"})
	h.must(err)
	_, err = h.roles.CreateNewRoleOrAddPermissions(ctx, "banned", nil)
	h.must(err)
	for _, r := range []string{"editor", "reviewer"} {
		_, err = h.roles.AddRoleToUser(ctx, "", "carol", r)
		h.must(err)
	}
	_, err = h.roles.AddRoleToUser(ctx, "", "mallory", "banned")
	h.must(err)

	cases := []struct {
		name    string
		v       claims.Validator
		carol   int
		mallory int
		key     string // reason key of carol's failure
	}{
		{"HasPermission", userroles.HasPermission("write"), 200, 403, ""},
		{"HasPermission missing", userroles.HasPermission("delete"), 403, 403, "expectedToInclude"},
		{"HasAnyPermission", userroles.HasAnyPermission([]string{"delete", "comment"}), 200, 403, ""},
		{"HasAnyPermission none", userroles.HasAnyPermission([]string{"delete", "admin"}), 403, 403, "expectedToIncludeAtLeastOneOf"},
		{"HasAllPermissions", userroles.HasAllPermissions([]string{"read", "write", "comment"}), 200, 403, ""},
		{"HasAllPermissions not all", userroles.HasAllPermissions([]string{"read", "delete"}), 403, 403, "expectedToInclude"},
		{"LacksPermission", userroles.LacksPermission("delete"), 200, 200, ""},
		{"LacksPermission has it", userroles.LacksPermission("write"), 403, 200, "expectedToNotInclude"},
		{"LacksRole", userroles.LacksRole("banned"), 200, 403, ""},
		{"HasAnyRole", userroles.HasAnyRole([]string{"admin", "reviewer"}), 200, 403, ""},
		{"HasAllRoles", userroles.HasAllRoles([]string{"editor", "reviewer"}), 200, 403, ""},
		{"HasAllRoles not all", userroles.HasAllRoles([]string{"editor", "admin"}), 403, 403, "expectedToInclude"},
	}
	for i, tc := range cases {
		path := fmt.Sprintf("/p%d", i)
		h.r.GET(path, a.VerifySession(), a.RequireClaim(tc.v), ok)
		t.Run(tc.name, func(t *testing.T) {
			for _, who := range []struct {
				user string
				code int
			}{{"carol", tc.carol}, {"mallory", tc.mallory}} {
				r := h.login(who.user).do("GET", path)
				if r.code != who.code {
					t.Fatalf("%s: %d, want %d: %s", who.user, r.code, who.code, r.raw)
				}
				if r.code == 403 && who.user == "carol" {
					errs, _ := r.body["claimValidationErrors"].([]any)
					reason, _ := errs[0].(map[string]any)["reason"].(map[string]any)
					if _, has := reason[tc.key]; !has || reason["message"] != "wrong value" {
						t.Fatalf("reason %v, want key %s", reason, tc.key)
					}
				}
			}
		})
	}
	t.Run("permissions follow the tenant", func(t *testing.T) {
		_, err := h.roles.AddRoleToUser(ctx, "acme", "dave", "editor")
		h.must(err)
		for tenant, want := range map[string][]string{"acme": {"read", "write"}, "public": {}} {
			s, _, err := a.CreateSessionTokens(ctx, ginauth.NewSession{UserID: "dave", TenantID: tenant})
			h.must(err)
			got, _ := userroles.PermissionClaim.Get(s.Payload())
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", tenant, got, want)
			}
		}
	})
}

func TestSkipAddingClaims(t *testing.T) {
	h := newHarness(t, userroles.Config{SkipAddingRolesToAccessToken: true, SkipAddingPermissionsToAccessToken: true})
	a := h.auth
	_, err := h.roles.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"x"})
	h.must(err)
	_, err = h.roles.AddRoleToUser(ctx, "", "alice", "admin")
	h.must(err)
	s, _, err := a.CreateSessionTokens(ctx, ginauth.NewSession{UserID: "alice"})
	h.must(err)
	if _, has := s.Payload()["st-role"]; has {
		t.Fatal("st-role added despite the config")
	}
	if _, has := s.Payload()["st-perm"]; has {
		t.Fatal("st-perm added despite the config")
	}
	// A guard still fetches the claim it needs.
	h.r.GET("/admin", a.VerifySession(), a.RequireClaim(userroles.HasRole("admin")), ok)
	if r := h.login("alice").do("GET", "/admin"); r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
}

func TestAPI(t *testing.T) {
	h := newHarness(t)
	r := h.roles
	step := 0
	check := func(got, want any, err error) {
		t.Helper()
		step++
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: got %#v, want %#v", step, got, want)
		}
	}
	created, err := r.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"b", "a", "a"})
	check(created, true, err)
	created, err = r.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"c", "a"})
	check(created, false, err)
	perms, err := r.GetPermissionsForRole(ctx, "admin")
	check(perms, []string{"a", "b", "c"}, err)
	created, err = r.CreateNewRoleOrAddPermissions(ctx, "viewer", []string{"a"})
	check(created, true, err)
	roles, err := r.GetAllRoles(ctx)
	check(roles, []string{"admin", "viewer"}, err)
	roles, err = r.GetRolesThatHavePermission(ctx, "a")
	check(roles, []string{"admin", "viewer"}, err)
	roles, err = r.GetRolesThatHavePermission(ctx, "nope")
	check(roles, []string{}, err)
	check(nil, nil, r.RemovePermissionsFromRole(ctx, "admin", []string{"a", "zzz"}))
	perms, err = r.GetPermissionsForRole(ctx, "admin")
	check(perms, []string{"b", "c"}, err)

	had, err := r.AddRoleToUser(ctx, "", "u1", "admin")
	check(had, false, err)
	had, err = r.AddRoleToUser(ctx, "public", "u1", "admin")
	check(had, true, err)
	had, err = r.AddRoleToUser(ctx, "acme", "u1", "viewer")
	check(had, false, err)
	had, err = r.AddRoleToUser(ctx, "", "u2", "admin")
	check(had, false, err)
	roles, err = r.GetRolesForUser(ctx, "", "u1")
	check(roles, []string{"admin"}, err)
	roles, err = r.GetRolesForUser(ctx, "acme", "u1")
	check(roles, []string{"viewer"}, err)
	users, err := r.GetUsersThatHaveRole(ctx, "", "admin")
	check(users, []string{"u1", "u2"}, err)
	perms, err = r.GetPermissionsForUser(ctx, "acme", "u1")
	check(perms, []string{"a"}, err)

	had, err = r.RemoveUserRole(ctx, "", "u2", "admin")
	check(had, true, err)
	had, err = r.RemoveUserRole(ctx, "", "u2", "admin")
	check(had, false, err)

	existed, err := r.DeleteRole(ctx, "admin")
	check(existed, true, err)
	existed, err = r.DeleteRole(ctx, "admin")
	check(existed, false, err)
	roles, err = r.GetRolesForUser(ctx, "", "u1")
	check(roles, []string{}, err)
	roles, err = r.GetRolesThatHavePermission(ctx, "b")
	check(roles, []string{}, err)

	t.Run("unknown role", func(t *testing.T) {
		calls := map[string]func() error{
			"AddRoleToUser":             func() error { _, err := r.AddRoleToUser(ctx, "", "u1", "ghost"); return err },
			"RemoveUserRole":            func() error { _, err := r.RemoveUserRole(ctx, "", "u1", "ghost"); return err },
			"GetUsersThatHaveRole":      func() error { _, err := r.GetUsersThatHaveRole(ctx, "", "ghost"); return err },
			"GetPermissionsForRole":     func() error { _, err := r.GetPermissionsForRole(ctx, "ghost"); return err },
			"RemovePermissionsFromRole": func() error { return r.RemovePermissionsFromRole(ctx, "ghost", []string{"a"}) },
		}
		for name, call := range calls {
			err := call()
			if !errors.Is(err, userroles.ErrUnknownRole) || !errors.Is(err, ginauth.ErrBadRequest) {
				t.Errorf("%s: %v, want ErrUnknownRole", name, err)
			}
		}
	})
	t.Run("bad names", func(t *testing.T) {
		long := string(make([]byte, 300))
		for _, c := range [][2]string{{"", "p"}, {" ", "p"}, {"r", ""}, {long, "p"}, {"r", long}} {
			if _, err := r.CreateNewRoleOrAddPermissions(ctx, c[0], []string{c[1]}); !errors.Is(err, ginauth.ErrBadRequest) {
				t.Errorf("%q/%q: %v", c[0], c[1], err)
			}
		}
		if roles, _ := r.GetAllRoles(ctx); !slices.Equal(roles, []string{"viewer"}) {
			t.Errorf("a refused call changed the roles: %v", roles)
		}
	})
	t.Run("not set up", func(t *testing.T) {
		if _, err := userroles.New().GetAllRoles(ctx); !errors.Is(err, userroles.ErrNotSetUp) {
			t.Fatal(err)
		}
	})
}

func TestConcurrentAssignment(t *testing.T) {
	h := newHarness(t)
	r := h.roles
	const n = 50
	_, err := r.CreateNewRoleOrAddPermissions(ctx, "admin", []string{"p"})
	h.must(err)

	t.Run("same assignment from 50 goroutines", func(t *testing.T) {
		var mu sync.Mutex
		firsts, errs := 0, []error{}
		ginauthtest.Burst(n, func(int) {
			had, err := r.AddRoleToUser(ctx, "", "alice", "admin")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if !had {
				firsts++
			}
		})
		if len(errs) > 0 || firsts != 1 {
			t.Fatalf("%d calls saw the role as new (want 1); errors %v", firsts, errs)
		}
		users, err := r.GetUsersThatHaveRole(ctx, "", "admin")
		if err != nil || !slices.Equal(users, []string{"alice"}) {
			t.Fatal(users, err)
		}
	})
	t.Run("50 goroutines creating roles and assigning them", func(t *testing.T) {
		errc := make(chan error, 3*n)
		ginauthtest.Burst(n, func(i int) {
			role := fmt.Sprintf("r%02d", i%10) // ten roles, each created by five goroutines
			if _, err := r.CreateNewRoleOrAddPermissions(ctx, role, []string{"p", role + ":x"}); err != nil {
				errc <- err
				return
			}
			if _, err := r.AddRoleToUser(ctx, "", "bob", role); err != nil {
				errc <- err
			}
		})
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		roles, err := r.GetRolesForUser(ctx, "", "bob")
		h.must(err)
		if len(roles) != 10 {
			t.Fatalf("bob has %v", roles)
		}
		roles, err = r.GetRolesThatHavePermission(ctx, "p")
		h.must(err)
		if len(roles) != 11 {
			t.Fatalf("p is granted by %v", roles)
		}
	})
}
