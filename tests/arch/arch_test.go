// Package arch keeps docs/architecture.md true: it fails when a package
// imports what the page says it may not.
package arch

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ginauth/ginauth/"

// recipeDeps are the recipes each recipe may import (docs/architecture.md);
// every recipe may import recipes/kit.
var recipeDeps = map[string][]string{
	"recipes/dashboard":         {"recipes/accountlinking", "recipes/emailpassword", "recipes/multitenancy", "recipes/usermetadata", "recipes/userroles"},
	"recipes/emailpassword":     {"recipes/emaildelivery"},
	"recipes/emailverification": {"recipes/emaildelivery"},
	"recipes/passwordless":      {"recipes/emaildelivery", "recipes/multifactorauth"},
	"recipes/multitenancy":      {"recipes/thirdparty"},
	"recipes/totp":              {"recipes/multifactorauth"},
	"recipes/webauthn":          {"recipes/emaildelivery", "recipes/multifactorauth"},
}

type pkg struct {
	ImportPath string
	Imports    []string
	Module     *struct{ Path string }
}

// forbidden returns why p may not import imp, or "".
func forbidden(p, imp string) string {
	switch {
	case imp == "internal/testdb" && !strings.HasPrefix(p, "tests/") && !strings.HasPrefix(p, "ginauthtest"):
		return "only tests (and the public test kit, ginauthtest) use the test database"
	case imp == "internal/testlimits" && !strings.HasPrefix(p, "tests/") && !strings.HasPrefix(p, "recipes/internal/"):
		return "the tests' rate limits are for tests only"
	case p == "internal/testlimits":
		if strings.HasPrefix(imp, "recipes/") {
			return "the tests' rate limits need ginauth alone"
		}
	case imp == "internal/bridge" && p != "ginauth" && p != "recipes/kit":
		return "the bridge is between ginauth and the kit alone"
	case p == "models" || p == "claims" || strings.HasPrefix(p, "internal/"):
		if imp == "ginauth" || strings.HasPrefix(imp, "recipes/") {
			return p + " is below ginauth and the recipes"
		}
	case p == "ginauth" && strings.HasPrefix(imp, "recipes/"):
		return "ginauth must not know its recipes"
	case p == "recipes/kit":
		if strings.HasPrefix(imp, "recipes/") {
			return "the kit is below every recipe"
		}
	case strings.HasPrefix(p, "recipes/") && !strings.HasPrefix(p, "recipes/internal/"):
		// The kit wraps what recipes need of internal/* (random tokens, JWS
		// signing, sealing), so a built-in recipe, like a third-party one,
		// imports none of it; so does thirdparty/oidctest, a test helper
		// that a third-party recipe's tests could use as well.
		if strings.HasPrefix(imp, "recipes/internal/") || strings.HasPrefix(imp, "internal/") {
			return "recipes use only what a third-party recipe could: the kit and the app API"
		}
		own := strings.Join(strings.SplitN(p, "/", 3)[:2], "/") // recipes/thirdparty/oidctest -> recipes/thirdparty
		if strings.HasPrefix(imp, "recipes/") && imp != "recipes/kit" && !strings.HasPrefix(imp, own) &&
			!slices.Contains(recipeDeps[own], imp) {
			return "a recipe imports another only when docs/architecture.md declares it"
		}
	}
	return ""
}

// TestImports walks `go list -deps -json ./...` (the packages themselves,
// not their tests) and fails on every import the rules forbid.
func TestImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, module) {
			continue
		}
		seen++
		from := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if why := forbidden(from, strings.TrimPrefix(imp, module)); why != "" {
				t.Errorf("%s imports %s: %s", from, strings.TrimPrefix(imp, module), why)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("only %d of the module's packages listed", seen)
	}
}

// TestRulesBite checks that the rules refuse what they are for, so that a
// rule that stopped matching fails here rather than passing silently.
func TestRulesBite(t *testing.T) {
	for _, c := range [][2]string{
		{"ginauth", "recipes/kit"},
		{"ginauth", "recipes/emailpassword"},
		{"claims", "ginauth"},
		{"models", "ginauth"},
		{"recipes/kit", "recipes/userroles"},
		{"recipes/userroles", "recipes/emailpassword"},
		{"recipes/totp", "recipes/internal/recipetest"},
		{"recipes/usermetadata", "internal/bridge"},
		{"example", "internal/testdb"},
		{"recipes/emailpassword", "internal/testdb"},
		{"recipes/totp", "internal/seal"},
		{"recipes/emailpassword", "internal/random"},
		{"recipes/thirdparty", "internal/jws"},
		{"recipes/thirdparty/oidctest", "internal/jws"},
		{"recipes/totp", "internal/testlimits"},
		{"example", "internal/testlimits"},
		{"internal/testlimits", "recipes/kit"},
	} {
		if forbidden(c[0], c[1]) == "" {
			t.Errorf("%s may import %s", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"recipes/totp", "recipes/multifactorauth"}, {"recipes/totp", "recipes/kit"}, {"recipes/kit", "internal/bridge"}, {"tests/security", "internal/testdb"},
		{"internal/testlimits", "ginauth"}, {"recipes/internal/recipetest", "internal/testlimits"}, {"tests/security", "internal/testlimits"}} {
		if why := forbidden(c[0], c[1]); why != "" {
			t.Errorf("%s may not import %s: %s", c[0], c[1], why)
		}
	}
}
