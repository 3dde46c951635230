package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// inviteLookup is the B2BUA's one read per INVITE (internal/b2bua).
type inviteLookup interface {
	InviteLookup(ctx context.Context, callerDevice, owner, callee string) (hotdesk.InviteParties, error)
}

// testInviteLookup: InviteLookup gives what FindUser, LoginByDevice,
// LoginByUser and PersonalDevices give for the caller and the callee,
// with missing parties nil or empty rather than an error.
func testInviteLookup(t *testing.T, s hotdesk.Store) {
	il, ok := s.(inviteLookup)
	if !ok {
		t.Skip("store has no InviteLookup")
	}
	ctx := context.Background()
	seed(t, s, 4) // users 201..204, hot desk phones HD00001..4
	mkUser(t, s, "205")
	name, dids, blf, vm, ring := "Callee 205", []string{"+15550100"}, []string{"201"}, true, 25
	_, err := s.UpdateUser(ctx, "205", hotdesk.UserUpdate{Name: &name, DIDs: &dids, BLF: &blf, Voicemail: &vm, RingTimeout: &ring})
	must(t, err)
	login(t, s, "201", "HD00001")
	login(t, s, "205", "HD00002")
	for _, d := range []*hotdesk.Device{
		{ID: "soft-b", Mode: hotdesk.ModePersonal, Owner: "205"},
		{ID: "soft-a", Mode: hotdesk.ModePersonal, Owner: "205"},
		{ID: "soft-c", Mode: hotdesk.ModePersonal, Owner: "202"},
		{ID: "soft-d", Mode: hotdesk.ModePersonal, Owner: "203"},
	} {
		must(t, s.CreateDevice(ctx, d))
	}
	user := func(ext string) *hotdesk.User {
		t.Helper()
		u, err := s.FindUser(ctx, ext)
		must(t, err)
		return u
	}
	for _, tc := range []struct {
		name                string
		device, owner, dial string
		caller, callee, at  string // extensions and device; "" none
		personal            []string
	}{
		{name: "hot desk to logged-in user with personal phones", device: "HD00001", dial: "205",
			caller: "201", callee: "205", at: "HD00002", personal: []string{"soft-a", "soft-b"}},
		{name: "personal phone to user logged in nowhere", device: "soft-c", owner: "202", dial: "203",
			caller: "202", callee: "203", personal: []string{"soft-d"}},
		{name: "neutral phone", device: "HD00003", dial: "204", callee: "204"},
		{name: "unknown extension", device: "HD00001", dial: "299", caller: "201"},
		{name: "no callee asked", device: "HD00001", caller: "201"},
		{name: "owner deleted or unknown", device: "soft-x", owner: "298", dial: "201", callee: "201", at: "HD00001"},
		{name: "owner wins over a login", device: "HD00001", owner: "204", caller: "204"},
		{name: "device unknown", device: "nope", dial: "202", callee: "202", personal: []string{"soft-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := il.InviteLookup(ctx, tc.device, tc.owner, tc.dial)
			must(t, err)
			same := func(what string, got *hotdesk.User, ext string) {
				t.Helper()
				switch {
				case ext == "" && got != nil:
					t.Errorf("%s = %s, want none", what, got.Extension)
				case ext != "" && got == nil:
					t.Errorf("%s = none, want %s", what, ext)
				case ext != "":
					if want := user(ext); !sameUser(got, want) {
						t.Errorf("%s = %+v, want %+v (FindUser)", what, got, want)
					}
				}
			}
			same("caller", got.Caller, tc.caller)
			same("callee", got.Callee, tc.callee)
			if got.CalleeAt != tc.at {
				t.Errorf("callee at %q, want %q", got.CalleeAt, tc.at)
			}
			if !slices.Equal(got.CalleePersonal, tc.personal) {
				t.Errorf("callee's personal phones %q, want %q", got.CalleePersonal, tc.personal)
			}
		})
	}
}

// sameUser reports whether a and b are the same user, field by field.
func sameUser(a, b *hotdesk.User) bool { return reflect.DeepEqual(a, b) }
