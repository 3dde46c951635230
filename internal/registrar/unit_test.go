package registrar

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func mustParseRequest(tb testing.TB, headers ...string) *sip.Request {
	tb.Helper()
	raw := "REGISTER sip:pbx.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
		"From: <sip:HD1@pbx.test>;tag=1\r\nTo: <sip:HD1@pbx.test>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n" +
		strings.Join(headers, "") + "Content-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return msg.(*sip.Request)
}

func TestParseContacts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		headers  []string
		want     []contactReq
		wildcard bool
		wantErr  bool
	}{
		{"default expiry", []string{"Contact: <sip:HD1@10.0.0.1:5060>\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1:5060", 3600}}, false, false},
		{"expires header", []string{"Contact: <sip:HD1@10.0.0.1>\r\n", "Expires: 120\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1", 120}}, false, false},
		{"param beats header", []string{"Contact: <sip:HD1@10.0.0.1>;expires=300\r\n", "Expires: 120\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1", 300}}, false, false},
		{"two headers", []string{"Contact: <sip:a@10.0.0.1>\r\n", "Contact: <sip:b@10.0.0.2;transport=tcp>;expires=0\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 3600}, {"sip:b@10.0.0.2;transport=tcp", 0}}, false, false},
		{"comma separated", []string{"Contact: <sip:a@10.0.0.1>;expires=60, <sip:b@10.0.0.2>;expires=90\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 60}, {"sip:b@10.0.0.2", 90}}, false, false},
		{"no contact is a query", nil, nil, false, false},
		{"wildcard", []string{"Contact: *\r\n", "Expires: 0\r\n"}, nil, true, false},
		{"wildcard without expires 0", []string{"Contact: *\r\n", "Expires: 60\r\n"}, nil, false, true},
		{"wildcard with other contact", []string{"Contact: *\r\n", "Contact: <sip:a@10.0.0.1>\r\n", "Expires: 0\r\n"}, nil, false, true},
		{"bad expires header", []string{"Contact: <sip:a@10.0.0.1>\r\n", "Expires: soon\r\n"}, nil, false, true},
		{"negative expires param", []string{"Contact: <sip:a@10.0.0.1>;expires=-1\r\n"}, nil, false, true},
		{"huge expires clamped", []string{"Contact: <sip:a@10.0.0.1>;expires=99999999999\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 1<<32 - 1}}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, wildcard, err := parseContacts(mustParseRequest(t, tt.headers...), 3600)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if wildcard != tt.wildcard {
				t.Errorf("wildcard = %v", wildcard)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("contact %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
