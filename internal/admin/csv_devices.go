package admin

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// checkDevices turns each row into a create or an update of a device.
func (s *Service) checkDevices(ctx context.Context, rows []csvRow, header []string, rep *ImportReport, b *hotdesk.Bulk) error {
	if !checkHeader(header, DeviceColumns, "id", rep) {
		return nil
	}
	devs, _, err := s.store.FindDevices(ctx, hotdesk.DeviceFilter{})
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	existing := make(map[string]*hotdesk.Device, len(devs))
	macs := map[string]string{}
	for _, d := range devs {
		existing[strings.ToUpper(d.ID)] = d
		if d.MAC != "" {
			macs[d.MAC] = d.ID
		}
	}
	users, err := UsersByExt(ctx, s.store)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, row := range rows {
		in := DeviceInput{ID: row.cell("id"), Label: row.cell("label"), MAC: row.cell("mac"), Model: row.cell("model"),
			Mode: row.cell("mode"), Owner: row.cell("owner"), EmergencyCallback: row.cell("emergency_callback")}
		for _, p := range []**string{&in.Model, &in.Mode} {
			if *p != nil && **p == "" {
				*p = nil // the default on create, unchanged on update
			}
		}
		if v := row.cell("location"); v != nil {
			in.Location = &hotdesk.Location{Text: *v}
		}
		id := strings.TrimSpace(*in.ID)
		old := existing[strings.ToUpper(id)]
		if id == "" {
			in.ID = nil
		}
		upd, err := in.check(old == nil)
		if err != nil {
			rep.fail(row.line, err)
			continue
		}
		key := strings.ToUpper(id)
		if first, dup := seen[key]; dup && id != "" {
			rep.Errors = append(rep.Errors, LineError{Line: row.line, Field: "id", Message: fmt.Sprintf("Device %s is on line %d already.", id, first)})
			continue
		}
		seen[key] = row.line
		d := &hotdesk.Device{ID: id, Model: hotdesk.ModelGeneric, Mode: hotdesk.ModeHotdesk}
		if old != nil {
			c := *old
			d = &c
		}
		if old != nil && upd.Location != nil { // the CSV holds the text only: keep the civic address
			l := old.Location
			l.Text = upd.Location.Text
			upd.Location = &l
		}
		d.Apply(upd)
		if msg := deviceRule(d, users); msg != "" {
			rep.Errors = append(rep.Errors, LineError{Line: row.line, Field: "owner", Message: msg})
			continue
		}
		if d.MAC != "" {
			who := d.ID
			if who == "" {
				who = fmt.Sprintf("the new desk on line %d", row.line)
			}
			if other, ok := macs[d.MAC]; ok && !strings.EqualFold(other, who) {
				rep.Errors = append(rep.Errors, LineError{Line: row.line, Field: "mac", Message: fmt.Sprintf("MAC %s belongs to %s.", d.MAC, other)})
				continue
			}
			macs[d.MAC] = who
		}
		if old == nil {
			if err := newSecrets(d); err != nil {
				return err
			}
			b.CreateDevices = append(b.CreateDevices, d)
			rep.add(ImportLine{Line: row.line, Key: id, Action: ActionCreate})
			continue
		}
		changed := deviceChanges(old, d)
		if len(changed) == 0 {
			rep.add(ImportLine{Line: row.line, Key: old.ID, Action: ActionUnchanged})
			continue
		}
		b.UpdateDevices = append(b.UpdateDevices, hotdesk.BulkDeviceUpdate{ID: old.ID, Update: upd})
		rep.add(ImportLine{Line: row.line, Key: old.ID, Action: ActionUpdate, Fields: changed})
	}
	return nil
}

// deviceRule is the mode/owner rule of checkMode against the users known
// before the import: a personal phone needs an existing owner, a hot desk
// phone has none.
func deviceRule(d *hotdesk.Device, users map[string]*hotdesk.User) string {
	switch {
	case d.Mode == hotdesk.ModePersonal && d.Owner == "":
		return "A personal phone needs an owner."
	case d.Mode == hotdesk.ModePersonal && users[d.Owner] == nil:
		return fmt.Sprintf("Owner %s is not a user (import the users first).", d.Owner)
	case d.Mode == hotdesk.ModeHotdesk && d.Owner != "":
		return "A hot desk phone has no owner: leave owner empty or make the mode personal."
	case d.Mode == hotdesk.ModePersonal && d.ID == "":
		return "A personal phone needs an id."
	}
	return ""
}

// newSecrets gives a new device its SIP password and provisioning token.
func newSecrets(d *hotdesk.Device) error {
	d.SIPPassword = rand.Text()
	tok, err := randomToken(32)
	if err != nil {
		return err
	}
	d.ProvisionToken = tok
	return nil
}

// deviceChanges names the fields that differ between old and d.
func deviceChanges(old, d *hotdesk.Device) []string {
	var out []string
	for _, f := range []struct {
		name string
		a, b string
	}{{"label", old.Label, d.Label}, {"mac", old.MAC, d.MAC}, {"model", old.Model, d.Model}, {"mode", old.Mode, d.Mode},
		{"owner", old.Owner, d.Owner}, {"location", old.Location.Text, d.Location.Text},
		{"emergency_callback", old.EmergencyCallback, d.EmergencyCallback}} {
		if f.a != f.b {
			out = append(out, f.name)
		}
	}
	return out
}

// ExportDevices writes every device as CSV in DeviceColumns (no SIP
// passwords). Importing the file changes nothing.
func (s *Service) ExportDevices(ctx context.Context, w io.Writer) error {
	devs, _, err := s.store.FindDevices(ctx, hotdesk.DeviceFilter{})
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	return writeCSV(w, DeviceColumns, devs, func(d *hotdesk.Device) []string {
		return []string{d.ID, d.Label, d.MAC, d.Model, d.Mode, d.Owner, d.Location.Text, d.EmergencyCallback}
	})
}
