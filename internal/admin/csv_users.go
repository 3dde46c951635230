package admin

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// checkUsers turns each row into a create or an update of a user.
func (s *Service) checkUsers(ctx context.Context, rows []csvRow, header []string, rep *ImportReport, b *hotdesk.Bulk, apply bool) error {
	if !checkHeader(header, UserColumns, "extension", rep) {
		return nil
	}
	existing, err := UsersByExt(ctx, s.store)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, row := range rows {
		in, rowErr := userRow(row)
		ext := *in.Extension
		if first, dup := seen[ext]; dup {
			rep.Errors = append(rep.Errors, LineError{Line: row.line, Field: "extension", Message: fmt.Sprintf("Extension %s is on line %d already.", ext, first)})
			continue
		}
		seen[ext] = row.line
		old := existing[ext]
		if in.PIN != nil && *in.PIN == "" {
			in.PIN = nil // an empty cell keeps the PIN
		}
		if err := collect(rowErr, in.check(old == nil)); err != nil {
			rep.fail(row.line, err)
			continue
		}
		pin := in.PIN
		in.PIN = nil // hashed below, all at once, and only to apply
		upd, err := in.update()
		if err != nil {
			return err
		}
		if pin != nil {
			upd.PINHash = pinPlaceholder(pin)
		}
		if old == nil {
			u := &hotdesk.User{Extension: ext, Outbound: hotdesk.OutboundNational}
			u.Apply(upd)
			b.CreateUsers = append(b.CreateUsers, u)
			rep.add(ImportLine{Line: row.line, Key: ext, Action: ActionCreate})
			continue
		}
		changed := userChanges(old, upd)
		if len(changed) == 0 {
			rep.add(ImportLine{Line: row.line, Key: ext, Action: ActionUnchanged})
			continue
		}
		b.UpdateUsers = append(b.UpdateUsers, hotdesk.BulkUserUpdate{Extension: ext, Update: upd})
		rep.add(ImportLine{Line: row.line, Key: ext, Action: ActionUpdate, Fields: changed})
	}
	if !apply || !rep.OK() {
		return nil
	}
	var hashes []*string
	for _, u := range b.CreateUsers {
		if u.PINHash != "" {
			hashes = append(hashes, &u.PINHash)
		}
	}
	for i := range b.UpdateUsers {
		if h := b.UpdateUsers[i].Update.PINHash; h != nil {
			hashes = append(hashes, h)
		}
	}
	return hashPINs(hashes)
}

// pinPlaceholder holds a PIN in the hash's place until hashPINs: the
// dry run never pays for hashing (PBKDF2, deliberately slow).
func pinPlaceholder(pin *string) *string {
	p := "pin:" + *pin
	return &p
}

// hashPINs replaces each placeholder by the PIN's hash, on every CPU.
func hashPINs(ps []*string) error {
	work := make(chan *string)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				h, err := desk.HashPIN(strings.TrimPrefix(*p, "pin:"))
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				*p = h
			}
		}()
	}
	for _, p := range ps {
		work <- p
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// userRow reads a row's cells into a UserInput.
func userRow(row csvRow) (UserInput, error) {
	in := UserInput{Extension: row.cell("extension"), Name: row.cell("name"), Email: row.cell("email"),
		PIN: row.cell("pin"), CallerID: row.cell("caller_id"), DIDs: list(row.cell("dids")),
		Outbound: row.cell("outbound"), BLF: list(row.cell("blf"))}
	var errs []error
	var err error
	in.Hotdesk, err = boolCell(row.cell("hotdesk"), "hotdesk")
	errs = append(errs, err)
	in.Voicemail, err = boolCell(row.cell("voicemail"), "voicemail")
	errs = append(errs, err)
	if in.Outbound != nil && *in.Outbound == "" {
		in.Outbound = nil // the default on create, unchanged on update
	}
	return in, collect(errs...)
}

// userChanges names the fields upd changes in u.
func userChanges(u *hotdesk.User, upd hotdesk.UserUpdate) []string {
	var out []string
	diff := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	diff("name", upd.Name != nil && *upd.Name != u.Name)
	diff("email", upd.Email != nil && *upd.Email != u.Email)
	diff("hotdesk", upd.Hotdesk != nil && *upd.Hotdesk != u.Hotdesk)
	diff("pin", upd.PINHash != nil)
	diff("caller_id", upd.CallerID != nil && *upd.CallerID != u.CallerID)
	diff("dids", upd.DIDs != nil && !slices.Equal(*upd.DIDs, u.DIDs))
	diff("outbound", upd.Outbound != nil && *upd.Outbound != u.Outbound)
	diff("blf", upd.BLF != nil && !slices.Equal(*upd.BLF, u.BLF))
	diff("voicemail", upd.Voicemail != nil && *upd.Voicemail != u.Voicemail)
	return out
}

// UsersByExt maps the extension of every user to the user, in one query.
func UsersByExt(ctx context.Context, store interface {
	FindUsers(ctx context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error)
}) (map[string]*hotdesk.User, error) {
	us, _, err := store.FindUsers(ctx, hotdesk.UserFilter{})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	m := make(map[string]*hotdesk.User, len(us))
	for _, u := range us {
		m[u.Extension] = u
	}
	return m, nil
}

// ExportUsers writes every user as CSV in UserColumns (the pin column is
// empty: PINs are stored only as hashes). Importing the file changes
// nothing.
func (s *Service) ExportUsers(ctx context.Context, w io.Writer) error {
	us, _, err := s.store.FindUsers(ctx, hotdesk.UserFilter{})
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	return writeCSV(w, UserColumns, us, func(u *hotdesk.User) []string {
		return []string{u.Extension, u.Name, u.Email, yesNo(u.Hotdesk), "", u.CallerID, joinList(u.DIDs),
			u.Outbound, joinList(u.BLF), yesNo(u.Voicemail)}
	})
}
