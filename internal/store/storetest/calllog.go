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
	where := func(c *hotdesk.CallRecord) string { return c.Extension + "@" + c.Device }
	checkFinds(t, "FindCallLog", cs.FindCallLog, where, []finding[hotdesk.CallFilter]{
		{hotdesk.CallFilter{}, []string{"203@P203", "201@HD00002", "202@HD00002", "201@HD00001"}, 4},
		{hotdesk.CallFilter{Extension: "201"}, []string{"201@HD00002", "201@HD00001"}, 2},
		{hotdesk.CallFilter{Device: "hd00002"}, []string{"201@HD00002", "202@HD00002"}, 2},
		{hotdesk.CallFilter{Result: hotdesk.ResultAnswered}, []string{"203@P203", "201@HD00001"}, 2},
		{hotdesk.CallFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, []string{"201@HD00002", "202@HD00002"}, 2},
		{hotdesk.CallFilter{Limit: 1, Offset: 1}, []string{"201@HD00002"}, 4},
	})
}
