package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

const siteCols = `id, name, location, networks, trunk, callback, created_at, updated_at`

func scanSite(row rowScanner) (*hotdesk.Site, error) {
	var s hotdesk.Site
	var loc, nets string
	var created, updated int64
	if err := row.Scan(&s.ID, &s.Name, &loc, &nets, &s.Trunk, &s.Callback, &created, &updated); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromTS(created), fromTS(updated)
	if err := fromJSON(loc, &s.Location); err != nil {
		return nil, err
	}
	return &s, fromJSON(nets, &s.Networks)
}

// CreateSite stores s with its devices and assigns s.ID.
func (db *DB) CreateSite(ctx context.Context, s *hotdesk.Site) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now()
	}
	s.UpdatedAt = s.CreatedAt
	loc, _ := jsonText(s.Location)
	err := db.inTx(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO sites (name, location, networks, trunk, callback, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			s.Name, loc, strList(s.Networks), s.Trunk, s.Callback, ts(s.CreatedAt), ts(s.UpdatedAt)).Scan(&s.ID)
		if err != nil {
			return err
		}
		return db.setSiteDevices(ctx, q, s)
	})
	if err != nil {
		s.ID = 0
	}
	return db.siteErr(err, s, "create site")
}

// siteErr names the conflicting site name or missing device.
func (db *DB) siteErr(err error, s *hotdesk.Site, op string) error {
	switch {
	case err == nil:
		return nil
	case db.classify(err) == ClassUnique:
		return hotdesk.Errorf(hotdesk.ECONFLICT, "Site %q already exists.", s.Name)
	case db.classify(err) == ClassForeignKey:
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "A device of site %q does not exist.", s.Name)
	}
	return db.wrap(err, op)
}

// setSiteDevices makes s.Devices the site's devices (taking them from any
// other site).
func (db *DB) setSiteDevices(ctx context.Context, q querier, s *hotdesk.Site) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM site_devices WHERE site = $1`, s.ID); err != nil {
		return err
	}
	for _, d := range s.Devices {
		var id string
		err := q.QueryRowContext(ctx, `SELECT id FROM devices WHERE lower(id) = lower($1)`, d).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return hotdesk.Errorf(hotdesk.ENOTFOUND, "Device %s not found.", d)
		} else if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM site_devices WHERE device = $1`, id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO site_devices (device, site) VALUES ($1, $2)`, id, s.ID); err != nil {
			return err
		}
	}
	return nil
}

// FindSite returns the site with its devices, or ENOTFOUND.
func (db *DB) FindSite(ctx context.Context, id int64) (*hotdesk.Site, error) {
	s, err := queryOne(ctx, db, db.r, "find site", func() error { return notFound("Site %d not found.", id) },
		scanSite, `SELECT `+siteCols+` FROM sites WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	return s, db.siteDevices(ctx, []*hotdesk.Site{s})
}

// ListSites returns every site with its devices, by name.
func (db *DB) ListSites(ctx context.Context) ([]*hotdesk.Site, error) {
	out, err := queryAll(ctx, db, db.rs, "list sites", scanSite, `SELECT `+siteCols+` FROM sites ORDER BY name`)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*hotdesk.Site{}
	}
	return out, db.siteDevices(ctx, out)
}

// siteDevices fills in the devices of sites.
func (db *DB) siteDevices(ctx context.Context, sites []*hotdesk.Site) error {
	rows, err := db.rs.QueryContext(ctx, `SELECT device, site FROM site_devices ORDER BY device`)
	if err != nil {
		return db.wrap(err, "site devices")
	}
	defer rows.Close()
	for rows.Next() {
		var dev string
		var site int64
		if err := rows.Scan(&dev, &site); err != nil {
			return db.wrap(err, "site devices")
		}
		if i := slices.IndexFunc(sites, func(s *hotdesk.Site) bool { return s.ID == site }); i >= 0 {
			sites[i].Devices = append(sites[i].Devices, dev)
		}
	}
	for _, s := range sites {
		if s.Devices == nil {
			s.Devices = []string{}
		}
	}
	return db.wrap(rows.Err(), "site devices")
}

// UpdateSite rewrites s, its devices included.
func (db *DB) UpdateSite(ctx context.Context, s *hotdesk.Site) error {
	s.UpdatedAt = now()
	loc, _ := jsonText(s.Location)
	err := db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE sites SET name = $1, location = $2, networks = $3, trunk = $4, callback = $5,
			updated_at = $6 WHERE id = $7`, s.Name, loc, strList(s.Networks), s.Trunk, s.Callback, ts(s.UpdatedAt), s.ID)
		if err != nil {
			return err
		}
		if err := affected(res, func() error { return notFound("Site %d not found.", s.ID) }); err != nil {
			return err
		}
		return db.setSiteDevices(ctx, q, s)
	})
	return db.siteErr(err, s, "update site")
}

// DeleteSite deletes the site; its devices belong to none after.
func (db *DB) DeleteSite(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM site_devices WHERE site = $1`, id); err != nil {
			return db.wrap(err, "delete site")
		}
		res, err := q.ExecContext(ctx, `DELETE FROM sites WHERE id = $1`, id)
		if err != nil {
			return db.wrap(err, "delete site")
		}
		return affected(res, func() error { return notFound("Site %d not found.", id) })
	})
}

// SiteOfDevice returns the device's site or ENOTFOUND.
func (db *DB) SiteOfDevice(ctx context.Context, device string) (*hotdesk.Site, error) {
	var id int64
	err := db.rs.QueryRowContext(ctx, `SELECT site FROM site_devices WHERE lower(device) = lower($1)`, device).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Device %s belongs to no site.", device)
	} else if err != nil {
		return nil, db.wrap(err, "site of device")
	}
	return db.FindSite(ctx, id)
}

const emergencyCols = `id, time, device, extension, name, number, callback, site, trunk, location, warning, test,
	acked_at, acked_by, acked_via`

func scanEmergencyCall(row rowScanner) (*hotdesk.EmergencyCall, error) {
	var c hotdesk.EmergencyCall
	var at int64
	var loc string
	var acked sql.NullInt64
	err := row.Scan(&c.ID, &at, &c.Device, &c.Extension, &c.Name, &c.Number, &c.Callback, &c.Site, &c.Trunk, &loc,
		&c.Warning, &c.Test, &acked, &c.AckedBy, &c.AckedVia)
	if err != nil {
		return nil, err
	}
	c.Time, c.AckedAt = fromTS(at), fromTSPtr(acked)
	return &c, fromJSON(loc, &c.Location)
}

// CreateEmergencyCall stores c and assigns c.ID.
func (db *DB) CreateEmergencyCall(ctx context.Context, c *hotdesk.EmergencyCall) error {
	if c.Time.IsZero() {
		c.Time = now()
	}
	loc, _ := jsonText(c.Location)
	err := db.w.QueryRowContext(ctx, `INSERT INTO emergency_calls (time, device, extension, name, number, callback, site, trunk,
		location, warning, test, acked_at, acked_by, acked_via) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id`,
		ts(c.Time), c.Device, c.Extension, c.Name, c.Number, c.Callback, c.Site, c.Trunk, loc, c.Warning, c.Test,
		tsPtr(c.AckedAt), c.AckedBy, c.AckedVia).Scan(&c.ID)
	return db.wrap(err, "create emergency call")
}

// FindEmergencyCalls returns matching records, newest first.
func (db *DB) FindEmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error) {
	var w where
	if f.Callback != "" {
		w.add(`callback = ?`, f.Callback)
	}
	if f.Device != "" {
		w.add(`lower(device) = lower(?)`, f.Device)
	}
	if !f.Since.IsZero() {
		w.add(`time >= ?`, ts(f.Since))
	}
	if f.Unacked {
		w.add(`acked_at IS NULL`)
	}
	if f.Test != nil {
		w.add(`test = ?`, *f.Test)
	}
	out, err := queryAll(ctx, db, db.r, "find emergency calls", scanEmergencyCall,
		`SELECT `+emergencyCols+` FROM emergency_calls`+w.sql()+` ORDER BY time DESC, id DESC`+w.page(nonZero(f.Limit), 0), w.args...)
	if out == nil && err == nil {
		out = []*hotdesk.EmergencyCall{}
	}
	return out, err
}

// AckEmergencyCall records the first acknowledgement of call id.
func (db *DB) AckEmergencyCall(ctx context.Context, id int64, by, via string, at time.Time) (*hotdesk.EmergencyCall, bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE emergency_calls SET acked_at = $1, acked_by = $2, acked_via = $3
		WHERE id = $4 AND acked_at IS NULL`, ts(at), by, via, id)
	if err != nil {
		return nil, false, db.wrap(err, "acknowledge emergency call")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, db.wrap(err, "acknowledge emergency call")
	}
	c, err := scanEmergencyCall(db.w.QueryRowContext(ctx, `SELECT `+emergencyCols+` FROM emergency_calls WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, notFound("Emergency call %d not found.", id)
	}
	return c, n == 1, db.wrap(err, "acknowledge emergency call")
}

// LastEmergencyTests returns each device's latest test call time.
func (db *DB) LastEmergencyTests(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT device, MAX(time) FROM emergency_calls WHERE test = $1 GROUP BY device`, true)
	if err != nil {
		return nil, db.wrap(err, "last emergency tests")
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var dev string
		var at int64
		if err := rows.Scan(&dev, &at); err != nil {
			return nil, db.wrap(err, "last emergency tests")
		}
		out[dev] = fromTS(at)
	}
	return out, db.wrap(rows.Err(), "last emergency tests")
}
