package signaling

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockConn is a connection whose first Write blocks until release is
// closed; it records every write.
type blockConn struct {
	scriptConn
	started chan struct{} // closed when the first Write began
	release chan struct{}
	once    sync.Once
}

func (c *blockConn) Write(b []byte) (int, error) {
	first := false
	c.once.Do(func() { first = true })
	if first {
		close(c.started)
		<-c.release
	}
	return c.scriptConn.Write(b)
}

// Issue 18: responses written to a connection while another is being
// written (the 200s of first registrations a group commit completes
// together, each sent by a lookup worker) go out in one system call
// after it, not one each; a lone response is written at once, by its
// own call.
func TestConnWriterCoalescesConcurrentWrites(t *testing.T) {
	conn := &blockConn{started: make(chan struct{}), release: make(chan struct{})}
	w := &connWriter{c: conn}

	first := make(chan error)
	go func() { first <- w.write([]byte("first\n")) }()
	<-conn.started
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.write([]byte("queued " + strconv.Itoa(i) + "\n")); err != nil {
				t.Error(err)
			}
		}()
	}
	// They return at once, queued. (Writers that each wait to write
	// themselves would wait for ever: the bound only ends such a run,
	// which then fails on the count below.)
	queued := make(chan struct{})
	go func() { wg.Wait(); close(queued) }()
	select {
	case <-queued:
	case <-time.After(30 * time.Second):
	}
	close(conn.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-queued
	conn.mu.Lock()
	writes := append([]string(nil), conn.writes...)
	conn.mu.Unlock()
	if len(writes) != 2 || writes[0] != "first\n" || strings.Count(writes[1], "queued ") != 10 {
		t.Fatalf("%d writes %q, want 2: the first, then the 10 queued meanwhile", len(writes), writes)
	}

	// Alone: written by the call itself, before it returns.
	if err := w.write([]byte("alone\n")); err != nil {
		t.Fatal(err)
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if len(conn.writes) != 3 || conn.writes[2] != "alone\n" {
		t.Fatalf("writes %q, want the lone response written at once", conn.writes)
	}
}

// The read loop's batch ending while another writer is under way leaves
// the batch to that writer, which writes it after its own: nothing is
// left queued.
func TestConnWriterFlushDuringWrite(t *testing.T) {
	conn := &blockConn{started: make(chan struct{}), release: make(chan struct{})}
	w := &connWriter{c: conn}
	first := make(chan error)
	go func() { first <- w.write([]byte("worker\n")) }()
	<-conn.started
	w.batch()
	_ = w.write([]byte("batched 1\n"))
	_ = w.write([]byte("batched 2\n"))
	w.flush() // the worker writes them
	close(conn.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if len(conn.writes) != 2 || conn.writes[1] != "batched 1\nbatched 2\n" {
		t.Fatalf("writes %q, want the worker's, then the batch in one", conn.writes)
	}
	if len(w.buf) != 0 {
		t.Fatalf("left queued %q", w.buf)
	}
}
