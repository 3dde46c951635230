package web

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// TestSummary: the dashboard's figures as JSON, with the trunk and live
// calls of the API's sources.
func TestSummary(t *testing.T) {
	t.Parallel()
	e := MustEnv(t, func(o *Options) {
		o.Calls = fakeCalls{{CallID: "c1", State: "confirmed"}, {CallID: "c2", State: "early"}}
		o.Trunk = func() admin.TrunkState { return admin.TrunkState{Configured: true, Register: true, Registered: true} }
	})
	e.MustUser("201")
	e.MustUser("202")
	e.MustDesk()
	e.MustDesk()
	e.regs.Set("HD00002", hotdesk.Binding{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:5070"})
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"HD00001"}`).want(t, 201, nil)
	var s struct {
		Phones, Registered, Desks, Occupied, Logins, Live int
		Trunk                                             *admin.TrunkState
		Recent                                            []hotdesk.AuditEvent
		LockedUsers                                       []string
	}
	var raw map[string]any
	r := e.do("GET", "/api/v1/summary", "").want(t, 200, &raw)
	r.want(t, 200, &struct {
		Phones     *int                  `json:"phones"`
		Registered *int                  `json:"phones_registered"`
		Desks      *int                  `json:"desks"`
		Occupied   *int                  `json:"desks_occupied"`
		Logins     *int                  `json:"logins_today"`
		Live       *int                  `json:"live_calls"`
		Trunk      **admin.TrunkState    `json:"trunk"`
		Recent     *[]hotdesk.AuditEvent `json:"recent_audit"`
		Locked     *[]string             `json:"locked_users"`
	}{&s.Phones, &s.Registered, &s.Desks, &s.Occupied, &s.Logins, &s.Live, &s.Trunk, &s.Recent, &s.LockedUsers})
	if s.Phones != 2 || s.Registered != 1 || s.Desks != 2 || s.Occupied != 1 || s.Logins != 1 || s.Live != 2 {
		t.Fatalf("summary %s", r.Body)
	}
	if s.Trunk == nil || !s.Trunk.Registered || len(s.Recent) == 0 || s.Recent[0].Kind != hotdesk.KindLogin || s.LockedUsers == nil {
		t.Fatalf("summary %s", r.Body)
	}
}
