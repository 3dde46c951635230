package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// testCallLog: the call log of every user, filtered by user, device,
// result and start time, newest first, paged, with the total.
func testCallLog(t *testing.T, s hotdesk.Store) {
	var cs hotdesk.CallLogStore = s
	ctx := context.Background()
	for i, c := range []struct{ ext, dev, result string }{
		{"201", "HD00001", hotdesk.ResultAnswered}, {"202", "HD00002", hotdesk.ResultBusy},
		{"201", "HD00002", hotdesk.ResultNoAnswer}, {"203", "P203", hotdesk.ResultAnswered},
	} {
		must(t, s.CreateCall(ctx, &hotdesk.CallRecord{CallID: "c" + c.ext, Extension: c.ext, Device: c.dev, Direction: hotdesk.DirectionOutbound,
			Peer: "0201234567", Start: t0.Add(time.Duration(i) * time.Hour), Result: c.result}))
	}
	ids := func(f hotdesk.CallFilter, wantTotal int) string {
		t.Helper()
		cs, n, err := cs.FindCallLog(ctx, f)
		must(t, err)
		if n != wantTotal {
			t.Fatalf("%+v: total %d, want %d", f, n, wantTotal)
		}
		out := ""
		for _, c := range cs {
			out += c.Extension + "@" + c.Device + " "
		}
		return out
	}
	for _, tc := range []struct {
		f     hotdesk.CallFilter
		total int
		want  string
	}{
		{hotdesk.CallFilter{}, 4, "203@P203 201@HD00002 202@HD00002 201@HD00001 "},
		{hotdesk.CallFilter{Extension: "201"}, 2, "201@HD00002 201@HD00001 "},
		{hotdesk.CallFilter{Device: "hd00002"}, 2, "201@HD00002 202@HD00002 "},
		{hotdesk.CallFilter{Result: hotdesk.ResultAnswered}, 2, "203@P203 201@HD00001 "},
		{hotdesk.CallFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, 2, "201@HD00002 202@HD00002 "},
		{hotdesk.CallFilter{Limit: 1, Offset: 1}, 4, "201@HD00002 "},
	} {
		if got := ids(tc.f, tc.total); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.f, got, tc.want)
		}
	}
}
