package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// deviceMailboxer is the one-query read of a phone's message lamp
// (sqlstore.DB.DeviceMailbox; internal/mwi uses it when the store has it).
type deviceMailboxer interface {
	DeviceMailbox(ctx context.Context, device string) (ext string, newCount, oldCount int, err error)
}

// testDeviceMailbox: a phone shows the mailbox of the user logged in on
// it, else its owner's when personal, else none; the counts are that
// mailbox's new and saved messages, and agree with LoginByDevice,
// FindDevice and VoicemailCounts read one by one.
func testDeviceMailbox(t *testing.T, s hotdesk.Store) {
	m, ok := s.(deviceMailboxer)
	if !ok {
		t.Skip("store reads the lamp through LoginByDevice, FindDevice and VoicemailCounts")
	}
	ctx := context.Background()
	for _, ext := range []string{"201", "202", "203"} {
		mkUser(t, s, ext)
	}
	mkDevice(t, s, "HD00001")
	mkDevice(t, s, "HD00002")
	for _, d := range []*hotdesk.Device{
		{ID: "P202", Mode: hotdesk.ModePersonal, Owner: "202", Model: hotdesk.ModelGeneric},
		{ID: "P000", Mode: hotdesk.ModePersonal, Model: hotdesk.ModelGeneric}, // no owner
	} {
		must(t, s.CreateDevice(ctx, d))
	}
	for _, v := range []struct {
		ext   string
		isNew bool
	}{{"201", true}, {"201", true}, {"201", false}, {"202", false}, {"203", true}} {
		must(t, s.CreateVoicemail(ctx, &hotdesk.Voicemail{Extension: v.ext, ReceivedAt: t0, New: v.isNew}, wavOf(8)))
	}
	login(t, s, "201", "HD00001")
	login(t, s, "203", "P202") // a user at another's personal phone: the user's mailbox

	cases := []struct {
		device   string
		ext      string
		new, old int
	}{
		{"HD00001", "201", 2, 1},
		{"HD00002", "", 0, 0}, // neutral
		{"P202", "203", 1, 0},
		{"P000", "", 0, 0},
		{"XX99999", "", 0, 0}, // unknown
	}
	for _, tc := range cases {
		ext, n, o, err := m.DeviceMailbox(ctx, tc.device)
		must(t, err)
		if ext != tc.ext || n != tc.new || o != tc.old {
			t.Errorf("%s: %q %d/%d, want %q %d/%d", tc.device, ext, n, o, tc.ext, tc.new, tc.old)
		}
		// The same as read one by one.
		want := ""
		if l, err := s.LoginByDevice(ctx, tc.device); err == nil {
			want = l.Extension
		} else if d, err := s.FindDevice(ctx, tc.device); err == nil && d.Mode == hotdesk.ModePersonal {
			want = d.Owner
		}
		wn, wo, err := s.VoicemailCounts(ctx, want)
		must(t, err)
		if ext != want || n != wn || o != wo {
			t.Errorf("%s: %q %d/%d, read one by one %q %d/%d", tc.device, ext, n, o, want, wn, wo)
		}
	}

	// Several at once (on SQLite the reader reads those that queue up in
	// one read transaction, with other point reads), each repeated, give
	// what each gives alone.
	var wg sync.WaitGroup
	for range 3 {
		for _, tc := range cases {
			wg.Go(func() {
				ext, n, o, err := m.DeviceMailbox(ctx, tc.device)
				if err != nil || ext != tc.ext || n != tc.new || o != tc.old {
					t.Errorf("%s at once: %q %d/%d %v, want %q %d/%d", tc.device, ext, n, o, err, tc.ext, tc.new, tc.old)
				}
			})
		}
		if lu, ok := s.(loginUserReader); ok {
			wg.Go(func() {
				if u, err := lu.LoginUser(ctx, "201"); err != nil || u.Extension != "201" {
					t.Errorf("user 201 among the lamps: %+v %v", u, err)
				}
			})
		}
	}
	wg.Wait()

	// The lit lamps: the phones showing new messages, and only those.
	lit, ok := s.(litDeviceser)
	if ok {
		ids, err := lit.LitDevices(ctx)
		must(t, err)
		if want := []string{"HD00001", "P202"}; !slices.Equal(ids, want) {
			t.Errorf("lit devices %q, want %q", ids, want)
		}
	}

	// Logging out hands the personal phone back to its owner.
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.DeleteLogin(ctx, "P202") }))
	if ext, n, o, err := m.DeviceMailbox(ctx, "P202"); err != nil || ext != "202" || n != 0 || o != 1 {
		t.Errorf("P202 after the logout: %q %d/%d %v, want 202 0/1", ext, n, o, err)
	}
	if ok {
		// P202 shows 202's mailbox now, with no new message; 203 is
		// logged in nowhere. A new message for 202 lights P202 again.
		ids, err := lit.LitDevices(ctx)
		must(t, err)
		if want := []string{"HD00001"}; !slices.Equal(ids, want) {
			t.Errorf("lit devices after the logout %q, want %q", ids, want)
		}
		must(t, s.CreateVoicemail(ctx, &hotdesk.Voicemail{Extension: "202", ReceivedAt: t0, New: true}, wavOf(8)))
		ids, err = lit.LitDevices(ctx)
		must(t, err)
		if want := []string{"HD00001", "P202"}; !slices.Equal(ids, want) {
			t.Errorf("lit devices after a message for 202 %q, want %q", ids, want)
		}
	}
}

// litDeviceser lists the phones whose lamp is lit (sqlstore.DB.LitDevices;
// internal/mwi reads it after it missed events).
type litDeviceser interface {
	LitDevices(ctx context.Context) ([]string, error)
}
