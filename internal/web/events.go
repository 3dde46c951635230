package web

import (
	"net/http"

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
	if a.bus == nil {
		return hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Live events are not available.")
	}
	s := events.Stream{Bus: a.bus, Buffer: 256, Heartbeat: a.heartbeat, Max: a.streamMax, Done: a.done, Log: a.log}
	s.Serve(w, r, func(e events.Event) (string, any, bool) {
		return e.Kind, e, len(want) == 0 || want[e.Kind]
	})
	return nil
}
