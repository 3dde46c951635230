// Package storetest is the contract suite every hotdesk.Store implementation
// must pass, in the manner of testing/fstest and x/net/nettest: a backend's
// test calls Run with a function that opens an empty store.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Opener returns an empty, migrated store; it should close it in t.Cleanup.
type Opener func(t *testing.T) hotdesk.Store

// Run runs the whole contract suite, each subtest on a fresh store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s hotdesk.Store)
	}{
		{"Users", testUsers},
		{"UserFilters", testUserFilters},
		{"UserDIDs", testUserDIDs},
		{"DeleteUserEndsLogin", testDeleteUserEndsLogin},
		{"DeleteUserOwningPhones", testDeleteUserOwningPhones},
		{"DeviceIDsIgnoreCase", testDeviceIDsIgnoreCase},
		{"DeviceMailbox", testDeviceMailbox},
		{"LoginReads", testLoginReads},
		{"LoginReadsNow", testLoginReadsNow},
		{"DeviceSecret", testDeviceSecret},
		{"AppendAudits", testAppendAudits},
		{"PutManyBindings", testPutManyBindings},
		{"Devices", testDevices},
		{"DeviceFilters", testDeviceFilters},
		{"HotdeskIDs", testHotdeskIDs},
		{"HotdeskIDsConcurrent", testHotdeskIDsConcurrent},
		{"DeleteDevice", testDeleteDevice},
		{"DeviceTLS", testDeviceTLS},
		{"Logins", testLogins},
		{"LoginConflicts", testLoginConflicts},
		{"LoginRace", testLoginRace},
		{"Rollback", testRollback},
		{"Audit", testAudit},
		{"Outbox", testOutbox},
		{"Webhooks", testWebhooks},
		{"OutboxFollowsWebhooks", testOutboxFollowsWebhooks},
		{"OutboxWebhookCreatedUnderLoad", testOutboxWebhookCreatedUnderLoad},
		{"Bindings", testBindings},
		{"BindingOwnership", testBindingOwnership},
		{"BindingsInTx", testBindingsInTx},
		{"NodeStale", testNodeStale},
		{"NodeRevive", testNodeRevive},
		{"Nodes", testNodes},
		{"Settings", testSettings},
		{"Admins", testAdmins},
		{"Sessions", testSessions},
		{"Calls", testCalls},
		{"CallBatch", testCallBatch},
		{"PersonalDevices", testPersonalDevices},
		{"InviteLookup", testInviteLookup},
		{"Times", testTimes},
		{"Ping", testPing},
		{"DeviceLock", testDeviceLock},
		{"PINFailures", testPINFailures},
		{"PINFailuresConcurrent", testPINFailuresConcurrent},
		{"Voicemail", testVoicemail},
		{"VoicemailGreeting", testVoicemailGreeting},
		{"VoicemailDeletedWithUser", testVoicemailDeletedWithUser},
		{"MailOutbox", testMailOutbox},
		{"Sites", testSites},
		{"EmergencyCalls", testEmergencyCalls},
		{"Bulk", testBulk},
		{"CallLog", testCallLog},
		{"AdminAccess", testAdminAccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// t0 is a fixed instant with sub-millisecond digits, in a non-UTC zone, to
// catch precision loss and zone handling.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CET", 3600))

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hotdesk.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// must fails on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameTime fails unless got and want are the same instant to the
// millisecond and got is in UTC.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d > time.Millisecond || d < -time.Millisecond || got.IsZero() != want.IsZero() {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Fatalf("%s location = %v, want UTC", what, got.Location())
	}
}

// mkUser creates a hot-desk user with extension ext.
func mkUser(t *testing.T, s hotdesk.Store, ext string) *hotdesk.User {
	t.Helper()
	u := &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true, Outbound: hotdesk.OutboundNational, PINHash: "hash-" + ext}
	must(t, s.CreateUser(context.Background(), u))
	return u
}

// mkDevice creates a hot desk device with id.
func mkDevice(t *testing.T, s hotdesk.Store, id string) *hotdesk.Device {
	t.Helper()
	d := &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, SIPPassword: "pw-" + id}
	must(t, s.CreateDevice(context.Background(), d))
	return d
}

// login logs ext in on dev in its own transaction.
func login(t *testing.T, s hotdesk.Store, ext, dev string) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx hotdesk.Tx) error {
		return tx.CreateLogin(context.Background(), &hotdesk.Login{Extension: ext, Device: dev, Since: t0, Via: hotdesk.ViaPhone})
	})
	must(t, err)
}

// seed creates users 201..200+n and devices HD00001..n.
func seed(t *testing.T, s hotdesk.Store, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		mkUser(t, s, fmt.Sprint(200+i))
		mkDevice(t, s, fmt.Sprintf("HD%05d", i))
	}
}

func testPing(t *testing.T, s hotdesk.Store) {
	must(t, s.Ping(context.Background()))
}
