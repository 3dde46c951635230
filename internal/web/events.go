package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// eventKinds are the kinds an event stream may be filtered on: the audit
// kinds plus the bus's call and user kinds.
var eventKinds = append(validate.AuditKinds(),
	events.KindCallTrying, events.KindCallEarly, events.KindCallConfirmed, events.KindCallTerminated,
	events.KindUserUpdated)

// stream serves GET /api/v1/events: server-sent events, one per bus event
// ("event: <kind>", "id: <seq>", "data: <json>"), a comment heartbeat, and
// an end after StreamMax, on Close or when the client goes.
func (a *API) stream(w http.ResponseWriter, r *http.Request) error {
	kinds := splitList(r.URL.Query()["kinds"])
	if err := validate.Kinds("kinds", kinds, eventKinds); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	fl, ok := w.(http.Flusher)
	if !ok || a.bus == nil {
		return hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Live events are not available.")
	}
	ch, cancel := a.bus.Subscribe(256)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: hello\n\n")
	fl.Flush()
	end := time.NewTimer(a.streamMax)
	defer end.Stop()
	beat := time.NewTicker(a.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-end.C:
			return nil
		case <-a.done:
			return nil
		case <-beat.C:
			fmt.Fprint(w, ": ping\n\n")
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			if len(want) > 0 && !want[e.Kind] {
				continue
			}
			if err := writeEvent(w, e); err != nil {
				return nil // the client is gone
			}
		}
		fl.Flush()
	}
}

// writeEvent writes one event in SSE framing. JSON has no raw newlines, so
// one data line holds it.
func writeEvent(w http.ResponseWriter, e events.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Kind, b)
	return err
}
