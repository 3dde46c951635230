package signaling

import (
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
