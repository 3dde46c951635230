package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// BenchmarkLoginTx measures durable login transactions
// (storetest.BenchLoginTx) on a file database (WAL, synchronous=FULL):
// each commit is an fsync. Run with
//
//	go test -run X -bench LoginTx -benchtime 3s ./internal/store/sqlite
//
// and read logins/s. -cpu 1,8 shows serial vs concurrent callers (writers
// queue on the one write connection either way); BENCH_MEM=1 uses an
// in-memory database.
func BenchmarkLoginTx(b *testing.B) {
	dsn := filepath.Join(b.TempDir(), "bench.db")
	if os.Getenv("BENCH_MEM") != "" {
		dsn = ":memory:"
	}
	storetest.BenchLoginTx(b, MustOpen(b, dsn))
}
