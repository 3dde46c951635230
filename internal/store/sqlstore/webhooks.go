package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hotdesk-pbx/hotdesk"
)

const webhookCols = `id, url, secret, kinds, enabled, created_at`

func scanWebhook(row rowScanner) (*hotdesk.Webhook, error) {
	var w hotdesk.Webhook
	var kinds string
	var created int64
	if err := row.Scan(&w.ID, &w.URL, &w.Secret, &kinds, &w.Enabled, &created); err != nil {
		return nil, err
	}
	w.CreatedAt = fromTS(created)
	return &w, fromJSON(kinds, &w.Kinds)
}

// CreateWebhook stores w and assigns w.ID.
func (db *DB) CreateWebhook(ctx context.Context, w *hotdesk.Webhook) error {
	if w.CreatedAt.IsZero() {
		w.CreatedAt = now()
	}
	return db.writeWebhooks(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO webhooks (url, secret, kinds, enabled, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			w.URL, w.Secret, strList(w.Kinds), w.Enabled, ts(w.CreatedAt)).Scan(&w.ID)
		return db.wrap(err, "create webhook")
	})
}

// FindWebhook returns the webhook or ENOTFOUND.
func (db *DB) FindWebhook(ctx context.Context, id int64) (*hotdesk.Webhook, error) {
	return queryOne(ctx, db, db.r, "find webhook", func() error { return notFound("Webhook %d not found.", id) },
		scanWebhook, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id)
}

// ListWebhooks returns every webhook by ID.
func (db *DB) ListWebhooks(ctx context.Context) ([]*hotdesk.Webhook, error) {
	return queryAll(ctx, db, db.r, "list webhooks", scanWebhook, `SELECT `+webhookCols+` FROM webhooks ORDER BY id`)
}

// UpdateWebhook rewrites URL, secret, kinds and enabled; ENOTFOUND if none.
func (db *DB) UpdateWebhook(ctx context.Context, w *hotdesk.Webhook) error {
	return db.writeWebhooks(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE webhooks SET url = $1, secret = $2, kinds = $3, enabled = $4 WHERE id = $5`,
			w.URL, w.Secret, strList(w.Kinds), w.Enabled, w.ID)
		if err != nil {
			return db.wrap(err, "update webhook")
		}
		return affected(res, func() error { return notFound("Webhook %d not found.", w.ID) })
	})
}

// DeleteWebhook deletes the webhook and (by cascade) its deliveries.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return db.writeWebhooks(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return db.wrap(err, "delete webhook")
		}
		return affected(res, func() error { return notFound("Webhook %d not found.", id) })
	})
}

const deliveryCols = `id, webhook, audit_id, status, attempts, next_attempt, last_error, created_at, delivered_at`

// PendingDeliveries returns the webhook's oldest pending deliveries in ID
// (event) order; limit <= 0 means 100.
func (db *DB) PendingDeliveries(ctx context.Context, webhook int64, limit int) ([]*hotdesk.Delivery, error) {
	return db.FindDeliveries(ctx, webhook, hotdesk.DeliveryPending, limit)
}

// FindDeliveries returns the webhook's oldest deliveries with status
// ("" = any) in ID (event) order; limit <= 0 means 100.
func (db *DB) FindDeliveries(ctx context.Context, webhook int64, status string, limit int) ([]*hotdesk.Delivery, error) {
	order, limit := ` ORDER BY id`, nonZero(limit)
	var w where
	w.add(`webhook = ?`, webhook)
	if status != "" {
		w.add(`status = ?`, status)
	}
	return queryAll(ctx, db, db.r, "find deliveries", scanDelivery,
		`SELECT `+deliveryCols+` FROM deliveries`+w.sql()+order+w.page(limit, 0), w.args...)
}

func scanDelivery(row rowScanner) (*hotdesk.Delivery, error) {
	var d hotdesk.Delivery
	var next, created int64
	var delivered sql.NullInt64
	if err := row.Scan(&d.ID, &d.Webhook, &d.AuditID, &d.Status, &d.Attempts, &next, &d.LastError, &created, &delivered); err != nil {
		return nil, err
	}
	d.NextAttempt, d.CreatedAt, d.DeliveredAt = fromTS(next), fromTS(created), fromTSPtr(delivered)
	return &d, nil
}

// nonZero maps a non-positive limit to 100.
func nonZero(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// UpdateDelivery rewrites the delivery's state by ID; ENOTFOUND if none.
func (db *DB) UpdateDelivery(ctx context.Context, d *hotdesk.Delivery) error {
	res, err := db.w.ExecContext(ctx, `UPDATE deliveries SET status = $1, attempts = $2, next_attempt = $3,
		last_error = $4, delivered_at = $5 WHERE id = $6`,
		d.Status, d.Attempts, ts(d.NextAttempt), d.LastError, tsPtr(d.DeliveredAt), d.ID)
	if err != nil {
		return db.wrap(err, "update delivery")
	}
	return affected(res, func() error { return notFound("Delivery %d not found.", d.ID) })
}
