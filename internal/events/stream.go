package events

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Stream serves a bus to HTTP clients as server-sent events: the API's
// /api/v1/events and the console's live desks table share it. The zero
// value of every field but Bus is usable.
type Stream struct {
	Bus       *Bus
	Buffer    int             // the subscription's buffer (default 64)
	Heartbeat time.Duration   // a comment line this often keeps proxies from timing out (default 15 s)
	Max       time.Duration   // the response ends after this and the client reconnects (default 5 min)
	Done      <-chan struct{} // closed on shutdown: open streams end
	Log       *slog.Logger    // nil = slog.Default()
}

// Frame names and encodes one event for a client; ok false skips it.
type Frame func(e Event) (name string, data any, ok bool)

// Serve streams the bus's events, as frame makes them, to one client
// ("id: <seq>", "event: <name>", "data: <json>") until the client goes,
// Max passes, Done is closed or the subscription ends. It clears the
// connection's write deadline (a server WriteTimeout would cut the stream
// mid-way; Max bounds it instead). It writes the status itself, so it
// returns nothing: whatever fails after that is the client going away.
func (s Stream) Serve(w http.ResponseWriter, r *http.Request, frame Frame) {
	ch, cancel := s.Bus.Subscribe(s.Buffer)
	defer cancel()
	// The controller reaches the connection through wrapping writers.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: hello\n\n")
	if err := rc.Flush(); err != nil {
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("events: the response cannot be streamed", "path", r.URL.Path, "err", err)
		return
	}
	end := time.NewTimer(orDefault(s.Max, 5*time.Minute))
	defer end.Stop()
	beat := time.NewTicker(orDefault(s.Heartbeat, 15*time.Second))
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-s.Done:
			return
		case <-beat.C:
			fmt.Fprint(w, ": ping\n\n")
		case e, ok := <-ch:
			if !ok {
				return
			}
			name, data, ok := frame(e)
			if !ok {
				continue
			}
			if err := writeFrame(w, e.Seq, name, data); err != nil {
				return // the client is gone
			}
		}
		if err := rc.Flush(); err != nil {
			return // the client is gone
		}
	}
}

// writeFrame writes one event in SSE framing. JSON has no raw newlines, so
// one data line holds it.
func writeFrame(w io.Writer, seq int64, name string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, name, b)
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
