package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// The writer never checkpoints inside a commit: wal_autocheckpoint is 0.
func TestWriterNoAutoCheckpoint(t *testing.T) {
	if pages := writerPragma(t, "wal_autocheckpoint"); pages != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, want 0 (the checkpointer's job)", pages)
	}
}

// Committed pages still reach the database file, copied by the
// checkpointer while the store runs; once it has copied everything, the
// writer starts the WAL over instead of growing it.
func TestCheckpointerCopiesCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotdesk.db")
	db := MustOpen(t, path)
	ctx := context.Background()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	start := size(path)
	detail := strings.Repeat("x", 4000) // about a page per row
	write := func(n int) {
		for i := range n {
			if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Time: time.Now(), Kind: hotdesk.KindLogin,
				Extension: "201", Device: "HD00001", Detail: detail + string(rune('a'+i%26))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(600) // ~2.4 MB, many thousand WAL frames
	testrun.Eventually(t, 20*time.Second, "the commits checkpointed into the database file", func() bool {
		return size(path)-start > 2<<20
	})
	// Quiet: the checkpointer copies whatever is left, then idles.
	idle := db.ckpt.idle.Load()
	testrun.Eventually(t, 20*time.Second, "the checkpointer idle", func() bool { return db.ckpt.idle.Load() > idle })
	write(1)
	frames, _ := walCheckpoint(t, path)
	if frames > 100 {
		t.Fatalf("WAL holds %d frames after one commit: it grew on instead of starting over", frames)
	}

	// Under steady writes a checkpoint beside the writer is always
	// overtaken; the WAL must still start over now and then, so its file
	// stays well under all that was written to it.
	commits, deadline := 0, time.Now().Add(2*time.Second)
	for time.Now().Before(deadline) {
		write(1)
		commits++
	}
	written := int64(commits*frames) * (24 + 4096) // frame header + page
	if wal := size(path + "-wal"); wal > written/2 {
		t.Fatalf("WAL file %d bytes after %d commits of %d frames (%d bytes): it does not start over under steady writes",
			wal, commits, frames, written)
	}
	if n := db.ckpt.failed.Load(); n != 0 {
		t.Fatalf("%d checkpoints failed: %v", n, *db.ckpt.last.Load())
	}
}

// With nothing committed since the WAL was all copied, the checkpointer's
// ticks checkpoint nothing (an idle server ran two checkpoints every
// 250 ms); the next commit is copied again.
func TestCheckpointerIdlesWithoutCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotdesk.db")
	db := MustOpen(t, path)
	ctx := context.Background()
	write := func() {
		if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Time: time.Now(), Kind: hotdesk.KindLogin,
			Extension: "201", Device: "HD00001"}); err != nil {
			t.Fatal(err)
		}
	}
	write()
	c := db.ckpt
	idle := c.idle.Load()
	testrun.Eventually(t, 20*time.Second, "a tick with nothing to do", func() bool { return c.idle.Load() > idle })
	runs, tails, idle := c.runs.Load(), c.tails.Load(), c.idle.Load()
	testrun.Eventually(t, 20*time.Second, "four more idle ticks", func() bool { return c.idle.Load() >= idle+4 })
	if n, m := c.runs.Load()-runs, c.tails.Load()-tails; n != 0 || m != 0 {
		t.Fatalf("%d checkpoints (%d through the writer) ran with nothing committed", n, m)
	}
	frames, copied := walCheckpoint(t, path)
	if frames <= 0 || copied != frames {
		t.Fatalf("idle with %d of %d WAL frames copied", copied, frames)
	}

	write()
	testrun.Eventually(t, 20*time.Second, "the new commit checkpointed", func() bool { return c.tails.Load() > tails })
	if n := c.failed.Load(); n != 0 {
		t.Fatalf("%d checkpoints failed: %v", n, *c.last.Load())
	}
}

// walCheckpoint checkpoints the database at path PASSIVE on a connection
// of its own and returns the WAL's frames and how many of them are copied.
func walCheckpoint(t *testing.T, path string) (frames, copied int) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var busy int
	if err := raw.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	return frames, copied
}
