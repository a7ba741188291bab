package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets a test run the demo's own main() in a child process (the
// test binary re-executed with GINAUTH_DEMO_MAIN=1), to see exactly what a
// user sees on the terminal when start-up fails.
func TestMain(m *testing.M) {
	if os.Getenv("GINAUTH_DEMO_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runDemo runs main() with env added to a clean demo environment and
// returns its output; it fails the test unless the demo exits with an error
// within a minute.
func runDemo(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GINAUTH_DEMO_MAIN=1", "HOST=127.0.0.1", "DATABASE_URL=", "DEMO_OIDC=",
		"DEMO_DEV_ROUTES=", "TOTP_SECRET_KEY=", "SMTP_HOST=", "SQLITE_PATH="+filepath.Join(t.TempDir(), "demo.db"))
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the demo exited 0, want a start-up error; output:\n%s", out.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the demo did not exit; output:\n%s", out.String())
	}
	return out.String()
}

// A port in use: the error names the port and the setting to change, and
// "API listening" is never logged (it used to be, before the bind failed).
func TestStartupPortInUseNamesPortAndSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	out := runDemo(t, "PORT="+port)
	if strings.Contains(out, "API listening") {
		t.Errorf("logged \"API listening\" although the bind failed:\n%s", out)
	}
	if !strings.Contains(out, "port "+port+" is already in use") || !strings.Contains(out, "set PORT") {
		t.Errorf("the error does not name port %s and PORT:\n%s", port, out)
	}
}

// The dev OpenID Connect provider's port in use names DEMO_OIDC_ADDR.
func TestStartupDevOIDCPortInUseNamesSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out := runDemo(t, "DEMO_OIDC=1", "DEMO_OIDC_ADDR="+ln.Addr().String(), "PORT=0")
	if !strings.Contains(out, "already in use") || !strings.Contains(out, "set DEMO_OIDC_ADDR") {
		t.Errorf("the error does not name DEMO_OIDC_ADDR:\n%s", out)
	}
}

// A missing SQLite folder is named (SQLite itself says "out of memory (14)").
func TestStartupMissingSQLiteFolderIsNamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-folder")
	out := runDemo(t, "SQLITE_PATH="+filepath.Join(dir, "demo.db"))
	if !strings.Contains(out, dir) || !strings.Contains(out, "does not exist") {
		t.Errorf("the error does not name the missing folder %s:\n%s", dir, out)
	}
	if strings.Contains(out, "out of memory") {
		t.Errorf("SQLite's misleading error reached the user:\n%s", out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}

// A PostgreSQL that cannot be reached is reported once, with the setting
// to check (GORM used to log the same error before the demo did).
func TestStartupPostgresErrorPrintedOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	out := runDemo(t, "DATABASE_URL=postgres://demo:secret@"+addr+"/demo?sslmode=disable&connect_timeout=5")
	if n := strings.Count(out, "connection refused"); n != 1 {
		t.Errorf("the connection error is printed %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "DATABASE_URL") {
		t.Errorf("the error does not name DATABASE_URL:\n%s", out)
	}
	if strings.Contains(out, "secret") {
		t.Errorf("the password is printed:\n%s", out)
	}
}

// The demo's SQLite file holds the signing keys and every session: it and
// the -wal/-shm files SQLite makes beside it are readable by their owner
// only (issue 13), also when an older file was world-readable.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // from before the fix
		t.Fatal(err)
	}
	for _, fresh := range []bool{false, true} {
		if fresh {
			path = filepath.Join(dir, "fresh.db")
		}
		db, err := openDB(config{SQLitePath: path}, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a')").Error; err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v (WAL mode should make it)", f, err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", filepath.Base(f), st.Mode().Perm())
			}
		}
		sqlDB, _ := db.DB()
		sqlDB.Close()
	}
}
