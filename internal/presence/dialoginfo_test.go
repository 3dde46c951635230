package presence

import (
	"encoding/xml"
	"strings"
	"testing"
)

type xmlDialogInfo struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version int      `xml:"version,attr"`
	State   string   `xml:"state,attr"`
	Entity  string   `xml:"entity,attr"`
	Dialogs []struct {
		ID        string `xml:"id,attr"`
		CallID    string `xml:"call-id,attr"`
		Direction string `xml:"direction,attr"`
		State     string `xml:"state"`
		Remote    string `xml:"remote>identity"`
	} `xml:"dialog"`
}

func mustParseDialogInfo(tb testing.TB, b []byte) xmlDialogInfo {
	tb.Helper()
	var d xmlDialogInfo
	if err := xml.Unmarshal(b, &d); err != nil {
		tb.Fatalf("dialog-info not well-formed: %v\n%s", err, b)
	}
	return d
}

func TestDialogInfo(t *testing.T) {
	tests := []struct {
		name    string
		version int
		calls   []callState
		states  []string
		remote  string
	}{
		{"idle", 0, nil, []string{"terminated"}, ""},
		{"ringing", 1, []callState{{ID: "c1", State: StateEarly, Direction: "recipient", Peer: "201"}}, []string{"early"}, "sip:201@pbx.test"},
		{"two calls", 7, []callState{
			{ID: "c2", State: StateConfirmed, Direction: "initiator", Peer: "sip:0612345678@trunk", seq: 2},
			{ID: "c1", State: StateTrying, seq: 1},
		}, []string{"trying", "confirmed"}, ""},
		{"escaping", 2, []callState{{ID: `a<&"b`, State: StateConfirmed, Peer: `x<y>&"`}}, []string{"confirmed"}, `sip:x<y>&"@pbx.test`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParseDialogInfo(t, dialogInfo("sip:202@pbx.test", tt.version, tt.calls, "pbx.test"))
			if d.Version != tt.version || d.State != "full" || d.Entity != "sip:202@pbx.test" {
				t.Fatalf("root %+v", d)
			}
			var states []string
			for _, dl := range d.Dialogs {
				states = append(states, dl.State)
			}
			if strings.Join(states, ",") != strings.Join(tt.states, ",") {
				t.Fatalf("states %v, want %v", states, tt.states)
			}
			if tt.remote != "" && d.Dialogs[0].Remote != tt.remote {
				t.Fatalf("remote %q, want %q", d.Dialogs[0].Remote, tt.remote)
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	for kind, want := range map[string]string{kindTrying: "trying", kindEarly: "early", kindConfirmed: "confirmed",
		kindTerminated: "terminated", "login": ""} {
		if got := stateOf(kind); got != want {
			t.Errorf("stateOf(%q) = %q, want %q", kind, got, want)
		}
	}
}
