// Package cluster lets several Hotdesk PBX nodes that share one PostgreSQL
// database see each other's events (SPEC section 8). A Bridge sends every
// event published on its node's bus to the other nodes with PostgreSQL
// NOTIFY and publishes theirs, received with LISTEN on a dedicated
// connection, on its own bus marked with the origin node (events.Event.Node),
// so a login through node A sends check-sync to a phone registered on node B
// and shows on B's console and event stream.
//
// Delivery is best effort, like the bus itself: events published while the
// connection to the database is down are lost. When the listener connects
// again it publishes events.KindResync on its bus, so state kept from events
// (auto-logout deadlines) is read again from the store, which is the truth.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// MaxPayload is the largest NOTIFY payload sent. PostgreSQL refuses 8000
// bytes and more; events are a few hundred.
const MaxPayload = 7900

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// sendBuffer is how many local events may wait for the database.
	sendBuffer = 1024
	// sendTimeout bounds one NOTIFY, so a hung connection is replaced.
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
}

// Bridge connects a node's bus to the other nodes' buses.
type Bridge struct {
	o        Options
	log      *slog.Logger
	instance string // tells this process's own notifications apart
	sub      <-chan events.Event
	cancel   func()

	ready    chan struct{} // closed by the listener (its only writer)
	sameName atomic.Bool
}

// envelope is the NOTIFY payload.
type envelope struct {
	Node     string       `json:"node"`
	Instance string       `json:"instance"`
	Event    events.Event `json:"event"`
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
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	id := make([]byte, 8)
	rand.Read(id)
	b := &Bridge{o: o, log: log, instance: hex.EncodeToString(id), ready: make(chan struct{})}
	b.sub, b.cancel = o.Bus.Subscribe(sendBuffer)
	return b, nil
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

// Listening is closed once the bridge first LISTENs, so other nodes'
// events published from then on reach this node's bus.
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
