// Command hotdesk runs Hotdesk PBX: `hotdesk serve` starts the PBX and
// `hotdesk admin passwd` resets a console password.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hotdesk-pbx/hotdesk/internal/app"
	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
)

const usage = `Hotdesk PBX — an IP PBX built around hot desking.

Usage:
  hotdesk serve [flags]            run the PBX (hotdesk serve -h lists the flags)
  hotdesk admin passwd [USER]      set a new generated console password (default user: admin;
                                   --create adds a new admin; --data/--db as for serve)
  hotdesk version                  print the version, commit and build date (also --version)

Every flag has an environment twin: --data is HOTDESK_DATA, --rtp-ports is HOTDESK_RTP_PORTS.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hotdesk:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeFlags(args[1:], stderr)
		if err != nil {
			return err
		}
		cfg.Stdout = stdout
		a, err := app.New(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.Run(ctx)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version", "-v":
		fmt.Fprintln(stdout, buildinfo.Get())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

const adminUsage = "usage: hotdesk admin passwd [--data DIR] [--db URL] [--create] [USER]"

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "passwd" {
		return errors.New(adminUsage)
	}
	fs := flag.NewFlagSet("hotdesk admin passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, adminUsage); fs.PrintDefaults() }
	cfg := app.DefaultConfig()
	if v, ok := os.LookupEnv("HOTDESK_DATA"); ok {
		cfg.DataDir = v
	}
	if v, ok := os.LookupEnv("HOTDESK_DB"); ok {
		cfg.DB = v
	}
	var create bool
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the server (HOTDESK_DATA)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database URL of the server (HOTDESK_DB)")
	fs.BoolVar(&create, "create", false, "create USER when there is no such admin yet")
	// Flags may come before or after USER: the flag package stops at the
	// first argument that is not a flag, so parse what follows it again.
	var users []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		users = append(users, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	user := "admin"
	switch len(users) {
	case 0:
	case 1:
		user = users[0]
	default:
		return fmt.Errorf("one USER at a time, got %q (%s)", users, adminUsage)
	}
	pw, err := app.ResetAdminPassword(ctx, cfg, user, create)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New console password for %s: %s\n", user, pw)
	return nil
}
