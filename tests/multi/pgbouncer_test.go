package multi

import (
	"os"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginauth/ginauth/internal/testdb"
	"github.com/ginauth/ginauth/models"
)

// EnvPgbouncerURL names a database behind pgbouncer in transaction pooling
// mode (scripts/pg.sh starts one when pgbouncer is installed); used only in
// the PostgreSQL run of the suite.
const EnvPgbouncerURL = "GINAUTH_TEST_PGBOUNCER_URL"

// TestThroughPgbouncer runs three instances whose every query goes through
// pgbouncer in transaction pooling mode, where consecutive transactions of
// one client connection run on different server connections. With the
// setting docs/deployment.md requires (pgx's exec mode, no named prepared
// statements kept on a server connection), sign-up, sign-in, verification
// with CheckDatabase, refresh and theft detection all work under
// concurrency.
func TestThroughPgbouncer(t *testing.T) {
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			dsn := bouncerDatabase(t) + "&default_query_exec_mode=" + mode
			in := startInstances(t, dsn, 3, "LOW_ARGON2=1")
			lb := startProxy(t, in)
			for _, err := range runClients(lb, "pool", 12, 4)() {
				t.Error(err)
			}
			// Theft detection through the pooler.
			c := client(lb.base, "192.0.2.200")
			expect(t, 200, "sign-up")(c.signUp("pooltheft@example.com", password))
			first := c.mustSignIn(t, "pooltheft@example.com")
			second := expect(t, 200, "refresh")(c.refresh(first))
			expect(t, 200, "refresh of the child")(c.refresh(second.refresh))
			if r := expect(t, 401, "replay")(c.refresh(first)); r.status != "token theft detected" {
				t.Fatalf("replay through pgbouncer: %q", r.status)
			}
		})
	}
}

// bouncerDatabase empties the pooled database and creates ginauth's tables
// in it, and returns its URL. It skips without pgbouncer.
func bouncerDatabase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(EnvPgbouncerURL)
	if dsn == "" || testdb.Dialect() != testdb.DialectPostgres {
		t.Skipf("needs pgbouncer: set %s (scripts/pg.sh starts one when pgbouncer is installed)", EnvPgbouncerURL)
	}
	db, err := gorm.Open(postgres.New(postgres.Config{DSN: dsn, PreferSimpleProtocol: true}),
		&gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	if err := db.Exec("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public").Error; err != nil {
		t.Fatal(err)
	}
	if err := models.AutoMigrate(db); err != nil {
		t.Fatal(err)
	}
	return dsn
}
