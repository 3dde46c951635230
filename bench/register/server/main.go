// Command server is a bench-only SIP registrar: store + signaling +
// registrar, seeded with N devices (B00001…, password "pw-<id>"), for
// bench/register/run.sh. It prints "ready" once listening, and on SIGINT or
// SIGTERM stops, writing the CPU profile if asked.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
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
	devices := flag.Int("devices", 10000, "devices to seed")
	algs := flag.String("algorithms", "MD5", "digest algorithms challenged, comma separated (sipp 3.6 knows only MD5)")
	dbPath := flag.String("db", "", "SQLite database file to create and use (empty: the in-memory stand-in)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	memprofile := flag.String("memprofile", "", "write a heap profile here on SIGUSR1")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	st, err := openStore(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seed(ctx, st, *devices); err != nil {
		return err
	}
	reg, err := registrar.New(registrar.Options{Store: st, Realm: *realm, Logger: log, Node: "bench",
		Algorithms: strings.Split(*algs, ",")})
	if err != nil {
		return err
	}
	if err := reg.Load(ctx); err != nil {
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
	go freeOnSignal(ctx, *memprofile)
	fmt.Println("ready")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); reg.Run(ctx) }()
	err = srv.Serve(ctx)
	wg.Wait()
	return err
}

func seed(ctx context.Context, st hotdesk.Store, n int) error {
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("B%05d", i)
		if _, err := st.FindDevice(ctx, id); err == nil {
			continue
		}
		d := &hotdesk.Device{ID: id, SIPPassword: "pw-" + id, Mode: hotdesk.ModePersonal, Model: hotdesk.ModelGeneric}
		if err := st.CreateDevice(ctx, d); err != nil {
			return fmt.Errorf("seed %s: %w", id, err)
		}
	}
	return nil
}

// freeOnSignal returns freed memory to the OS on SIGUSR1, so run.sh can read
// a resident size that reflects live data rather than garbage not yet scavenged.
func freeOnSignal(ctx context.Context, memprofile string) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c:
			debug.FreeOSMemory()
			if memprofile != "" {
				if f, err := os.Create(memprofile); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}
}
