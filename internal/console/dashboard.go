package console

import (
	"net/http"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

type dashboardData struct {
	*admin.Summary
	LiveCalls int
	Trunk     admin.TrunkState
	Now       time.Time
}

// dashboardPage is the console's overview (issue 17 item 10): how many
// phones are registered, desks occupied, today's logins and failures, the
// locks in force, the calls now, the trunk, and the latest audit events.
func (c *Console) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	d, err := c.dashboard(r)
	return c.show(w, r, http.StatusOK, "dashboard", d, err)
}

func (c *Console) dashboard(r *http.Request) (*dashboardData, error) {
	sum, err := c.admin.Summary(r.Context(), func(dev string) bool { return len(c.regs.Contacts(dev)) > 0 })
	if err != nil {
		return nil, err
	}
	d := &dashboardData{Summary: sum, Now: c.now()}
	if c.liveCalls != nil {
		d.LiveCalls = len(c.liveCalls())
	} else {
		d.LiveCalls = c.calls.count()
	}
	if c.trunk != nil {
		d.Trunk = c.trunk()
	}
	return d, nil
}

// LiveCall is one call in progress, as the B2BUA reports it.
type LiveCall struct {
	CallID    string
	From      string
	To        string
	Extension string // the PBX user involved, if any
	Device    string
	State     string // trying, early, confirmed
	Since     time.Time
}

// count is how many calls ring or are up on some phone (without a B2BUA
// to ask, from the bus's call events).
func (t *calls) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := map[string]bool{}
	now := t.now()
	for _, m := range t.byDevice {
		for id, e := range m {
			if e.state != "" && now.Sub(e.at) <= callMaxAge {
				ids[id] = true
			}
		}
	}
	return len(ids)
}
