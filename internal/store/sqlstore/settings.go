package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hotdesk-pbx/hotdesk"
)

// GetSettings returns the saved settings, or DefaultSettings() if none were
// saved. Saved documents are decoded over the defaults, so fields added in a
// later version start at their default value.
func (db *DB) GetSettings(ctx context.Context) (hotdesk.Settings, error) {
	s := hotdesk.DefaultSettings()
	var doc string
	err := db.r.QueryRowContext(ctx, `SELECT doc FROM settings WHERE id = 1`).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	} else if err != nil {
		return s, db.wrap(err, "get settings")
	}
	if err := fromJSON(doc, &s); err != nil {
		return hotdesk.DefaultSettings(), err
	}
	return s, nil
}

// PutSettings replaces the settings document.
func (db *DB) PutSettings(ctx context.Context, s hotdesk.Settings) error {
	doc, err := jsonText(s)
	if err != nil {
		return err
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO settings (id, doc) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, doc)
	return db.wrap(err, "put settings")
}
