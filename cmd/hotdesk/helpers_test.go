package main

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
)

// mustStore opens the nodes' PostgreSQL schema db beside them, closed when
// the test ends.
func mustStore(t *testing.T, db string) *postgres.DB {
	t.Helper()
	st, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// changeSettings applies change to the settings stored in db (the nodes
// read them through their settings caches).
func changeSettings(t *testing.T, db string, change func(*hotdesk.Settings)) {
	t.Helper()
	st := mustStore(t, db)
	set, err := st.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	change(&set)
	if err := st.PutSettings(context.Background(), set); err != nil {
		t.Fatal(err)
	}
}

// mustCluster is a fresh PostgreSQL schema for nodes of the test binary
// to share (the test skips without HOTDESK_TEST_POSTGRES).
func mustCluster(t *testing.T) (db string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	testBinary(t)
	db, _ = pgtest.MustSchema(t, dsn)
	return db
}
