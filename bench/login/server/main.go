// Command server is a bench-only PBX for bench/login/run.sh: store +
// signaling + registrar + desk rules + feature codes + check-sync, seeded
// with N hot-desk users (ext 2001…, PIN 1234) and N hot-desk phones
// (HD00001…, password "pw-<id>"). With -db PATH the store is the real
// durable SQLite store (WAL, synchronous=FULL, group commit) in a fresh
// file; otherwise it is in memory, and with -journal DIR every transaction
// is appended to a file and fsynced before it returns (the cost of a
// durable commit without SQLite's own work). It prints "ready" once
// listening and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/feature"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run() error {
	sipAddr := flag.String("sip", "127.0.0.1:5060", "SIP UDP+TCP listen address")
	realm := flag.String("domain", "bench.test", "SIP domain and digest realm")
	n := flag.Int("n", 1000, "users and phones to seed")
	journal := flag.String("journal", "", "directory for an fsynced transaction journal (durability cost); empty = none")
	dbPath := flag.String("db", "", "SQLite database file to create and use instead of the memory store")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	mem := siptest.NewMemStore()
	var st store = mem
	switch {
	case *dbPath != "":
		db, err := sqlite.Open(ctx, *dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		st = db
	case *journal != "":
		j, err := newJournalStore(mem, filepath.Join(*journal, "journal"))
		if err != nil {
			return err
		}
		defer j.Close()
		st = j
	}
	if err := seed(ctx, st, *n); err != nil {
		return err
	}
	bus := events.New()
	dsk := desk.New(desk.Options{Store: st, Bus: bus, Logger: log})
	reg, err := registrar.New(registrar.Options{Store: st, Bus: bus, Realm: *realm, Logger: log, Node: "bench", Algorithms: []string{"MD5"}})
	if err != nil {
		return err
	}
	srv, err := signaling.New(signaling.Options{UDPAddr: *sipAddr, TCPAddr: *sipAddr, Logger: log, ReadFilter: reg.Allow})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	reg.Register(srv)
	set, err := prompts.New("en", "")
	if err != nil {
		return err
	}
	host, _, _ := sip.ParseAddr(*sipAddr)
	fs, err := feature.New(feature.Options{Desk: dsk, Store: st, Prompts: func(string) (*prompts.Set, error) { return set, nil },
		Ports: media.NewPortPool(0, 0), MediaIP: host, SIP: srv, Logger: log})
	if err != nil {
		return err
	}
	srv.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		dev, ok := reg.Authenticate(req, tx)
		if !ok {
			return
		}
		if code, ok := feature.Parse(req.Recipient.User, hotdesk.DefaultSettings().FeatureCodes); ok {
			fs.HandleInvite(req, tx, dev, code)
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
	})
	cs := checksync.New(checksync.Options{Bus: bus, SIP: srv, Contacts: reg.Contacts, Store: st, Logger: log})
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println("ready")
	var wg sync.WaitGroup
	for _, f := range []func(context.Context) error{reg.Run, cs.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f(ctx) }()
	}
	err = srv.Serve(ctx)
	wg.Wait()
	return err
}

func seed(ctx context.Context, st store, n int) error {
	hash, err := desk.HashPIN("1234")
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		ext := fmt.Sprint(2000 + i)
		if err := st.CreateUser(ctx, &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true, PINHash: hash}); err != nil {
			return fmt.Errorf("seed user %s: %w", ext, err)
		}
		id := fmt.Sprintf("HD%05d", i)
		if err := st.CreateDevice(ctx, &hotdesk.Device{ID: id, SIPPassword: "pw-" + id, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric}); err != nil {
			return fmt.Errorf("seed device %s: %w", id, err)
		}
	}
	return nil
}

// store is what the bench needs: the components' own store interfaces plus
// seeding. The memory store, the journal and SQLite all have it.
type store interface {
	desk.Store
	registrar.Store
	feature.Store
	checksync.Store
	CreateUser(ctx context.Context, u *hotdesk.User) error
	CreateDevice(ctx context.Context, d *hotdesk.Device) error
}
