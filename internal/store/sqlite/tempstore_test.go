package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// The writer keeps temporary files (a group-commit member's savepoint
// sub-journal) in memory: temp_store 2 is MEMORY.
func TestWriterTempStoreMemory(t *testing.T) {
	if mode := writerPragma(t, "temp_store"); mode != 2 {
		t.Fatalf("writer temp_store = %d, want 2 (memory)", mode)
	}
}

// writerPragma opens a database with the writer connection's parameters and
// reads one integer pragma from it.
func writerPragma(t *testing.T, pragma string) int {
	t.Helper()
	base, err := baseDSN(filepath.Join(t.TempDir(), "hotdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", base+writerParams("FULL"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var v int
	if err := w.QueryRow("PRAGMA " + pragma).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
