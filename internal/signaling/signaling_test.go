package signaling

import (
	"errors"
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
)

func TestNewRequestToUsesSourceAndTransport(t *testing.T) {
	for _, tt := range []struct {
		name, contact, source, transport string
		wantURI, wantDest, wantTransport string
		wantErr                          bool
	}{
		{"udp behind nat", "<sip:HD00001@10.0.0.5:5062>", "127.0.0.1:40000", "udp", "sip:HD00001@10.0.0.5:5062", "127.0.0.1:40000", "UDP", false},
		{"tcp", "sip:HD00002@127.0.0.1:5070;transport=tcp", "127.0.0.1:5070", "tcp", "sip:HD00002@127.0.0.1:5070;transport=tcp", "127.0.0.1:5070", "TCP", false},
		{"empty", "<>", "", "", "", "", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := mustListen(t).NewRequestTo(sip.NOTIFY, hotdesk.Binding{Contact: tt.contact, Source: tt.source, Transport: tt.transport})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got request %v", req)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Recipient.String(); got != tt.wantURI {
				t.Errorf("uri %q, want %q", got, tt.wantURI)
			}
			if got := req.Destination(); got != tt.wantDest {
				t.Errorf("destination %q, want %q", got, tt.wantDest)
			}
			if got := req.Transport(); got != tt.wantTransport {
				t.Errorf("transport %q, want %q", got, tt.wantTransport)
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{hotdesk.Errorf(hotdesk.ENOTFOUND, "no such user"), 404},
		{fmt.Errorf("find: %w", hotdesk.Errorf(hotdesk.EINVALID, "bad")), 400},
		{hotdesk.Errorf(hotdesk.EFORBIDDEN, "no"), 403},
		{hotdesk.Errorf(hotdesk.ELOCKED, "locked"), 403},
		// A database failure is one answer everywhere: 503.
		{hotdesk.Errorf(hotdesk.EUNAVAILABLE, "db down"), 503},
		{errors.New("sql: connection reset"), 503},
	} {
		if got := ErrorStatus(tt.err); got != tt.want {
			t.Errorf("ErrorStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestNewResponse(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "201", Host: "pbx.test"})
	req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1"))
	res := NewResponse(req, 503)
	if res.Reason != "Service Unavailable" || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != RetryAfter {
		t.Fatalf("503: %q %v", res.Reason, res.GetHeader("Retry-After"))
	}
	res = NewResponse(req, 503, sip.NewHeader("Retry-After", "60"))
	if h := res.GetHeaders("Retry-After"); len(h) != 1 || h[0].Value() != "60" {
		t.Fatalf("own Retry-After: %v", h)
	}
	if res := NewResponse(req, 404); res.Reason != "Not Found" || res.GetHeader("Retry-After") != nil {
		t.Fatalf("404: %q", res.Reason)
	}
}
