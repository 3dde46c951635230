package app

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/console"
)

// trunkState is the trunk registration for the dashboard and the API
// summary: the settings say whether there is a trunk and whether the PBX
// registers with it; the B2BUA says how the last registration went.
func (a *App) trunkState() admin.TrunkState {
	tr := a.settings.Get(context.Background()).Trunk
	st := a.b2bua.TrunkStatus()
	return admin.TrunkState{Configured: tr.Enabled, Register: tr.Register, Registered: st.Registered,
		Error: st.Error, Updated: st.Updated}
}

// consoleCalls shows the B2BUA's calls to the console.
func (a *App) consoleCalls() []console.LiveCall {
	calls := a.b2bua.Live()
	out := make([]console.LiveCall, len(calls))
	for i, c := range calls {
		out[i] = console.LiveCall(c)
	}
	return out
}
