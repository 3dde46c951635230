package mwi_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// oneQueryStore is a MemStore whose lamp read is counted, with its
// answer fixed, as an SQL store's DeviceMailbox would give it.
type oneQueryStore struct {
	*siptest.MemStore
	mailbox, counts atomic.Int64
}

func (s *oneQueryStore) DeviceMailbox(context.Context, string) (string, int, int, error) {
	s.mailbox.Add(1)
	return "201", 3, 4, nil
}

func (s *oneQueryStore) VoicemailCounts(context.Context, string) (int, int, error) {
	s.counts.Add(1)
	return 1, 2, nil
}

type otherCounts struct{}

func (otherCounts) VoicemailCounts(context.Context, string) (int, int, error) { return 5, 6, nil }

// SummaryOf reads the lamp in one query when the store has it and also
// gives the counts; with counts from elsewhere it reads login, device and
// counts one by one, the counts from Counts.
func TestSummaryOfOneQuery(t *testing.T) {
	ctx := context.Background()
	store := &oneQueryStore{MemStore: siptest.NewMemStore()}
	if err := store.CreateUser(ctx, &hotdesk.User{Extension: "202", Name: "User 202", Hotdesk: true}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateDevice(ctx, &hotdesk.Device{ID: "soft202", SIPPassword: "pw", Mode: hotdesk.ModePersonal, Owner: "202"}); err != nil {
		t.Fatal(err)
	}
	srv, err := signaling.New(signaling.Options{UDPAddr: "127.0.0.1:0", Hostname: "127.0.0.1", Domain: "test.local", Logger: siptest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		counts mwi.Counts
		want   mwi.Summary
		reads  int64
	}{
		{"store is counts", store, mwi.Summary{Extension: "201", New: 3, Old: 4}, 1},
		{"counts elsewhere", otherCounts{}, mwi.Summary{Extension: "202", New: 5, Old: 6}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.mailbox.Store(0)
			n, err := mwi.New(mwi.Options{Store: store, Counts: tc.counts, SIP: srv, Logger: siptest.QuietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := n.SummaryOf(ctx, "soft202")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || store.mailbox.Load() != tc.reads || store.counts.Load() != 0 {
				t.Fatalf("summary %+v after %d one-query reads and %d count reads, want %+v after %d and 0",
					got, store.mailbox.Load(), store.counts.Load(), tc.want, tc.reads)
			}
		})
	}
}
