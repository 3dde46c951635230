// Command flushcost measures the store's CPU per binding of the
// registrar's group commit for first registrations (a binding and a
// "registered" audit event each) on a SQLite file, written as before
// (PutBindings, then the audit events in a transaction of their own) and
// in one transaction (hotdesk.BindingTx), the two ways taking turns:
//
//	go run ./bench/register/flushcost -batch 5 -rounds 400
//
// The CPU is the process's (getrusage), per binding.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type flush func(ctx context.Context, db *sqlite.DB, bs []hotdesk.Binding, es []*hotdesk.AuditEvent) error

func apart(ctx context.Context, db *sqlite.DB, bs []hotdesk.Binding, es []*hotdesk.AuditEvent) error {
	if err := db.PutBindings(ctx, bs); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx hotdesk.Tx) error { return audit(ctx, tx, es) })
}

func together(ctx context.Context, db *sqlite.DB, bs []hotdesk.Binding, es []*hotdesk.AuditEvent) error {
	return db.InTx(ctx, func(tx hotdesk.Tx) error {
		if err := tx.(hotdesk.BindingTx).PutBindings(ctx, bs); err != nil {
			return err
		}
		return audit(ctx, tx, es)
	})
}

// audit appends es as the registrar's group commit does: in one call
// where the transaction batches them (AppendAudits), else one by one.
func audit(ctx context.Context, tx hotdesk.Tx, es []*hotdesk.AuditEvent) error {
	if b, ok := tx.(interface {
		AppendAudits(context.Context, []*hotdesk.AuditEvent) error
	}); ok {
		return b.AppendAudits(ctx, es)
	}
	for _, e := range es {
		if err := tx.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	batch := flag.Int("batch", 50, "first registrations per group commit")
	rounds := flag.Int("rounds", 60, "group commits each way")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "flushcost")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "hotdesk.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	n := 0
	next := func() ([]hotdesk.Binding, []*hotdesk.AuditEvent) {
		var bs []hotdesk.Binding
		var es []*hotdesk.AuditEvent
		for range *batch {
			n++
			d := fmt.Sprintf("B%06d", n)
			bs = append(bs, hotdesk.Binding{Device: d, Contact: "sip:" + d + "@127.0.0.1:5060;transport=tcp",
				Expires: now.Add(time.Hour), CallID: "call-" + d, CSeq: 2, UserAgent: "tcpload",
				Source: "127.0.0.1:40000", Transport: "tcp", Updated: now})
			es = append(es, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindRegistered, Device: d,
				Source: "127.0.0.1:40000", Detail: "transport tcp, user agent tcpload"})
		}
		return bs, es
	}
	ways := []flush{apart, together}
	var spent, wall [2]time.Duration
	for r := range *rounds {
		for k := range 2 {
			i := k ^ r%2 // each way first in every other round
			bs, es := next()
			c0, w0 := cpu(), time.Now()
			if err := ways[i](ctx, db, bs, es); err != nil {
				log.Fatal(err)
			}
			spent[i] += cpu() - c0
			wall[i] += time.Since(w0)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(*rounds**batch) }
	fmt.Printf("batch %d, %d group commits each way: two transactions %.0f µs CPU per binding (%.0f µs wall), one %.0f µs (%.0f µs wall)\n",
		*batch, *rounds, per(spent[0]), per(wall[0]), per(spent[1]), per(wall[1]))
}
