package app

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"defaults", func(*Config) {}, true},
		{"bad sip", func(c *Config) { c.SIPAddr = "5060" }, false},
		{"bad http", func(c *Config) { c.HTTPAddr = "localhost" }, false},
		{"bad rtp order", func(c *Config) { c.RTPPorts = "20000-10000" }, false},
		{"bad rtp text", func(c *Config) { c.RTPPorts = "lots" }, false},
		{"low rtp", func(c *Config) { c.RTPPorts = "80-90" }, false},
		{"lang", func(c *Config) { c.Lang = "de" }, false},
		{"nl", func(c *Config) { c.Lang = "nl" }, true},
		{"domain", func(c *Config) { c.Domain = "a b" }, false},
		{"db scheme", func(c *Config) { c.DB = "mysql://x" }, false},
		{"digest md5", func(c *Config) { c.Digest = "md5" }, true},
		{"digest order", func(c *Config) { c.Digest = "MD5, SHA-256" }, true},
		{"digest unknown", func(c *Config) { c.Digest = "SHA-512" }, false},
		{"digest empty", func(c *Config) { c.Digest = "" }, false},
		{"db sqlite", func(c *Config) { c.DB = "sqlite:/tmp/x.db" }, true},
		{"https without cert", func(c *Config) { c.HTTPSAddr = ":8443" }, false},
		{"public ip", func(c *Config) { c.PublicIP = "nope" }, false},
		{"node address", func(c *Config) { c.NodeAddress = "10.0.0.2" }, false},
		{"node address port", func(c *Config) { c.NodeAddress = "10.0.0.2:5060" }, true},
		{"node timeout short", func(c *Config) { c.NodeTimeout = 10 * time.Millisecond }, false},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	lo, hi, err := ParsePortRange("10000-20000")
	if err != nil || lo != 10000 || hi != 20000 {
		t.Fatalf("got %d %d %v", lo, hi, err)
	}
}

// TestDefaultDigestIsMD5: the plain start command challenges MD5 alone
// (issue 10), SHA-256 is opt-in with --digest SHA-256,MD5.
func TestDefaultDigestIsMD5(t *testing.T) {
	for _, tt := range []struct {
		digest string
		want   string
	}{{DefaultConfig().Digest, "MD5"}, {"SHA-256,MD5", "SHA-256,MD5"}, {"md5, sha-256", "MD5,SHA-256"}} {
		algs, err := (Config{Digest: tt.digest}).digestAlgorithms()
		if err != nil || strings.Join(algs, ",") != tt.want {
			t.Errorf("--digest %q: %v, %v; want %s", tt.digest, algs, err, tt.want)
		}
	}
}

// TestNodeNameDefault: with several nodes possible (PostgreSQL) a node is
// named after its host, so two hosts started with the same flags do not
// both call themselves node1; SQLite keeps node1.
func TestNodeNameDefault(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name")
	}
	c := DefaultConfig()
	c.DB = "postgres://u@db/hotdesk"
	if got := c.nodeName(); got != host {
		t.Errorf("PostgreSQL default node %q, want the host name %q", got, host)
	}
	c.DB = ""
	if got := c.nodeName(); got != "node1" {
		t.Errorf("SQLite default node %q, want node1", got)
	}
	c.Node = "pbx7"
	if got := c.nodeName(); got != "pbx7" {
		t.Errorf("--node pbx7 gave %q", got)
	}
}
