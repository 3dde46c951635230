package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// deskOccupants maps each occupied hot desk to who is there ("201 Ann
// Jansen"), for the "Log in at desk" picker: an admin sees whom a login
// would push off a desk before choosing it.
func (c *Console) deskOccupants(ctx context.Context) (map[string]string, error) {
	ls, err := c.store.ListLogins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	us, _, err := c.store.FindUsers(ctx, hotdesk.UserFilter{})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	names := make(map[string]string, len(us))
	for _, u := range us {
		names[u.Extension] = u.Name
	}
	at := make(map[string]string, len(ls))
	for _, l := range ls {
		at[l.Device] = strings.TrimSpace(l.Extension + " " + names[l.Extension])
	}
	return at, nil
}

// loginMessage says what a console login did, naming whoever it logged
// out: "Logged 203 in at HD00002; 201 was logged out of it."
func loginMessage(ext, dev string, res *desk.LoginResult) string {
	msg := "Logged " + ext + " in at " + dev
	if res == nil {
		return msg + "."
	}
	for _, e := range res.Ended {
		switch e.Reason {
		case hotdesk.ReasonReplaced:
			msg += "; " + e.Login.Extension + " was logged out of it"
		case hotdesk.ReasonRoamed:
			msg += "; " + ext + " was logged out of " + e.Login.Device
		}
	}
	return msg + "."
}
