package b2bua_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// countingStore is the B2BUA's view of the store with the per-party
// lookups counted.
type countingStore struct {
	b2bua.Store
	finds, logins atomic.Int32
}

func (s *countingStore) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	s.finds.Add(1)
	return s.Store.FindUser(ctx, ext)
}

func (s *countingStore) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	s.logins.Add(1)
	return s.Store.LoginByUser(ctx, ext)
}

// inviteStore is countingStore with the store's one-statement read.
type inviteStore struct {
	*countingStore
	db      *sqlite.DB
	invites atomic.Int32
}

func (s *inviteStore) InviteLookup(ctx context.Context, device, owner, callee string) (hotdesk.InviteParties, error) {
	s.invites.Add(1)
	return s.db.InviteLookup(ctx, device, owner, callee)
}

// lookupPBX is a PBX whose B2BUA reads through store: users 201 and 202,
// 201 logged in on HD1, 202 on HD2 and owning SOFT202.
type lookupPBX struct {
	hd1, hd2, soft *siptest.Phone
}

func mustLookupPBX(t *testing.T, wrap func(db *sqlite.DB) b2bua.Store) *lookupPBX {
	t.Helper()
	ctx := context.Background()
	log := testLogger()
	db := sqlitetest.MustOpen(t)
	bus := events.New()
	var b2b *b2bua.B2BUA
	dk := desk.New(desk.Options{Store: db, Bus: bus, Logger: log, InCall: func(d string) bool { return b2b.InCall(d) }})
	reg, srv := sipstack.Start(t, registrar.Options{Store: db, Bus: bus, Realm: realm, Logger: log, Node: "n1", Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", Logger: log})
	var err error
	b2b, err = b2bua.New(b2bua.Options{Store: wrap(db), Desk: dk, Bus: bus, SIP: srv, Contacts: reg.Contacts,
		Settings: func(context.Context) hotdesk.Settings { return hotdesk.DefaultSettings() },
		Domain:   realm, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		if dev, ok := reg.Authenticate(req, tx); ok {
			b2b.HandleInvite(req, tx, dev)
		}
	})
	testrun.Background(t, srv.Serve, reg.Run, b2b.Run)
	for _, ext := range []string{"201", "202"} {
		if err := db.CreateUser(ctx, &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true, Outbound: hotdesk.OutboundNational}); err != nil {
			t.Fatal(err)
		}
	}
	p := &lookupPBX{}
	for _, d := range []struct {
		id, owner string
		ph        **siptest.Phone
	}{{"HD1", "", &p.hd1}, {"HD2", "", &p.hd2}, {"SOFT202", "202", &p.soft}} {
		dev := &hotdesk.Device{ID: d.id, Mode: hotdesk.ModeHotdesk, Owner: d.owner, SIPPassword: "pw-" + d.id, Model: hotdesk.ModelGeneric}
		if d.owner != "" {
			dev.Mode = hotdesk.ModePersonal
		}
		if err := db.CreateDevice(ctx, dev); err != nil {
			t.Fatal(err)
		}
		*d.ph = siptest.New(t, siptest.Options{Server: srv.UDPAddr().String(), User: d.id, Password: "pw-" + d.id, Domain: realm})
		(*d.ph).MustRegister(t)
	}
	for ext, dev := range map[string]string{"201": "HD1", "202": "HD2"} {
		if _, err := dk.Login(ctx, desk.LoginRequest{Extension: ext, Device: dev, Via: hotdesk.ViaAdmin, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// callBoth calls 202 from HD1: HD2 (202's desk) and SOFT202 (202's
// personal phone) must ring with 201 as the caller; SOFT202 answers.
// Then SOFT202 calls 201, presented as 202. Both calls are hung up.
func (p *lookupPBX) callBoth(t *testing.T) {
	t.Helper()
	p.hd2.SetAnswerMode(siptest.AnswerRing)
	p.soft.SetAnswerMode(siptest.AnswerRing)
	done := make(chan error, 1)
	var call *siptest.Call
	go func() {
		var err error
		call, err = p.hd1.Dial("202")
		done <- err
	}()
	atDesk, err := p.hd2.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatal("202's desk phone did not ring:", err)
	}
	mobile, err := p.soft.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatal("202's personal phone did not ring:", err)
	}
	for _, in := range []*siptest.Incoming{atDesk, mobile} {
		if pai := header(in.Request, "P-Asserted-Identity"); !strings.Contains(pai, "sip:201@") {
			t.Errorf("202 rang with P-Asserted-Identity %q, want 201", pai)
		}
	}
	mobile.Answer()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustEnd(t, atDesk, "the desk phone was not cancelled")
	hangUp(t, call, mobile)

	p.hd1.SetAnswerMode(siptest.AnswerOK)
	back, err := p.soft.Dial("201")
	if err != nil {
		t.Fatal("call from the personal phone:", err)
	}
	in := p.hd1.MustWaitIncoming(t, 5*time.Second)
	if pai := header(in.Request, "P-Asserted-Identity"); !strings.Contains(pai, "sip:202@") {
		t.Errorf("the personal phone's call came as %q, want 202 (its owner)", pai)
	}
	hangUp(t, back, in)
}

// TestInviteOneLookup: with a store that reads the parties of a call in one
// statement (SQLite, PostgreSQL), routing an INVITE to an extension makes
// that one read and none of the lookups it replaces.
func TestInviteOneLookup(t *testing.T) {
	t.Parallel()
	var s *inviteStore
	p := mustLookupPBX(t, func(db *sqlite.DB) b2bua.Store {
		s = &inviteStore{countingStore: &countingStore{Store: db}, db: db}
		return s
	})
	p.callBoth(t)
	if n := s.invites.Load(); n != 2 {
		t.Errorf("%d InviteLookups for 2 calls, want 2", n)
	}
	if f, l := s.finds.Load(), s.logins.Load(); f != 0 || l != 0 {
		t.Errorf("%d FindUser and %d LoginByUser besides, want none", f, l)
	}
}

// TestInviteLookupsWithoutInviteStore: a store without InviteLookup is
// asked party by party, with the same outcome.
func TestInviteLookupsWithoutInviteStore(t *testing.T) {
	t.Parallel()
	var s *countingStore
	p := mustLookupPBX(t, func(db *sqlite.DB) b2bua.Store {
		s = &countingStore{Store: db}
		return s
	})
	p.callBoth(t)
	if f, l := s.finds.Load(), s.logins.Load(); f == 0 || l == 0 {
		t.Errorf("%d FindUser and %d LoginByUser, want the lookups party by party", f, l)
	}
}
