package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// errTooBig is returned by encode for an event that does not fit a NOTIFY
// even without its Detail.
var errTooBig = errors.New("event too big for NOTIFY")

// encode makes the NOTIFY payload of a local event. An event too big is
// sent without its Detail (trimmed reports it), or not at all (errTooBig).
func encode(node, instance string, e events.Event) (payload string, trimmed bool, err error) {
	e.Seq = 0 // the receiving bus numbers its own
	env := envelope{Node: node, Instance: instance, Event: e}
	p, err := json.Marshal(env)
	if err != nil {
		return "", false, fmt.Errorf("encode event: %w", err)
	}
	if len(p) > MaxPayload && env.Event.Detail != "" {
		env.Event.Detail, trimmed = "", true
		if p, err = json.Marshal(env); err != nil {
			return "", false, fmt.Errorf("encode event: %w", err)
		}
	}
	if len(p) > MaxPayload {
		return "", trimmed, errTooBig
	}
	return string(p), trimmed, nil
}

// decode turns a payload into the event to publish here, marked with its
// origin node. It reports false for this process's own notifications
// (LISTEN hears them too) and for payloads that are not events.
func (b *Bridge) decode(payload string) (events.Event, bool) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		b.log.Warn("cluster: bad notification ignored", "err", err, "bytes", len(payload))
		return events.Event{}, false
	}
	if env.Instance == b.instance {
		return events.Event{}, false
	}
	if env.Node == "" || env.Event.Kind == "" {
		b.log.Warn("cluster: notification without node or kind ignored", "node", env.Node, "kind", env.Event.Kind)
		return events.Event{}, false
	}
	if env.Node == b.o.Node && b.sameName.CompareAndSwap(false, true) {
		b.log.Warn("cluster: another node uses this node's name; give each node its own --node", "node", env.Node)
	}
	e := env.Event
	e.Seq = 0
	e.Node = env.Node
	return e, true
}

// listen receives the other nodes' events until ctx is done, reconnecting
// with backoff.
func (b *Bridge) listen(ctx context.Context) {
	var backoff time.Duration
	for {
		err := b.listenOnce(ctx, &backoff)
		if ctx.Err() != nil {
			return
		}
		backoff = b.nextBackoff(backoff)
		b.log.Warn("cluster: listen connection lost; reconnecting", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// listenOnce connects, LISTENs and publishes notifications until the
// connection fails or ctx is done.
func (b *Bridge) listenOnce(ctx context.Context, backoff *time.Duration) error {
	conn, ch, err := b.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
		return err
	}
	*backoff = 0
	select {
	case <-b.ready:
		// Listening again after a break: what the others published
		// meanwhile is lost; tell this node to read the store again.
		b.log.Info("cluster: listening again; asking for a resync", "node", b.o.Node)
		b.o.Bus.Publish(events.Event{Kind: events.KindResync})
	default:
		close(b.ready)
	}
	b.log.Debug("cluster: listening", "channel", ch, "node", b.o.Node)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if e, ok := b.decode(n.Payload); ok {
			b.o.Bus.Publish(e)
		}
	}
}

// send forwards this node's own events until ctx is done. While the
// database is unreachable, events are dropped (and counted in the log)
// rather than queued without bound.
func (b *Bridge) send(ctx context.Context) {
	s := &sender{b: b}
	defer s.close(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-b.sub:
			if !ok {
				return
			}
			if e.Remote() || e.Kind == events.KindResync {
				continue // came from another node, or only about this one
			}
			payload, trimmed, err := encode(b.o.Node, b.instance, e)
			if err != nil {
				b.log.Warn("cluster: event not sent to other nodes", "kind", e.Kind, "err", err)
				continue
			}
			if trimmed {
				b.log.Info("cluster: event sent without its detail (too big)", "kind", e.Kind)
			}
			s.notify(ctx, payload)
		}
	}
}

// sender owns the sending connection.
type sender struct {
	b       *Bridge
	conn    *pgx.Conn
	channel string
	backoff time.Duration
	retryAt time.Time
	dropped int
}

// notify sends one payload, reconnecting once at once if the connection
// turns out broken, then backing off.
func (s *sender) notify(ctx context.Context, payload string) {
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			if time.Now().Before(s.retryAt) {
				break
			}
			var err error
			if s.conn, s.channel, err = s.b.connect(ctx); err != nil {
				s.fail(ctx, err)
				break
			}
		}
		nctx, cancel := context.WithTimeout(ctx, sendTimeout)
		_, err := s.conn.Exec(nctx, `SELECT pg_notify($1, $2)`, s.channel, payload)
		cancel()
		if err == nil {
			if s.dropped > 0 {
				s.b.log.Warn("cluster: events were not sent to other nodes while the database was unreachable", "dropped", s.dropped)
			}
			s.backoff, s.dropped = 0, 0
			return
		}
		s.fail(ctx, err)
		if ctx.Err() != nil {
			return
		}
	}
	s.dropped++
}

func (s *sender) fail(ctx context.Context, err error) {
	s.close(ctx)
	s.backoff = s.b.nextBackoff(s.backoff)
	s.retryAt = time.Now().Add(s.backoff)
	if ctx.Err() == nil {
		s.b.log.Warn("cluster: send connection failed", "err", err, "retry_in", s.backoff)
	}
}

func (s *sender) close(ctx context.Context) {
	if s.conn != nil {
		closeConn(ctx, s.conn)
		s.conn = nil
	}
}

// closeConn closes conn within a second, even when ctx is already done.
func closeConn(ctx context.Context, conn *pgx.Conn) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	conn.Close(cctx)
}
