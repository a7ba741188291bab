package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's root (this package is tests/docs).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// docFiles are the documents the checks read, relative to the root.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	files := []string{"README.md", "example/README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	return files
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// goBlocks returns the ```go blocks of a markdown text.
func goBlocks(text string) []string {
	var out []string
	for _, m := range goBlock.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocProgramsBuild compiles every complete program (a ```go block with
// "package main") of README.md and docs/*.md, read from the files, in a
// new module that depends on this checkout the way the quick start tells
// users to today (the module is on no proxy yet): `go mod edit -require
// github.com/ginauth/ginauth@v0.0.0 -replace github.com/ginauth/ginauth=<clone>`.
// The other requirements are pinned to this repository's versions, so the
// build runs offline from the module cache.
func TestDocProgramsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	root := repoRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	var mod struct {
		Go      string
		Require []struct{ Path, Version string }
	}
	out, err := exec.Command(goBin, "mod", "edit", "-json", filepath.Join(root, "go.mod")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, rel := range docFiles(t) {
		for i, block := range goBlocks(readDoc(t, rel)) {
			if !regexp.MustCompile(`(?m)^package main$`).MatchString(block) {
				continue
			}
			found++
			name := fmt.Sprintf("%s#%d", rel, i)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				run := func(args ...string) {
					t.Helper()
					cmd := exec.Command(goBin, args...)
					cmd.Dir = dir
					// Offline: every module comes from the cache, checked against go.sum.
					cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("go %s: %v\n%s\n--- the program (%s) ---\n%s", strings.Join(args, " "), err, b, name, block)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(block), 0o644); err != nil {
					t.Fatal(err)
				}
				run("mod", "init", "example.com/docsnippet")
				// The install step of docs/quickstart.md.
				run("mod", "edit", "-require", "github.com/ginauth/ginauth@v0.0.0",
					"-replace", "github.com/ginauth/ginauth="+root)
				args := []string{"mod", "edit", "-go=" + mod.Go}
				for _, r := range mod.Require {
					args = append(args, "-require="+r.Path+"@"+r.Version)
				}
				run(args...)
				if err := os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644); err != nil {
					t.Fatal(err)
				}
				// The README's program is built (linked) as a user would; the
				// others are type-checked by go vet, which is much quicker
				// on a busy machine and also runs vet's checks.
				if rel == "README.md" {
					run("build", "-o", os.DevNull, ".")
				} else {
					run("vet", ".")
				}
			})
		}
	}
	if found < 2 {
		t.Fatalf("found %d programs in the docs; the README's program at least should be one", found)
	}
}

// TestREADMEHasAProgram keeps the README's snippet a complete program, so
// that TestDocProgramsBuild covers it.
func TestREADMEHasAProgram(t *testing.T) {
	for _, b := range goBlocks(readDoc(t, "README.md")) {
		if strings.Contains(b, "package main") && strings.Contains(b, "func main()") {
			return
		}
	}
	t.Fatal("README.md has no complete Go program")
}

// TestSnippetsAreSafe: every Go snippet that builds a gin engine sets its
// trusted proxies (gin believes every X-Forwarded-For by default, which
// lets a client dodge the per-address rate limits), and every one that
// opens SQLite uses the quick start's settings (WAL, busy timeout,
// immediate write transactions).
func TestSnippetsAreSafe(t *testing.T) {
	engine := regexp.MustCompile(`\bgin\.(Default|New)\(\)`)
	sqliteOpen := regexp.MustCompile(`sqlite\.Open\(([^)]*)\)`)
	for _, rel := range docFiles(t) {
		for i, b := range goBlocks(readDoc(t, rel)) {
			if engine.MatchString(b) && !strings.Contains(b, "SetTrustedProxies(") {
				t.Errorf("%s, Go block %d: builds a gin engine without SetTrustedProxies:\n%s", rel, i, b)
			}
			for _, m := range sqliteOpen.FindAllStringSubmatch(b, -1) {
				arg := strings.TrimSpace(m[1])
				if strings.HasPrefix(arg, `"`) && !strings.Contains(arg, "journal_mode(WAL)") {
					t.Errorf("%s, Go block %d: sqlite.Open(%s) without the recommended settings", rel, i, arg)
				}
			}
		}
	}
}
