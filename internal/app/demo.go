package app

import (
	"context"
	"fmt"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/console"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
)

// firstStart creates the first console admin (printing the generated
// password once), the API admin token, applies --lang to a fresh install
// and seeds the demo office when asked. Nodes that start together on one
// PostgreSQL database run it one after the other under an advisory lock,
// and every step is insert-if-absent, so the later nodes find the first
// one's work and carry on.
func (a *App) firstStart(ctx context.Context) error {
	if pg, ok := a.store.(*postgres.DB); ok {
		return pg.Exclusive(ctx, "first boot", a.firstStartLocked)
	}
	return a.firstStartLocked(ctx)
}

func (a *App) firstStartLocked(ctx context.Context) (err error) {
	if a.adminToken, err = a.loadAdminToken(ctx); err != nil {
		return err
	}
	user, pw, created, err := console.EnsureAdmin(ctx, a.store)
	if hotdesk.ErrorCode(err) == hotdesk.ECONFLICT {
		// Another process created it between our look and our insert
		// (only possible without the lock, e.g. an older node).
		user, created, err = "admin", false, nil
	}
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if !created {
		fmt.Fprintf(a.cfg.Stdout, "Console admin %q already set up (by another node or an earlier start; its password was shown once there). New password: hotdesk admin passwd --data %s %s\n", user, a.cfg.DataDir, user)
	} else {
		fmt.Fprintf(a.cfg.Stdout, "Created console admin %q with password %s (shown only now; reset with `hotdesk admin passwd`)\n", user, pw)
		st, err := a.store.GetSettings(ctx)
		if err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		st.Lang = a.cfg.Lang
		if err := a.store.PutSettings(ctx, st); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
	}
	if a.cfg.Demo {
		return a.seedDemo(ctx)
	}
	return nil
}

// Demo office: users 201–205 with hot desking (PIN 1234, except 205 who
// only has a personal softphone), three hot desk phones and a trunk.
var demoUsers = []struct{ ext, name, did string }{
	{"201", "Anna de Vries", "+31201234201"},
	{"202", "Bram Jansen", "+31201234202"},
	{"203", "Chloé Bakker", "+31201234203"},
	{"204", "Daan Visser", "+31201234204"},
	{"205", "Eva Smit", "+31201234205"},
}

// DemoPIN is the PIN of every demo user.
const DemoPIN = "1234"

var demoDevices = []struct {
	id, label, mac, model, mode, owner, floor, room string
}{
	{"HD00001", "Desk 1.01", "000413a00001", hotdesk.ModelSnom, hotdesk.ModeHotdesk, "", "1", "1.01"},
	{"HD00002", "Desk 1.02", "805ec0a00002", hotdesk.ModelYealink, hotdesk.ModeHotdesk, "", "1", "1.02"},
	{"HD00003", "Desk 2.01", "000b82a00003", hotdesk.ModelGrandstream, hotdesk.ModeHotdesk, "", "2", "2.01"},
	{"soft205", "Eva's softphone", "", hotdesk.ModelGeneric, hotdesk.ModePersonal, "205", "", ""},
}

// DemoPassword is the SIP password of demo device id (demo only!).
func DemoPassword(id string) string { return "demo-" + id + "-secret" }

func (a *App) seedDemo(ctx context.Context) error {
	if _, err := a.store.FindUser(ctx, "201"); err == nil {
		fmt.Fprintln(a.cfg.Stdout, "Demo office already present; not seeding again.")
		return nil
	}
	hash, err := desk.HashPIN(DemoPIN)
	if err != nil {
		return err
	}
	for i, u := range demoUsers {
		blf := []string{}
		for _, o := range demoUsers {
			if o.ext != u.ext && len(blf) < 3 {
				blf = append(blf, o.ext)
			}
		}
		err := a.store.CreateUser(ctx, &hotdesk.User{
			Extension: u.ext, Name: u.name, Email: fmt.Sprintf("user%s@example.com", u.ext),
			Hotdesk: i < 4, PINHash: hash, CallerID: u.did, DIDs: []string{u.did},
			Outbound: hotdesk.OutboundNational, BLF: blf,
		})
		if err != nil && hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
			return fmt.Errorf("demo user %s: %w", u.ext, err)
		}
	}
	for _, d := range demoDevices {
		err := a.store.CreateDevice(ctx, &hotdesk.Device{
			ID: d.id, Label: d.label, MAC: d.mac, Model: d.model, Mode: d.mode, Owner: d.owner,
			SIPPassword: DemoPassword(d.id), EmergencyCallback: "+31201234000",
			Location: hotdesk.Location{
				Text: "Keizersgracht 1, Amsterdam, floor " + d.floor, Country: "NL", A1: "Noord-Holland",
				A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "1", Postcode: "1015CC",
				Floor: d.floor, Room: d.room,
			},
		})
		if err != nil && hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
			return fmt.Errorf("demo device %s: %w", d.id, err)
		}
	}
	st, err := a.store.GetSettings(ctx)
	if err != nil {
		return err
	}
	st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: "127.0.0.2:5080", Domain: "trunk.example.net", Sources: []string{"127.0.0.2/32"}}
	st.Timezone = "Europe/Amsterdam"
	if err := a.store.PutSettings(ctx, st); err != nil {
		return err
	}
	w := a.cfg.Stdout
	fmt.Fprintln(w, "Demo office created:")
	fmt.Fprintln(w, "  users 201-204 (hot desking, PIN 1234), 205 (personal softphone soft205)")
	for _, d := range demoDevices {
		fmt.Fprintf(w, "  device %-8s %-16s SIP password %s\n", d.id, d.label, DemoPassword(d.id))
	}
	fmt.Fprintln(w, "Next: register a phone as HD00001, then dial *35*201*1234 to log in as 201,")
	fmt.Fprintln(w, "      or *77*201* and key in 1234# at the prompt; dial *35 again to log out.")
	return nil
}
