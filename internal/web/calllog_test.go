package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestCallLogAPI(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	for i := range 5 {
		ext, result := "201", hotdesk.ResultAnswered
		if i%2 == 1 {
			ext, result = "202", hotdesk.ResultBusy
		}
		if err := e.store.CreateCall(context.Background(), &hotdesk.CallRecord{CallID: fmt.Sprint(i), Extension: ext, Direction: hotdesk.DirectionOutbound,
			Peer: "0201234567", Device: "HD0000" + ext[2:], Start: start.Add(time.Duration(i) * time.Hour), Result: result}); err != nil {
			t.Fatal(err)
		}
	}
	var calls []hotdesk.CallRecord
	r := e.do("GET", "/api/v1/call-log?limit=2", "").want(t, 200, &calls)
	if len(calls) != 2 || calls[0].CallID != "4" || r.Header.Get("X-Total-Count") != "5" {
		t.Fatalf("page %+v total %s", calls, r.Header.Get("X-Total-Count"))
	}
	e.do("GET", "/api/v1/call-log?result=busy&device=hd00002", "").want(t, 200, &calls)
	if len(calls) != 2 || calls[0].Extension != "202" {
		t.Fatalf("busy %+v", calls)
	}
	e.do("GET", "/api/v1/call-log?since=2026-03-02T08:00:00Z&until=2026-03-02T10:00:00Z&extension=201", "").want(t, 200, &calls)
	if len(calls) != 1 || calls[0].CallID != "2" {
		t.Fatalf("range %+v", calls)
	}
	e.do("GET", "/api/v1/call-log?result=exploded", "").wantErr(t, 400, hotdesk.EINVALID, "result")
	e.do("GET", "/api/v1/call-log?since=yesterday", "").wantErr(t, 400, hotdesk.EINVALID, "since")
	e.do("GET", "/api/v1/call-log?colour=red", "").wantErr(t, 400, hotdesk.EINVALID, "colour")
	r = e.do("GET", "/api/v1/call-log/export?extension=202", "").want(t, 200, nil)
	if body := string(r.Body); r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || strings.Count(body, "\n") != 3 ||
		!strings.Contains(body, "2026-03-02T08:00:00Z,202,outbound,0201234567,HD00002,busy,") {
		t.Fatalf("export:\n%s", body)
	}
}
