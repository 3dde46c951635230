package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ts encodes t as Unix nanoseconds; the zero time is 0.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// tsPtr encodes an optional time; nil is NULL.
func tsPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ts(*t), Valid: true}
}

// fromTS decodes ts; 0 is the zero time. Results are in UTC.
func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// fromTSPtr decodes a nullable column.
func fromTSPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromTS(n.Int64)
	return &t
}

// now is the store's clock for defaults (audit time, created_at).
func now() time.Time { return time.Now().UTC() }

// jsonText encodes v; nil slices become [] so LIKE matching and readers see
// one spelling of "empty".
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	if string(b) == "null" {
		return "[]", nil
	}
	return string(b), nil
}

// strList encodes a string list as JSON (never null).
func strList(v []string) string {
	if v == nil {
		v = []string{}
	}
	s, _ := jsonText(v) // []string always encodes
	return s
}

// fromJSON decodes s into v; "" leaves v alone.
func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// likeEscaper escapes LIKE wildcards; patterns use ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// contains is a LIKE pattern for a case-insensitive substring (the column
// side is LOWER()ed).
func contains(s string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(s)) + "%"
}

// where accumulates AND-ed conditions with $N placeholders.
type where struct {
	conds []string
	args  []any
}

// add appends cond, in which every "?" stands for the next argument.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// sql renders " WHERE …" or "".
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page appends LIMIT/OFFSET placeholders; limit <= 0 is no limit.
func (w *where) page(limit, offset int) string {
	s := ""
	if limit > 0 {
		w.args = append(w.args, limit)
		s += fmt.Sprintf(" LIMIT $%d", len(w.args))
	}
	if offset > 0 {
		if limit <= 0 {
			w.args = append(w.args, int64(1)<<62)
			s += fmt.Sprintf(" LIMIT $%d", len(w.args))
		}
		w.args = append(w.args, offset)
		s += fmt.Sprintf(" OFFSET $%d", len(w.args))
	}
	return s
}
