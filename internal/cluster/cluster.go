// Package cluster lets several Hotdesk PBX nodes that share one PostgreSQL
// database see each other's events (SPEC section 8), so a login through
// node A sends check-sync to a phone registered on node B, schedules its
// auto-logout deadline there and shows on B's console and event stream.
//
// The events table is the log. The store writes every audit row into it in
// the same transaction as the change (sqlstore Options.EventLog), with a
// sequence number; a Bridge adds the node's events that have no audit row
// (call progress, user_updated) and, for every local event, sends a NOTIFY
// on the schema's channel (payload: its node name). NOTIFY is only a
// wake-up: each node reads the log from its last seen seq after another
// node's notification (at most one read per ReadGap, 50 ms, however many
// commits woke it; a node sends at most one NOTIFY per NotifyGap, 20 ms),
// every PollInterval (1 s)
// and after every reconnection, and publishes the other nodes' events
// on its bus marked with their origin node (events.Event.Node); its own
// were published on its bus when they happened and are skipped. A seq
// missing below a committed one (a transaction that drew it has not
// committed yet, or rolled back) stops the reader until every transaction
// that could hold it has ended, so events are applied in seq order, once.
// Rows older than Retention are pruned.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Channel is the NOTIFY channel of the default (public) schema. Nodes using
// another schema (search_path in the URL) use Channel + "_" + schema, so
// several installations (or tests) in one database stay apart.
const Channel = "hotdesk_events"

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// sendBuffer is the bus subscription of the sender.
	sendBuffer = 4096
	// sendTimeout bounds one write of the sender, so a hung connection is
	// replaced.
	sendTimeout = 5 * time.Second
	// connectTimeout bounds a connection attempt unless the URL sets one.
	connectTimeout = 10 * time.Second
)

// Options configure a Bridge.
type Options struct {
	DSN    string      // postgres:// URL of the shared database (same as the store's)
	Node   string      // this node's name (--node), sent with its events
	Bus    *events.Bus // this node's bus
	Logger *slog.Logger
	// MaxBackoff caps the wait between reconnection attempts (default 10 s).
	MaxBackoff time.Duration
	// PollInterval is how often the log is read without a wake-up
	// (default 1 s).
	PollInterval time.Duration
	// ReadGap is the least time between two reads of the log after
	// wake-ups (default 50 ms): on a busy site one read serves the
	// events of many commits. (A wake-up after a quiet spell is served
	// at once: the last read, on the timer, is older than that.)
	ReadGap time.Duration
	// NotifyGap is the least time between two of this node's writes to
	// the log and wake-ups of the others (default 20 ms).
	NotifyGap time.Duration
	// Retention is how long events stay in the log (default 24 h): a node
	// cut off for longer reads the store again instead.
	Retention time.Duration
	// GapGrace is how long the reader waits at most for a transaction
	// holding a missing seq (default 30 s).
	GapGrace time.Duration
	// MaxPending is how many events without an audit row wait while the
	// database is unreachable (default 100000); older ones are dropped.
	MaxPending int
}

// Bridge connects a node's bus to the other nodes' buses.
type Bridge struct {
	o      Options
	log    *slog.Logger
	sub    <-chan events.Event
	cancel func()

	ready chan struct{} // closed by the listener (its only writer)
	r     *reader       // the listener's place in the log (Begin sets it first)

	reads, wakeups atomic.Int64
}

// New returns a bridge. It subscribes to the bus at once, so events
// published before Run connects are sent too.
func New(o Options) (*Bridge, error) {
	switch {
	case o.Bus == nil:
		return nil, errors.New("cluster: Bus is required")
	case o.Node == "":
		return nil, errors.New("cluster: Node is required")
	}
	if _, err := pgx.ParseConfig(o.DSN); err != nil {
		return nil, fmt.Errorf("cluster: database URL: %w", err)
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = maxBackoff
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.ReadGap <= 0 {
		o.ReadGap = 50 * time.Millisecond
	}
	if o.NotifyGap <= 0 {
		o.NotifyGap = 20 * time.Millisecond
	}
	if o.Retention <= 0 {
		o.Retention = 24 * time.Hour
	}
	if o.GapGrace <= 0 {
		o.GapGrace = 30 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100000
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &Bridge{o: o, log: log, ready: make(chan struct{})}
	b.r = &reader{b: b}
	b.sub, b.cancel = o.Bus.Subscribe(sendBuffer)
	return b, nil
}

// Begin fixes where this node starts in the event log — where its previous
// process left off, else the end of the log — before Run. Call it before
// the node reads its state from the store and starts serving: an event
// committed after that is then read by Run, even one committed before Run
// connects (without Begin, Run starts at the end of the log as it is then).
func (b *Bridge) Begin(ctx context.Context) error {
	conn, _, err := b.connect(ctx)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer closeConn(ctx, conn)
	return b.r.start(ctx, conn)
}

// Run sends and receives events until ctx is done, reconnecting with
// backoff when the database connection drops. It returns nil once ctx is
// done and both of its goroutines have ended.
func (b *Bridge) Run(ctx context.Context) error {
	defer b.cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.listen(ctx)
	}()
	b.send(ctx)
	<-done
	return nil
}

// Reads is how many times this node has read the log; Wakeups how many
// NOTIFYs it has sent (for tests and metrics).
func (b *Bridge) Reads() int64   { return b.reads.Load() }
func (b *Bridge) Wakeups() int64 { return b.wakeups.Load() }

// Listening is closed once the bridge first follows the log, so other
// nodes' events committed from then on reach this node's bus.
func (b *Bridge) Listening() <-chan struct{} { return b.ready }

// channelName is the NOTIFY channel for schema.
func channelName(schema string) string {
	if schema == "" || schema == "public" {
		return Channel
	}
	name := Channel + "_" + schema
	if len(name) > 63 { // PostgreSQL truncates identifiers to 63 bytes
		h := fnv.New64a()
		h.Write([]byte(schema))
		name = fmt.Sprintf("%s_%x", Channel, h.Sum64())
	}
	return name
}

// connect opens a connection and finds its channel.
func (b *Bridge) connect(ctx context.Context) (*pgx.Conn, string, error) {
	cfg, err := pgx.ParseConfig(b.o.DSN)
	if err != nil {
		return nil, "", err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	// Named, so an operator sees in pg_stat_activity whose connection it is.
	cfg.RuntimeParams["application_name"] = "hotdesk cluster " + b.o.Node
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, "", err
	}
	s := ""
	if schema != nil {
		s = *schema
	}
	return conn, channelName(s), nil
}

// sleep waits d or until ctx is done, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (b *Bridge) nextBackoff(d time.Duration) time.Duration {
	return min(max(2*d, minBackoff), b.o.MaxBackoff)
}
