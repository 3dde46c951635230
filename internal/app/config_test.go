package app

import (
	"strings"
	"testing"
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
