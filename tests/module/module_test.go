// Package module checks what an application inherits by depending on
// ginauth: its module graph must hold the library's dependencies and nothing
// that only ginauth's own tests and benchmarks need.
package module

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// benchOnly are modules that tests/bench (a module of its own) uses to
// compare ginauth with its peers. An app that imports ginauth must never see
// them in its module graph.
var benchOnly = []string{
	"github.com/appleboy/gin-jwt",
	"github.com/gin-contrib/sessions",
	"github.com/wader/gormstore",
	"github.com/gorilla/sessions",
}

// (go.mongodb.org/mongo-driver is in every gin 1.12 app's graph: gin's own
// BSON binding requires it, so it is not ours to remove.)

// appSource imports the core and every recipe, as a real app might.
const appSource = `package main

import (
	_ "github.com/ginauth/ginauth/claims"
	_ "github.com/ginauth/ginauth/ginauth"
	_ "github.com/ginauth/ginauth/models"
	_ "github.com/ginauth/ginauth/recipes/dashboard"
	_ "github.com/ginauth/ginauth/recipes/emaildelivery"
	_ "github.com/ginauth/ginauth/recipes/emailpassword"
	_ "github.com/ginauth/ginauth/recipes/emailverification"
	_ "github.com/ginauth/ginauth/recipes/multifactorauth"
	_ "github.com/ginauth/ginauth/recipes/multitenancy"
	_ "github.com/ginauth/ginauth/recipes/passwordless"
	_ "github.com/ginauth/ginauth/recipes/thirdparty"
	_ "github.com/ginauth/ginauth/recipes/totp"
	_ "github.com/ginauth/ginauth/recipes/usermetadata"
	_ "github.com/ginauth/ginauth/recipes/userroles"
)

func main() {}
`

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate this test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestFreshAppModuleGraphHasNoBenchmarkPeers builds the module graph of a new
// app that depends on ginauth the way docs/quickstart.md says (a replace
// directive while the module is not on a proxy) and checks that none of the
// benchmark peers is in it.
func TestFreshAppModuleGraphHasNoBenchmarkPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root := repoRoot(t)
	app := t.TempDir()
	gomod := "module example.com/app\n\ngo 1.26.0\n\nrequire github.com/ginauth/ginauth v0.0.0\n\nreplace github.com/ginauth/ginauth => " + root + "\n"
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", gomod)
	write("main.go", appSource)
	// ginauth's go.sum holds every checksum the app needs, so tidy works
	// from the module cache without asking the checksum database.
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sums))

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = app
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	graph := run("mod", "graph")
	if !strings.Contains(graph, "github.com/gin-gonic/gin") {
		t.Fatalf("the module graph does not even hold gin; the check is not looking at the app's graph:\n%s", graph)
	}
	for _, peer := range benchOnly {
		if strings.Contains(graph, peer) {
			t.Errorf("an app that imports ginauth inherits %s (only tests/bench needs it)", peer)
		}
	}
}
