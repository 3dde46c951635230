package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
)

// journalStore adds the durability cost of a database commit to the memory
// store: after each successful transaction a record is appended to a file
// and fsynced, under one lock (like SQLite's single writer).
type journalStore struct {
	store
	mu sync.Mutex
	f  *os.File
	n  int
}

func newJournalStore(s store, path string) (*journalStore, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &journalStore{store: s, f: f}, nil
}

// InTx runs the transaction, then makes it durable before returning.
func (j *journalStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.store.InTx(ctx, fn); err != nil {
		return err
	}
	j.n++
	if _, err := fmt.Fprintf(j.f, "tx %d\n", j.n); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Close closes the journal file.
func (j *journalStore) Close() error { return j.f.Close() }
