package docs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/recipes/thirdparty"
	"github.com/ginauth/ginauth/tests/internal/everyrecipe"
)

// The drift checks: a doc (README.md, docs/*.md, example/README.md) that
// names a route, a setting or a Go identifier the code does not have fails
// here. The allow-lists below are short on purpose; each entry says why.

// notOurRoutes are /auth/... paths the docs name that are not API routes.
var notOurRoutes = map[string]string{
	"/auth":                "the websites' sign-in page (WebsiteBasePath)",
	"/auth/verify-email":   "the website page an e-mail verification link opens",
	"/auth/reset-password": "the website page a password-reset link opens",
	"/auth/callback":       "the website pages a provider sends the browser back to (/auth/callback/<id>)",
	"/auth/acme":           "concepts.md: a tenant prefix on its own",
	"/auth/Acme":           "concepts.md: tenant ids are case-insensitive",
}

// notOurSettings are ALL_CAPS names the docs use that no file of this
// repository reads: other programs' settings.
var notOurSettings = map[string]bool{
	"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": true, // playwright's own
	"GIN_MODE":                         true, // read by gin itself (the demo also checks it)
	"REFRESH_SESSION":                  true, // an event of the frontend SDK
	"AT":                               true, // the quick start's shell variables for the tokens
	"RT":                               true,
	"APPLE_P8":                         true, // thirdparty.md: the app's own variable in an example
}

// walkRepo calls fn for each file under the repository's root, skipping
// dependencies, build output and git.
func walkRepo(t *testing.T, fn func(rel string, d fs.DirEntry)) {
	t.Helper()
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "dist", "artifacts", "testdata":
				return filepath.SkipDir
			}
		}
		rel, _ := filepath.Rel(root, p)
		fn(rel, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goAPI maps each library package name (ginauth, models, emailpassword,
// ...) to its exported names, and each exported type to its exported
// fields and methods ("" when a struct embeds another type, whose members
// are then not checked).
type goAPI map[string]*pkgAPI

type pkgAPI struct {
	names   map[string]bool
	members map[string]map[string]bool
}

func parseAPI(t *testing.T) goAPI {
	t.Helper()
	root := repoRoot(t)
	api := goAPI{}
	fset := token.NewFileSet()
	walkRepo(t, func(rel string, d fs.DirEntry) {
		if d.IsDir() || !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") ||
			strings.HasPrefix(rel, "tests"+string(filepath.Separator)) {
			return
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		name := f.Name.Name
		if name == "main" {
			return
		}
		p := api[name]
		if p == nil {
			p = &pkgAPI{names: map[string]bool{}, members: map[string]map[string]bool{}}
			api[name] = p
		}
		member := func(typ, m string) {
			if p.members[typ] == nil {
				p.members[typ] = map[string]bool{}
			}
			p.members[typ][m] = true
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					p.names[d.Name.Name] = true
					continue
				}
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if ix, ok := recv.(*ast.IndexExpr); ok {
					recv = ix.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					member(id.Name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								p.names[n.Name] = true
							}
						}
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						p.names[s.Name.Name] = true
						var fields *ast.FieldList
						switch tt := s.Type.(type) {
						case *ast.StructType:
							fields = tt.Fields
						case *ast.InterfaceType:
							fields = tt.Methods
						}
						if fields == nil {
							continue
						}
						for _, fl := range fields.List {
							if len(fl.Names) == 0 {
								member(s.Name.Name, "") // embedded: anything goes
							}
							for _, n := range fl.Names {
								member(s.Name.Name, n.Name)
							}
						}
					}
				}
			}
		}
	})
	return api
}

// qualified matches pkg.Name and pkg.Name.Member, not preceded by a
// letter, digit, dot or slash (so not inside a path or a longer name).
var qualified = regexp.MustCompile(`(^|[^\w./])([a-z][a-z0-9]*)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)

// TestDocsNameExistingGoIdentifiers: every ginauth.X, models.X,
// emailpassword.X.Y, ... in the docs is declared in the code.
func TestDocsNameExistingGoIdentifiers(t *testing.T) {
	api := parseAPI(t)
	for _, must := range []string{"ginauth", "models", "claims", "emailpassword", "dashboard", "devoidc"} {
		if api[must] == nil || len(api[must].names) == 0 {
			t.Fatalf("package %s not found: parseAPI is broken", must)
		}
	}
	checked := 0
	for _, rel := range docFiles(t) {
		for n, line := range strings.Split(readDoc(t, rel), "\n") {
			for _, m := range qualified.FindAllStringSubmatch(line, -1) {
				pkg, name, sub := m[2], m[3], m[4]
				p := api[pkg]
				if p == nil {
					continue // gin.X, gorm.X, ...: not ours
				}
				checked++
				if !p.names[name] {
					t.Errorf("%s:%d: %s.%s does not exist", rel, n+1, pkg, name)
					continue
				}
				if mem, ok := p.members[name]; ok && sub != "" && !mem[sub] && !mem[""] {
					t.Errorf("%s:%d: %s.%s has no field or method %s", rel, n+1, pkg, name, sub)
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d qualified names checked: the pattern is broken", checked)
	}
}

// apiRoutes are the auth API's routes, relative to the API base path, as
// an Auth with every recipe (and every provider with its own route)
// registers them.
func apiRoutes(t *testing.T) []string {
	t.Helper()
	db := ginauthtest.OpenDB(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	apple := thirdparty.Apple(thirdparty.Client{ClientID: "app", AdditionalConfig: map[string]any{
		"teamId": "TEAM", "keyId": "KEY",
		"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}})
	auth, err := ginauth.New(ginauth.Config{
		DB:      db,
		AppInfo: ginauth.AppInfo{AppName: "docs", APIDomain: "http://localhost:3001", WebsiteDomain: "http://localhost:3000"},
		Recipes: everyrecipe.New(everyrecipe.Options{Providers: []thirdparty.Provider{
			apple, thirdparty.GitHub(thirdparty.Client{ClientID: "gh", ClientSecret: "s"})}}).All,
	})
	if err != nil {
		t.Fatal(err)
	}
	base := auth.AppInfo().APIBasePath
	var out []string
	for _, r := range auth.Routes() {
		out = append(out, strings.TrimPrefix(r.Path, base))
	}
	return out
}

// docRoute matches /auth/... paths, placeholders included (<tenantId>,
// {id}, :id, [/<tenantId>]).
var docRoute = regexp.MustCompile(`/auth((?:\[?/[\w.\-<>{}:*\]]+)*)`)

// TestDocsNameExistingRoutes: every /auth/... path a doc names is a route
// of the auth API (possibly under a tenant id), or one of the websites'
// pages listed in notOurRoutes.
func TestDocsNameExistingRoutes(t *testing.T) {
	routes := apiRoutes(t)
	if len(routes) < 30 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	placeholder := regexp.MustCompile(`^(<[^>]*>|\{[^}]*\}|:\w+|\*)$`)
	segs := func(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }
	matches := func(doc, route string) bool {
		d, r := segs(doc), segs(route)
		if strings.HasSuffix(route, "/") && len(d) > len(r) { // a prefix route (serves what is under it)
			d = d[:len(r)]
		}
		if len(d) != len(r) {
			return false
		}
		for i := range d {
			if d[i] != r[i] && !placeholder.MatchString(d[i]) {
				return false
			}
		}
		return true
	}
	known := func(rel string) bool {
		for _, cand := range []string{rel, "/" + strings.Join(segs(rel)[1:], "/")} { // with or without a tenant id
			for _, r := range routes {
				if matches(cand, r) {
					return true
				}
			}
		}
		for p := range notOurRoutes {
			if rel == strings.TrimPrefix(p, "/auth") || strings.HasPrefix(rel, strings.TrimPrefix(p, "/auth")+"/") && p == "/auth/callback" {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, rel := range docFiles(t) {
		for n, line := range strings.Split(readDoc(t, rel), "\n") {
			for _, m := range docRoute.FindAllStringSubmatchIndex(line, -1) {
				if m[0] > 0 && (isWord(line[m[0]-1]) || line[m[0]-1] == '.') {
					continue // part of another path (e.g. /api/auth/...)
				}
				p := line[m[2]:m[3]]
				p = strings.ReplaceAll(p, "[/<tenantId>]", "")
				p = strings.TrimRight(p, ".:")
				if p == "" || p == "/" || p == "/*" {
					continue // the base path itself
				}
				checked++
				if !known(p) {
					t.Errorf("%s:%d: /auth%s is not a route of the auth API", rel, n+1, p)
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d routes checked: the pattern is broken", checked)
	}
}

func isWord(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// setting matches ALL_CAPS names with an underscore (DATABASE_URL,
// E2E_API_PORT), the shape of every setting the demo and the tests read;
// single words (HOST, PORT) are checked where a doc writes NAME=.
var (
	setting       = regexp.MustCompile(`\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b`)
	settingAssign = regexp.MustCompile("(?:^|[\\s`(])([A-Z][A-Z0-9_]*)=")
)

// TestDocsNameExistingSettings: every setting-like ALL_CAPS name in the
// docs (an environment variable of the demo, a status the API answers, a
// constant) appears in the code: the Go, TypeScript and JavaScript sources,
// the scripts and the Makefile.
func TestDocsNameExistingSettings(t *testing.T) {
	root := repoRoot(t)
	inCode := map[string]bool{}
	word := regexp.MustCompile(`\b[A-Z][A-Z0-9_]*\b`)
	walkRepo(t, func(rel string, d fs.DirEntry) {
		if d.IsDir() {
			return
		}
		switch filepath.Ext(rel) {
		case ".go", ".ts", ".mjs", ".js", ".jsx", ".sh", ".sql":
		default:
			if d.Name() != "Makefile" {
				return
			}
		}
		if strings.HasPrefix(rel, filepath.Join("tests", "docs")) {
			return // not this test's own allow-lists
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range word.FindAllString(string(b), -1) {
			inCode[w] = true
		}
	})
	for _, must := range []string{"DATABASE_URL", "SQLITE_PATH", "E2E_API_PORT", "TRUSTED_PROXIES"} {
		if !inCode[must] {
			t.Fatalf("%s not found in the code: the scan is broken", must)
		}
	}
	var missing []string
	checked := 0
	for _, rel := range docFiles(t) {
		for n, line := range strings.Split(readDoc(t, rel), "\n") {
			names := setting.FindAllString(line, -1)
			for _, m := range settingAssign.FindAllStringSubmatch(line, -1) {
				names = append(names, m[1])
			}
			for _, name := range names {
				checked++
				if !inCode[name] && !notOurSettings[name] {
					missing = append(missing, rel+":"+strconv.Itoa(n+1)+": "+name)
				}
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s is named in the docs but in no code", m)
	}
	if checked < 30 {
		t.Fatalf("only %d names checked: the pattern is broken", checked)
	}
}
