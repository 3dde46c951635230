package provision

import (
	"context"
	"slices"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// fakeStore is siptest.MemStore with the few set-ups the provisioning
// tests make.
type fakeStore struct{ *siptest.MemStore }

func newFakeStore() *fakeStore { return &fakeStore{siptest.NewMemStore()} }

func (s *fakeStore) must(err error) {
	if err != nil {
		panic(err) // a broken fixture, not a test result
	}
}

// login logs ext in at device.
func (s *fakeStore) login(device, ext string) {
	s.must(s.InTx(context.Background(), func(tx hotdesk.Tx) error {
		return tx.CreateLogin(context.Background(), &hotdesk.Login{Device: device, Extension: ext})
	}))
}

// editSettings changes the site settings.
func (s *fakeStore) editSettings(edit func(*hotdesk.Settings)) {
	st, err := s.GetSettings(context.Background())
	s.must(err)
	edit(&st)
	s.must(s.PutSettings(context.Background(), st))
}

// audits returns the audit events of kind, oldest first.
func (s *fakeStore) audits(kind string) []*hotdesk.AuditEvent {
	es, _ := s.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{kind}, Limit: 100_000})
	slices.Reverse(es)
	return es
}

var (
	_ Store      = (*fakeStore)(nil)
	_ desk.Store = (*fakeStore)(nil)
)
