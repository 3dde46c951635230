package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// The writer keeps temporary files (a group-commit member's savepoint
// sub-journal) in memory: temp_store 2 is MEMORY.
func TestWriterTempStoreMemory(t *testing.T) {
	base, err := baseDSN(filepath.Join(t.TempDir(), "hotdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", base+writerParams("FULL"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var mode int
	if err := w.QueryRow(`PRAGMA temp_store`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Fatalf("writer temp_store = %d, want 2 (memory)", mode)
	}
}
