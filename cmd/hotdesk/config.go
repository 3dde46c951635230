package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hotdesk-pbx/hotdesk/internal/app"
)

// serveFlags defines the flags of `hotdesk serve` on cfg.
func serveFlags(cfg *app.Config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hotdesk serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (database, admin token, prompt overrides)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database URL: sqlite:PATH or postgres://… (default sqlite:DATA/hotdesk.db)")
	fs.StringVar(&cfg.SIPAddr, "sip", cfg.SIPAddr, "SIP listen address for UDP and TCP (HOST:PORT)")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "HTTP listen address for the API, console and provisioning")
	fs.StringVar(&cfg.HTTPSAddr, "https", cfg.HTTPSAddr, "optional HTTPS listen address (needs --tls-cert and --tls-key)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "TLS certificate file for --https")
	fs.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "TLS key file for --https")
	fs.StringVar(&cfg.Domain, "domain", cfg.Domain, "SIP domain and digest realm")
	fs.StringVar(&cfg.PublicIP, "public-ip", cfg.PublicIP, "address phones reach this PBX at, used in SDP and provisioning (default: the SIP listen IP or the first non-loopback interface)")
	fs.StringVar(&cfg.RTPPorts, "rtp-ports", cfg.RTPPorts, "UDP port range for RTP (LOW-HIGH)")
	fs.StringVar(&cfg.AdminToken, "admin-token", cfg.AdminToken, "API bearer token (generated and stored in the data dir when empty)")
	fs.StringVar(&cfg.Lang, "lang", cfg.Lang, "voice prompt language on first start: en or nl (later changed in the console)")
	fs.StringVar(&cfg.Node, "node", cfg.Node, "name of this node when several share one PostgreSQL database")
	fs.StringVar(&cfg.Digest, "digest", cfg.Digest, "SIP digest algorithms challenged, in order of preference: MD5 (default) or SHA-256,MD5 to offer SHA-256 first (baresip 1.0 and sipp 3.6 cannot register then)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.IntVar(&cfg.SIPMaxConns, "sip-max-conns", cfg.SIPMaxConns, "most SIP TCP connections open at once (0: 10000 or half the open-file limit)")
	fs.IntVar(&cfg.SIPMaxConnsPerSource, "sip-max-conns-per-source", cfg.SIPMaxConnsPerSource, "most SIP TCP connections open at once from one address (0: 200)")
	fs.BoolVar(&cfg.Demo, "demo", cfg.Demo, "create a demo office (users 201-205, hot desk phones HD00001-HD00003) on first start")
	return fs
}

// envName is the environment twin of a flag: HOTDESK_<FLAG>, dashes as
// underscores.
func envName(flagName string) string {
	return "HOTDESK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseServeFlags fills an app.Config from the defaults, then HOTDESK_*
// environment variables, then command-line flags (flags win).
func parseServeFlags(args []string, stderr io.Writer) (app.Config, error) {
	cfg := app.DefaultConfig()
	fs := serveFlags(&cfg, stderr)
	// Environment twins: HOTDESK_<FLAG> with dashes as underscores.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}
