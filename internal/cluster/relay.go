package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/follow"
)

const eventCols = `seq, time, node, kind, extension, device, reason, source, detail, call_id, direction, peer`

// insertSQL appends one event. The transaction id is drawn before the
// seq: the reader's gap rule relies on it (see reader.read).
const insertSQL = `INSERT INTO events (xid, seq, time, node, kind, extension, device, reason, source, detail, call_id, direction, peer)
	VALUES (pg_current_xact_id(), nextval('events_seq_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// listen reads the other nodes' events until ctx is done, reconnecting
// with backoff; it keeps its place in the log across reconnections.
func (b *Bridge) listen(ctx context.Context) {
	var backoff time.Duration
	r := b.r
	for {
		err := b.listenOnce(ctx, r, &backoff)
		if ctx.Err() != nil {
			if err := r.save(ctx, nil); err != nil {
				b.log.Warn("cluster: save the event log position at shutdown", "err", err)
			}
			return
		}
		backoff = b.nextBackoff(backoff)
		b.log.Warn("cluster: event log connection lost; reconnecting", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// listenOnce connects, LISTENs, reads the log from where it was and then
// after every notification and every PollInterval, until the connection
// fails or ctx is done.
func (b *Bridge) listenOnce(ctx context.Context, r *reader, backoff *time.Duration) error {
	conn, ch, err := b.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
		return err
	}
	// Listening before reading: an event committed from here on either is
	// read now or wakes the loop below.
	if err := r.start(ctx, conn); err != nil {
		return err
	}
	if err := r.read(ctx, conn); err != nil {
		return err
	}
	*backoff = 0
	select {
	case <-b.ready:
	default:
		close(b.ready)
	}
	b.log.Debug("cluster: following the event log", "channel", ch, "node", b.o.Node, "seq", r.cursor)
	lastPrune, lastRead := time.Time{}, time.Now()
	for {
		woken, err := b.wait(ctx, conn, lastRead.Add(b.o.PollInterval))
		if err != nil {
			return err
		}
		// On a busy site a wake-up comes with every commit: the ones
		// within ReadGap of the last read are served by one read.
		for woken {
			if woken, err = b.wait(ctx, conn, lastRead.Add(b.o.ReadGap)); err != nil {
				return err
			}
		}
		if err := r.read(ctx, conn); err != nil {
			return err
		}
		lastRead = time.Now()
		if time.Since(r.savedAt) >= b.o.PollInterval {
			if err := r.save(ctx, conn); err != nil {
				return err
			}
		}
		if time.Since(lastPrune) > time.Minute {
			lastPrune = time.Now()
			if err := b.prune(ctx, conn); err != nil {
				return err
			}
		}
	}
}

// wait takes notifications until one from another node arrives (true) or
// until is reached (false). This node's own wake-ups are ignored.
func (b *Bridge) wait(ctx context.Context, conn *pgx.Conn, until time.Time) (bool, error) {
	for {
		d := time.Until(until)
		if d <= 0 {
			return false, nil
		}
		wctx, cancel := context.WithTimeout(ctx, d)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err != nil {
			if pgconnTimeout(err) {
				return false, nil
			}
			return false, err
		}
		if n.Payload != b.o.Node {
			return true, nil
		}
	}
}

// pgconnTimeout reports whether err is WaitForNotification giving up at
// its deadline (the connection is still usable).
func pgconnTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout")
}

// prune deletes events older than Retention.
func (b *Bridge) prune(ctx context.Context, conn *pgx.Conn) error {
	cutoff := time.Now().Add(-b.o.Retention).UnixNano()
	tag, err := conn.Exec(ctx, `DELETE FROM events WHERE time < $1`, cutoff)
	if err != nil {
		return fmt.Errorf("prune events: %w", err)
	}
	if n := tag.RowsAffected(); n > 0 {
		b.log.Debug("cluster: pruned old events", "rows", n)
	}
	return nil
}

// reader is the listener's place in the log.
type reader struct {
	b       *Bridge
	started bool
	cursor  int64 // highest seq applied or skipped
	// A gap is a seq missing below a committed one: its transaction may
	// still commit (it drew the seq before the later one did) or it rolled
	// back. Every transaction that can hold a seq at or below gapUpTo had
	// its id before the snapshot whose xmax is gapXmax; once the oldest
	// running transaction (xmin) is at or past gapXmax, all of them have
	// ended and what is still missing up to gapUpTo never will be there.
	gapXmax  uint64
	gapUpTo  int64
	gapSince time.Time
	// saved is the cursor as last written to this node's row in the nodes
	// table (last_seq), at savedAt: a restarted node goes on from there.
	saved   int64
	savedAt time.Time
}

// save writes the cursor to the node's row (at most the last PollInterval
// of events is read again after a crash: by a new process, which has not
// applied them). At shutdown (ctx done) it gets a second of its own, and a
// connection of its own when conn is nil or gone.
func (r *reader) save(ctx context.Context, conn *pgx.Conn) error {
	r.savedAt = time.Now()
	if r.cursor == r.saved {
		return nil
	}
	if ctx.Err() != nil {
		var cancel func()
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if conn == nil || conn.IsClosed() {
			c, _, err := r.b.connect(ctx)
			if err != nil {
				return err
			}
			defer closeConn(ctx, c)
			conn = c
		}
	}
	// 0 is the column's default, "never ran": a node that ran at the
	// start of an empty log says so with -1 (see start).
	v := r.cursor
	if v == 0 {
		v = -1
	}
	if _, err := conn.Exec(ctx, `UPDATE nodes SET last_seq = $1 WHERE name = $2`, v, r.b.o.Node); err != nil {
		return fmt.Errorf("save event log position: %w", err)
	}
	r.saved = r.cursor
	return nil
}

// start sets the cursor the first time where this node's previous process
// left off (last_seq in its nodes row), so a restarted node catches up on
// the events committed while it was down — if the log still holds them;
// otherwise (and for a new node) at the end of the log: the node reads the
// state before from the store. Later it keeps the cursor, so nothing
// committed while the connection was down is missed — unless those rows
// were pruned meanwhile, when it asks its node to read the store again
// (events.KindResync).
func (r *reader) start(ctx context.Context, conn *pgx.Conn) error {
	var lo, hi int64
	if err := conn.QueryRow(ctx, `SELECT COALESCE(min(seq), 0), COALESCE(max(seq), 0) FROM events`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	if !r.started {
		var last int64
		err := conn.QueryRow(ctx, `SELECT last_seq FROM nodes WHERE name = $1`, r.b.o.Node).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("event log position: %w", err)
		}
		// last_seq 0 (the default) is a node that never ran: it starts at
		// the end. -1 is one that ran while the log was empty: it read
		// nothing yet, so everything logged since is news to it.
		ran := last != 0
		last = max(last, 0)
		r.started, r.cursor = true, hi
		switch {
		case !ran || last >= hi:
		case lo <= last+1 || !r.pruned(ctx, conn, lo):
			r.cursor = last
			r.b.log.Info("cluster: catching up on the events since this node last ran", "from", last+1, "to", hi)
		default:
			r.b.log.Warn("cluster: the events since this node last ran were pruned; it starts from the store", "from", last+1, "to", lo-1)
		}
		// Saved at once: a crash before the first periodic save still
		// comes back to here.
		r.saved = -1
		return r.save(ctx, conn)
	}
	if lo > r.cursor+1 && r.pruned(ctx, conn, lo) {
		r.b.log.Warn("cluster: events were pruned before this node read them; reading the store again", "from", r.cursor+1, "to", lo-1)
		r.cursor = lo - 1
		r.b.o.Bus.Publish(events.Event{Kind: events.KindResync})
	}
	return nil
}

// pruned reports whether the log's first row, lo, is old enough that the
// rows before it were pruned (rather than rolled back).
func (r *reader) pruned(ctx context.Context, conn *pgx.Conn, lo int64) bool {
	var older bool
	cutoff := time.Now().Add(-r.b.o.Retention / 2).UnixNano()
	err := conn.QueryRow(ctx, `SELECT time < $1 FROM events WHERE seq = $2`, cutoff, lo).Scan(&older)
	return err == nil && older
}

// read publishes the events after the cursor, in seq order, stopping at a
// gap that may still be filled.
func (r *reader) read(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, full, err := r.readBatch(ctx, conn)
		if err != nil {
			return fmt.Errorf("read event log: %w", err)
		}
		if !full || n == 0 {
			return nil
		}
	}
}

const batchSize = 500

// readSQL reads the log after $1 in one statement: one snapshot for the
// rows and for xmin/xmax, and one round trip. This node's own rows ($2)
// come back as their seq only (they are skipped, but count for the cursor
// and the gap rule). Another node's login comes with the login as it is
// now ("live", its deadline), so the nodes reading the event need not each
// read it again (events.LoginNow).
var readSQL = `SELECT pg_snapshot_xmin(s.s)::text, pg_snapshot_xmax(s.s)::text, e.seq, e.mine, e.time, e.node, e.kind,
	e.extension, e.device, e.reason, e.source, e.detail, e.call_id, e.direction, e.peer, l.device IS NOT NULL, l.ends_at
	FROM (SELECT pg_current_snapshot() s) s
	LEFT JOIN LATERAL (SELECT seq, node = $2 AS mine, ` + notMine("time", "node", "kind", "extension", "device", "reason",
	"source", "detail", "call_id", "direction", "peer") + `
		FROM events WHERE seq > $1 ORDER BY seq LIMIT ` + strconv.Itoa(batchSize) + `) e ON true
	LEFT JOIN logins l ON e.kind = '` + loginKind + `' AND l.device = e.device AND l.extension = e.extension
	ORDER BY e.seq`

// loginKind is hotdesk.KindLogin (not imported: the log's contract is
// its own).
const loginKind = "login"

// notMine selects cols of another node's row, NULL for this node's.
func notMine(cols ...string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "CASE WHEN node <> $2 THEN " + c + " END AS " + c
	}
	return strings.Join(out, ", ")
}

func (r *reader) readBatch(ctx context.Context, conn *pgx.Conn) (applied int, full bool, err error) {
	r.b.reads.Add(1)
	rows, err := conn.Query(ctx, readSQL, r.cursor, r.b.o.Node)
	if err != nil {
		return 0, false, err
	}
	type row struct {
		seq  int64
		mine bool
		e    events.Event
	}
	var batch []row
	var xminS, xmaxS string
	for rows.Next() {
		var seq, t, ends *int64
		var mine *bool
		var live bool
		var node, kind, ext, dev, reason, source, detail, callID, dir, peer *string
		if err := rows.Scan(&xminS, &xmaxS, &seq, &mine, &t, &node, &kind, &ext, &dev, &reason, &source, &detail, &callID, &dir, &peer,
			&live, &ends); err != nil {
			rows.Close()
			return 0, false, err
		}
		if seq == nil {
			continue // no events after the cursor
		}
		x := row{seq: *seq, mine: *mine}
		if !x.mine {
			x.e = events.Event{Node: *node, Kind: *kind, Extension: *ext, Device: *dev, Reason: *reason,
				Source: *source, Detail: *detail, CallID: *callID, Direction: *dir, Peer: *peer}
			if *t != 0 {
				x.e.Time = time.Unix(0, *t)
			}
			if x.e.Node == "" {
				x.e.Node = "?" // written by a store without a node name: still remote
			}
			if x.e.Kind == loginKind {
				x.e.Login = &events.LoginNow{Live: live}
				if ends != nil {
					at := time.Unix(0, *ends).UTC()
					x.e.Login.EndsAt = &at
				}
			}
		}
		batch = append(batch, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	xmin, _ := strconv.ParseUint(xminS, 10, 64)
	xmax, _ := strconv.ParseUint(xmaxS, 10, 64)
	if len(batch) == 0 {
		return 0, false, nil
	}
	final := int64(0) // missing seqs up to here are known never to come
	if r.gapXmax != 0 {
		waited := time.Since(r.gapSince)
		switch {
		case xmin >= r.gapXmax:
			final = r.gapUpTo
		case waited > r.b.o.GapGrace:
			r.b.log.Warn("cluster: skipping an event log gap held by a transaction open too long", "after", r.cursor, "waited", waited)
			final = r.gapUpTo
		}
		if final != 0 {
			r.gapXmax = 0
		}
	}
	for _, x := range batch {
		if x.seq > r.cursor+1 && x.seq-1 > final {
			if r.gapXmax == 0 {
				r.gapXmax, r.gapUpTo, r.gapSince = xmax, batch[len(batch)-1].seq, time.Now()
			}
			return applied, false, nil
		}
		r.cursor = x.seq
		applied++
		if x.mine {
			continue // published on this node's bus when it happened
		}
		r.b.o.Bus.Publish(x.e)
	}
	return applied, len(batch) == batchSize, nil
}

// send logs this node's events that the store does not log (call progress,
// user_updated) and wakes the other nodes for every local event, until ctx
// is done. While the database is unreachable the events to log wait, up to
// MaxPending, and go out in order once it is back.
func (b *Bridge) send(ctx context.Context) {
	s := &sender{b: b}
	defer s.close(ctx)
	var retry, hold <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-b.sub:
			if !ok {
				return
			}
			s.add(e)
			// Take whatever else is queued, so one round trip serves many.
			follow.Queued(b.sub, sendBatch, s.add)
		case <-retry:
			retry = nil
		case <-hold:
			hold = nil
		}
		if retry != nil || hold != nil || !s.due() {
			continue
		}
		// At most one write (and wake-up) per NotifyGap: on a busy node
		// one NOTIFY wakes the others for many events.
		if wait := time.Until(s.last.Add(b.o.NotifyGap)); wait > 0 {
			hold = time.After(wait)
			continue
		}
		s.last = time.Now()
		if err := s.flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.fail(ctx, err)
			retry = time.After(s.backoff)
		}
	}
}

const sendBatch = 256

// sender owns the sending connection and the events waiting for it.
type sender struct {
	b       *Bridge
	conn    *pgx.Conn
	channel string
	backoff time.Duration
	pending []events.Event // to insert, oldest first
	last    time.Time      // of the last flush
	wake    bool           // a NOTIFY is owed
	dropped int
}

func (s *sender) add(e events.Event) {
	if e.Remote() || e.Kind == events.KindResync {
		return // came from another node, or only about this one
	}
	s.wake = true
	if events.Logged(e.Kind) {
		return // the store wrote it with its audit row
	}
	if len(s.pending) >= s.b.o.MaxPending {
		s.pending = s.pending[1:]
		s.dropped++
	}
	s.pending = append(s.pending, e)
}

func (s *sender) due() bool { return s.wake || len(s.pending) > 0 }

// flush inserts the pending events and sends one wake-up, in one
// transaction (the NOTIFY goes out at its commit).
func (s *sender) flush(ctx context.Context) error {
	if s.conn == nil {
		var err error
		if s.conn, s.channel, err = s.b.connect(ctx); err != nil {
			return err
		}
	}
	fctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if len(s.pending) == 0 {
		if _, err := s.conn.Exec(fctx, `SELECT pg_notify($1, $2)`, s.channel, s.b.o.Node); err != nil {
			return err
		}
		s.wake = false
		s.b.wakeups.Add(1)
		return nil
	}
	for len(s.pending) > 0 {
		n := min(len(s.pending), sendBatch)
		batch := &pgx.Batch{}
		for _, e := range s.pending[:n] {
			var t int64
			if !e.Time.IsZero() {
				t = e.Time.UnixNano()
			}
			batch.Queue(insertSQL, t, s.b.o.Node, e.Kind, e.Extension, e.Device, e.Reason, e.Source, e.Detail, e.CallID, e.Direction, e.Peer)
		}
		batch.Queue(`SELECT pg_notify($1, $2)`, s.channel, s.b.o.Node)
		tx, err := s.conn.Begin(fctx)
		if err != nil {
			return err
		}
		if err := tx.SendBatch(fctx, batch).Close(); err != nil {
			tx.Rollback(context.WithoutCancel(fctx))
			return err
		}
		if err := tx.Commit(fctx); err != nil {
			return err
		}
		s.pending = s.pending[n:]
	}
	s.wake = false
	s.b.wakeups.Add(1)
	if s.dropped > 0 {
		s.b.log.Warn("cluster: events were dropped while the database was unreachable (queue full)", "dropped", s.dropped)
		s.dropped = 0
	}
	s.backoff = 0
	return nil
}

func (s *sender) fail(ctx context.Context, err error) {
	s.close(ctx)
	s.backoff = s.b.nextBackoff(s.backoff)
	if ctx.Err() == nil {
		s.b.log.Warn("cluster: send connection failed; will retry", "err", err, "pending", len(s.pending), "retry_in", s.backoff)
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
