package storetest

import (
	"context"
	"testing"
)

// MustOpen opens a store with open (sqlite.Open, postgres.Open) at dsn
// and closes it when the test ends.
func MustOpen[S interface{ Close() error }](tb testing.TB, open func(context.Context, string) (S, error), dsn string) S {
	tb.Helper()
	db, err := open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
