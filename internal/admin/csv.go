package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// CSV import and export of users and devices (issue 17 item 11). A file
// is checked whole first (the dry run: what each line will change, and
// every error by line); applying it changes everything in one transaction
// or nothing.

// Import kinds.
const (
	ImportUsers   = "users"
	ImportDevices = "devices"
)

// MaxImportLines bounds one import file.
const MaxImportLines = 20000

// Columns of the CSV files, in export order. A file to import needs the
// key column (extension, or id for devices: empty creates the next hot
// desk id) and may leave others out: those stay as they are. A pin cell
// left empty keeps the PIN.
var (
	UserColumns   = []string{"extension", "name", "email", "hotdesk", "pin", "caller_id", "dids", "outbound", "blf", "voicemail"}
	DeviceColumns = []string{"id", "label", "mac", "model", "mode", "owner", "location", "emergency_callback"}
)

// Import actions of a line.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
)

// ImportLine is what one line of the file does.
type ImportLine struct {
	Line   int      `json:"line"`
	Key    string   `json:"key"`    // extension or device id ("" for a desk whose id is assigned)
	Action string   `json:"action"` // create, update or unchanged
	Fields []string `json:"fields,omitempty"`
}

// LineError is one problem of one line (line 1 is the header).
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ImportReport is the dry run's (or the import's) outcome.
type ImportReport struct {
	Kind      string       `json:"kind"`
	Lines     []ImportLine `json:"lines"`
	Errors    []LineError  `json:"errors"`
	Created   int          `json:"created"`
	Updated   int          `json:"updated"`
	Unchanged int          `json:"unchanged"`
	Applied   bool         `json:"applied"`
}

// OK reports whether the file can be applied.
func (r *ImportReport) OK() bool { return len(r.Errors) == 0 }

func (r *ImportReport) fail(line int, err error) {
	for _, e := range Fields(err) {
		r.Errors = append(r.Errors, LineError{Line: line, Field: e.Field, Message: e.Message})
	}
}

func (r *ImportReport) add(l ImportLine) {
	switch l.Action {
	case ActionCreate:
		r.Created++
	case ActionUpdate:
		r.Updated++
	default:
		r.Unchanged++
	}
	r.Lines = append(r.Lines, l)
}

// Import checks a CSV file of kind (users or devices) and, when apply is
// set and no line has an error, applies it in one transaction, audited
// from source. A file with errors is reported, never half applied; the
// error is non-nil only when the check or the transaction could not run
// (EINVALID for an unknown kind, a store error, an ECONFLICT a concurrent
// change caused).
func (s *Service) Import(ctx context.Context, source, kind string, r io.Reader, apply bool) (*ImportReport, error) {
	rep := &ImportReport{Kind: kind, Lines: []ImportLine{}, Errors: []LineError{}}
	rows, header, err := readCSV(r, rep)
	if err != nil {
		return nil, err
	}
	var b hotdesk.Bulk
	switch kind {
	case ImportUsers:
		err = s.checkUsers(ctx, rows, header, rep, &b, apply)
	case ImportDevices:
		err = s.checkDevices(ctx, rows, header, rep, &b)
	default:
		return nil, hotdesk.Invalidf("kind", "Import kind must be users or devices.")
	}
	slices.SortStableFunc(rep.Errors, func(a, b LineError) int { return a.Line - b.Line })
	if err != nil || !apply || !rep.OK() {
		return rep, err
	}
	if err := s.store.ApplyBulk(ctx, b); err != nil {
		return nil, err
	}
	rep.Applied = true
	if kind == ImportDevices { // the ids the store assigned, line by line
		k := 0
		for j := range rep.Lines {
			if rep.Lines[j].Action == ActionCreate {
				rep.Lines[j].Key = b.CreateDevices[k].ID
				k++
			}
		}
	}
	s.auditImport(ctx, source, rep, b)
	return rep, nil
}

// auditImport records the import as one audit event, and logs out the
// updated users whose hot desking the file switched off.
func (s *Service) auditImport(ctx context.Context, source string, rep *ImportReport, b hotdesk.Bulk) {
	kind := hotdesk.KindUserChanged
	if rep.Kind == ImportDevices {
		kind = hotdesk.KindDeviceChanged
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: kind, Reason: "import",
		Detail: fmt.Sprintf("CSV import of %s: %d created, %d updated, %d unchanged", rep.Kind, rep.Created, rep.Updated, rep.Unchanged)})
	for _, u := range b.UpdateUsers {
		if h := u.Update.Hotdesk; h != nil && !*h {
			if _, err := s.desk.LogoutUser(ctx, u.Extension, hotdesk.ReasonAdmin, source); hotdesk.IgnoreNotFound(err) != nil {
				s.log.Warn("admin: import: log out", "extension", u.Extension, "err", err)
			}
		}
	}
}

// csvRow is one data line: its number and its cells by column.
type csvRow struct {
	line  int
	cells map[string]string
}

// readCSV reads the header and the rows; problems of the file's form go
// to rep (and yield no rows).
func readCSV(r io.Reader, rep *ImportReport) ([]csvRow, []string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		rep.Errors = append(rep.Errors, LineError{Line: 1, Message: "The file is empty: the first line must name the columns."})
		return nil, nil, nil
	}
	if err != nil {
		rep.Errors = append(rep.Errors, LineError{Line: 1, Message: csvMessage(err)})
		return nil, nil, nil
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	var rows []csvRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			rep.Errors = append(rep.Errors, LineError{Line: line, Message: csvMessage(err)})
			return nil, header, nil
		}
		if len(rows) >= MaxImportLines {
			rep.Errors = append(rep.Errors, LineError{Line: line, Message: fmt.Sprintf("A file may hold at most %d lines.", MaxImportLines)})
			return nil, header, nil
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			rep.Errors = append(rep.Errors, LineError{Line: line, Message: fmt.Sprintf("The line has %d cells; the header names %d columns.", len(rec), len(header))})
			continue
		}
		row := csvRow{line: line, cells: map[string]string{}}
		for i, h := range header {
			row.cells[h] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, row)
	}
	return rows, header, nil
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "Not valid CSV: " + pe.Err.Error() + "."
	}
	return "Not valid CSV: " + err.Error() + "."
}

// checkHeader reports unknown and repeated columns and a missing key.
func checkHeader(header, known []string, key string, rep *ImportReport) bool {
	before := len(rep.Errors)
	seen := map[string]bool{}
	for _, h := range header {
		switch {
		case !slices.Contains(known, h):
			rep.Errors = append(rep.Errors, LineError{Line: 1, Field: h, Message: fmt.Sprintf("Unknown column %q: the columns are %s.", h, strings.Join(known, ", "))})
		case seen[h]:
			rep.Errors = append(rep.Errors, LineError{Line: 1, Field: h, Message: fmt.Sprintf("Column %q appears twice.", h)})
		}
		seen[h] = true
	}
	if header != nil && !seen[key] {
		rep.Errors = append(rep.Errors, LineError{Line: 1, Field: key, Message: fmt.Sprintf("The %q column is required.", key)})
	}
	return len(rep.Errors) == before
}

// cell returns a pointer to the row's value of col, nil when the file has
// no such column.
func (r csvRow) cell(col string) *string {
	v, ok := r.cells[col]
	if !ok {
		return nil
	}
	return &v
}

// list splits a cell of several values (spaces, commas or semicolons).
func list(v *string) *[]string {
	if v == nil {
		return nil
	}
	out := strings.FieldsFunc(*v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' })
	if out == nil {
		out = []string{}
	}
	return &out
}

// boolCell parses yes/no cells.
func boolCell(v *string, field string) (*bool, error) {
	if v == nil {
		return nil, nil
	}
	var b bool
	switch strings.ToLower(*v) {
	case "1", "true", "yes", "y", "on", "x":
		b = true
	case "", "0", "false", "no", "n", "off":
	default:
		return nil, hotdesk.Invalidf(field, "%s must be yes or no, not %q.", field, *v)
	}
	return &b, nil
}

// joinList is the export form of a list cell.
// writeCSV writes header and a record per row (the exports).
func writeCSV[T any](w io.Writer, header []string, rows []T, record func(T) []string) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, r := range rows {
		_ = cw.Write(record(r))
	}
	cw.Flush()
	return cw.Error()
}

func joinList(ss []string) string { return strings.Join(ss, " ") }

func yesNo(b bool) string { return strconv.FormatBool(b) }
