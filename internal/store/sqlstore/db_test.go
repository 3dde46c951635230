package sqlstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// queryAll returns the rows in the query's order, nil for none, and names
// its read in a failing query's or scan's error.
func TestQueryAll(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	for k, v := range map[string]int{"b": 2, "a": 1, "c": 3} {
		if err := put(ctx, db, k, v); err != nil {
			t.Fatal(err)
		}
	}
	const keys = `SELECT k FROM kv WHERE v >= $1 ORDER BY k`
	got, err := queryAll(ctx, db, db.r, "list keys", scanString, keys, 2)
	if err != nil || !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("queryAll = %q, %v; want [b c]", got, err)
	}
	got, err = queryAll(ctx, db, db.r, "list keys", scanString, keys, 9)
	if err != nil || got != nil {
		t.Fatalf("no rows: queryAll = %#v, %v; want nil, nil", got, err)
	}
	bad := errors.New("bad row")
	failing := func(rowScanner) (string, error) { return "", bad }
	if _, err := queryAll(ctx, db, db.r, "list keys", failing, keys, 1); !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "list keys: ") {
		t.Fatalf("scan error: %v", err)
	}
	if _, err := queryAll(ctx, db, db.r, "list keys", scanString, `SELECT k FROM nowhere`); err == nil || !strings.HasPrefix(err.Error(), "list keys: ") {
		t.Fatalf("query error: %v", err)
	}
}

// queryOne returns the row, missing's error for none, and names its read
// in a failing query's error.
func TestQueryOne(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	if err := put(ctx, db, "a", 1); err != nil {
		t.Fatal(err)
	}
	gone := errors.New("no such key")
	missing := func() error { return gone }
	const key = `SELECT k FROM kv WHERE v = $1`
	if got, err := queryOne(ctx, db, db.r, "find key", missing, scanString, key, 1); err != nil || got != "a" {
		t.Fatalf("queryOne = %q, %v; want a", got, err)
	}
	if got, err := queryOne(ctx, db, db.r, "find key", missing, scanString, key, 2); !errors.Is(err, gone) || got != "" {
		t.Fatalf("no row: queryOne = %q, %v; want the missing error", got, err)
	}
	if _, err := queryOne(ctx, db, db.r, "find key", missing, scanString, `SELECT k FROM nowhere`); err == nil || !strings.HasPrefix(err.Error(), "find key: ") {
		t.Fatalf("query error: %v", err)
	}
}
