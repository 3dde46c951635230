package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseServeFlags(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, got string)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, got string) {
			if got != "./data :5060 :8080 hotdesk.local en false" {
				t.Errorf("defaults: %s", got)
			}
		}},
		{name: "flags", args: []string{"--data", "/tmp/x", "--sip", "127.0.0.1:5070", "--lang", "nl", "--demo"}, check: func(t *testing.T, got string) {
			if got != "/tmp/x 127.0.0.1:5070 :8080 hotdesk.local nl true" {
				t.Errorf("flags: %s", got)
			}
		}},
		{name: "environment twins", env: map[string]string{"HOTDESK_HTTP": "127.0.0.1:9000", "HOTDESK_DOMAIN": "pbx.example", "HOTDESK_DEMO": "true"}, check: func(t *testing.T, got string) {
			if got != "./data :5060 127.0.0.1:9000 pbx.example en true" {
				t.Errorf("env: %s", got)
			}
		}},
		{name: "flag beats environment", env: map[string]string{"HOTDESK_LANG": "nl"}, args: []string{"--lang", "en"}, check: func(t *testing.T, got string) {
			if !strings.HasSuffix(got, " en false") {
				t.Errorf("flag vs env: %s", got)
			}
		}},
		{name: "bad env value", env: map[string]string{"HOTDESK_DEMO": "maybe"}, wantErr: "HOTDESK_DEMO"},
		{name: "bad lang", args: []string{"--lang", "de"}, wantErr: "--lang"},
		{name: "bad rtp", args: []string{"--rtp-ports", "9-5"}, wantErr: "--rtp-ports"},
		{name: "bad db", args: []string{"--db", "mysql://x"}, wantErr: "--db"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := parseServeFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, strings.Join([]string{cfg.DataDir, cfg.SIPAddr, cfg.HTTPAddr, cfg.Domain, cfg.Lang, map[bool]string{true: "true", false: "false"}[cfg.Demo]}, " "))
		})
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), nil, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "hotdesk serve") {
		t.Fatalf("no command: err %v, usage %q", err, errOut.String())
	}
	errOut.Reset()
	if err := run(t.Context(), []string{"frobnicate"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(t.Context(), []string{"version"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "hotdesk") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}
