package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
)

// Version is the release version (see internal/buildinfo for how it is
// stamped).
var Version = buildinfo.Get().Version

// Config is everything `hotdesk serve` can be told. Validate once; never
// mutate afterwards.
type Config struct {
	DataDir    string
	DB         string // sqlite:PATH, a bare path, or postgres://…
	SIPAddr    string
	HTTPAddr   string
	HTTPSAddr  string
	TLSCert    string
	TLSKey     string
	Domain     string
	PublicIP   string
	RTPPorts   string
	AdminToken string
	Lang       string
	Node       string
	LogLevel   string
	Demo       bool
	// Digest lists the digest algorithms challenged, in order of
	// preference: "MD5" (default), "SHA-256,MD5" (SHA-256 opt-in; baresip
	// 1.0 and sipp 3.6 then cannot register), "MD5,SHA-256" or "SHA-256".
	Digest string
	// SIPMaxConns and SIPMaxConnsPerSource cap SIP TCP connections in total
	// and per source address; 0 = defaults (10,000 or half the open-file
	// limit, whichever is lower; 200 per address).
	SIPMaxConns, SIPMaxConnsPerSource int

	Stdout io.Writer    // where the start-up banner goes; nil = discard
	Logger *slog.Logger // nil = text logs on stderr at LogLevel
	Now    hotdesk.Clock
}

// DefaultConfig is what `hotdesk serve` uses with no flags.
func DefaultConfig() Config {
	return Config{
		DataDir:  "./data",
		SIPAddr:  ":5060",
		HTTPAddr: ":8080",
		Domain:   "hotdesk.local",
		RTPPorts: "10000-20000",
		Lang:     "en",
		Node:     "node1",
		LogLevel: "info",
		Digest:   "MD5",
	}
}

// Validate checks the configuration and names the bad setting.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data: must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.SIPAddr); err != nil {
		return fmt.Errorf("--sip %q: want HOST:PORT: %w", c.SIPAddr, err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("--http %q: want HOST:PORT: %w", c.HTTPAddr, err)
	}
	if c.HTTPSAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPSAddr); err != nil {
			return fmt.Errorf("--https %q: want HOST:PORT: %w", c.HTTPSAddr, err)
		}
		if c.TLSCert == "" || c.TLSKey == "" {
			return fmt.Errorf("--https needs --tls-cert and --tls-key")
		}
	}
	if _, _, err := ParsePortRange(c.RTPPorts); err != nil {
		return fmt.Errorf("--rtp-ports: %w", err)
	}
	if c.Domain == "" || strings.ContainsAny(c.Domain, " \t\"@:;") {
		return fmt.Errorf("--domain %q: want a host name", c.Domain)
	}
	if c.Lang != "en" && c.Lang != "nl" {
		return fmt.Errorf("--lang %q: want en or nl", c.Lang)
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return fmt.Errorf("--public-ip %q: not an IP address", c.PublicIP)
	}
	if _, err := c.digestAlgorithms(); err != nil {
		return err
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("--db %q: want sqlite:PATH or postgres://…", c.DB)
	}
	return nil
}

// ParsePortRange parses "LOW-HIGH" (1024 ≤ LOW < HIGH ≤ 65535, at least two ports).
func ParsePortRange(s string) (low, high int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want LOW-HIGH", s)
	}
	if low, err = strconv.Atoi(strings.TrimSpace(a)); err != nil {
		return 0, 0, fmt.Errorf("%q: bad low port", s)
	}
	if high, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
		return 0, 0, fmt.Errorf("%q: bad high port", s)
	}
	if low < 1024 || high > 65535 || high <= low {
		return 0, 0, fmt.Errorf("%q: want 1024 <= LOW < HIGH <= 65535", s)
	}
	return low, high, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// dbURL resolves the database setting against the data directory.
func (c Config) dbURL() string {
	if c.DB == "" {
		return "sqlite:" + filepath.Join(c.DataDir, "hotdesk.db")
	}
	return c.DB
}

// publicIP is the address phones use to reach the PBX.
func (c Config) publicIP() string {
	if c.PublicIP != "" {
		return c.PublicIP
	}
	host, _, _ := net.SplitHostPort(c.SIPAddr)
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// digestAlgorithms parses --digest.
func (c Config) digestAlgorithms() ([]string, error) {
	var algs []string
	for _, a := range strings.Split(c.Digest, ",") {
		a = strings.ToUpper(strings.TrimSpace(a))
		if a != "SHA-256" && a != "MD5" {
			return nil, fmt.Errorf("--digest %q: want SHA-256 and/or MD5, comma-separated in order of preference", c.Digest)
		}
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs, nil
}
