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
  hotdesk backup FILE              write an online backup of the data dir and SQLite database
  hotdesk restore [--force] FILE   restore a backup into --data (the server must be stopped)
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
		stopPprof, err := servePprof(os.LookupEnv, stderr)
		if err != nil {
			return err
		}
		defer stopPprof()
		tuneGC(os.LookupEnv)
		if _, err := app.RaiseFileLimit(); err != nil {
			fmt.Fprintln(stderr, "warning: cannot raise the open-file limit:", err)
		}
		a, err := app.New(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.Run(ctx)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "backup", "restore":
		return runBackup(ctx, args[0], args[1:], stdout, stderr)
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
	cfg := dataFlags(fs)
	var create bool
	fs.BoolVar(&create, "create", false, "create USER when there is no such admin yet")
	users, err := parseAnywhere(fs, args[1:])
	if err != nil {
		return err
	}
	user := "admin"
	switch len(users) {
	case 0:
	case 1:
		user = users[0]
	default:
		return fmt.Errorf("one USER at a time, got %q (%s)", users, adminUsage)
	}
	pw, err := app.ResetAdminPassword(ctx, *cfg, user, create)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New console password for %s: %s\n", user, pw)
	return nil
}

// parseAnywhere parses flags that may come before, between or after the
// positional arguments (the flag package stops at the first non-flag, so
// what follows it is parsed again) and returns the positional ones.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// dataFlags adds --data and --db, starting from HOTDESK_DATA/HOTDESK_DB.
func dataFlags(fs *flag.FlagSet) *app.Config {
	cfg := app.DefaultConfig()
	if v, ok := os.LookupEnv("HOTDESK_DATA"); ok {
		cfg.DataDir = v
	}
	if v, ok := os.LookupEnv("HOTDESK_DB"); ok {
		cfg.DB = v
	}
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the server (HOTDESK_DATA)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database URL of the server (HOTDESK_DB)")
	return &cfg
}

func runBackup(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	usage := "usage: hotdesk backup [--data DIR] [--db URL] FILE"
	if cmd == "restore" {
		usage = "usage: hotdesk restore [--data DIR] [--db URL] [--force] FILE"
	}
	fs := flag.NewFlagSet("hotdesk "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	cfg := dataFlags(fs)
	var force bool
	if cmd == "restore" {
		fs.BoolVar(&force, "force", false, "replace the database already in the data dir")
	}
	files, err := parseAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New(usage)
	}
	if cmd == "backup" {
		if err := app.Backup(ctx, *cfg, files[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Backup of %s written to %s\n", cfg.DataDir, files[0])
		return nil
	}
	if err := app.Restore(ctx, *cfg, files[0], force); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s; start the server with --data %s\n", files[0], cfg.DataDir, cfg.DataDir)
	return nil
}
