package admin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// CallResults are the results a call log filters on.
var CallResults = []string{hotdesk.ResultAnswered, hotdesk.ResultBusy, hotdesk.ResultNoAnswer,
	hotdesk.ResultCancelled, hotdesk.ResultRejected, hotdesk.ResultFailed}

// maxCallExport bounds one CSV export of the call log.
const maxCallExport = 100000

func checkCallFilter(f hotdesk.CallFilter) error {
	if f.Result != "" && !slices.Contains(CallResults, f.Result) {
		return hotdesk.Invalidf("result", "result must be one of %v.", CallResults)
	}
	return nil
}

// CallLog returns the calls of every user matching f, newest first, and
// how many match (issue 17 item 9). Errors: EINVALID (field result).
func (s *Service) CallLog(ctx context.Context, f hotdesk.CallFilter) ([]*hotdesk.CallRecord, int, error) {
	if err := checkCallFilter(f); err != nil {
		return nil, 0, err
	}
	return s.store.FindCallLog(ctx, f)
}

// CallColumns are the call log CSV's columns.
var CallColumns = []string{"start", "extension", "direction", "peer", "device", "result", "answer", "end", "talk_seconds", "emergency", "call_id"}

// ExportCalls writes the calls matching f (without paging, at most
// 100,000, newest first) as CSV, times in RFC 3339 in loc.
func (s *Service) ExportCalls(ctx context.Context, f hotdesk.CallFilter, loc *time.Location, w io.Writer) error {
	f.Offset, f.Limit = 0, maxCallExport
	calls, _, err := s.CallLog(ctx, f)
	if err != nil {
		return err
	}
	if loc == nil {
		loc = time.UTC
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	err = writeCSV(w, CallColumns, calls, func(c *hotdesk.CallRecord) []string {
		talk := ""
		if c.Answer != nil && c.End != nil {
			talk = strconv.Itoa(int(c.End.Sub(*c.Answer).Round(time.Second).Seconds()))
		}
		return []string{stamp(&c.Start), c.Extension, c.Direction, c.Peer, c.Device, c.Result,
			stamp(c.Answer), stamp(c.End), talk, strconv.FormatBool(c.Emergency), c.CallID}
	})
	if err != nil {
		return fmt.Errorf("write calls: %w", err)
	}
	return nil
}
