package postgres

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// BenchmarkLoginTx measures login transactions (storetest.BenchLoginTx).
// Run with
//
//	HOTDESK_TEST_POSTGRES=postgres://… go test -run X -bench LoginTx -cpu 1,8 ./internal/store/postgres
//
// and read logins/s, retries/op, over5/op and max-retries. The server's
// fsync setting dominates.
func BenchmarkLoginTx(b *testing.B) {
	storetest.BenchLoginTx(b, MustOpenFresh(b, testDSN(b)))
}

// BenchmarkWriteCalls measures a batch of call records
// (storetest.BenchWriteCalls); cpu-µs/record is this process's CPU, the
// client side only.
func BenchmarkWriteCalls(b *testing.B) {
	storetest.BenchWriteCalls(b, MustOpenFresh(b, testDSN(b)))
}
