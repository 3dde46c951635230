package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.MailStore = (*DB)(nil)

const mailCols = `id, to_addr, subject, body, attachment_name, status, attempts, next_attempt, last_error, created_at, sent_at`

// scanMail reads mailCols, plus the attachment when withAttachment.
func scanMail(row rowScanner, withAttachment bool) (*hotdesk.Mail, error) {
	var m hotdesk.Mail
	var next, created int64
	var sent sql.NullInt64
	dst := []any{&m.ID, &m.To, &m.Subject, &m.Body, &m.AttachmentName, &m.Status, &m.Attempts, &next, &m.LastError, &created, &sent}
	if withAttachment {
		dst = append(dst, &m.Attachment)
	}
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	m.NextAttempt, m.CreatedAt, m.SentAt = fromTS(next), fromTS(created), fromTSPtr(sent)
	return &m, nil
}

// EnqueueMail stores m as pending, assigning its ID and times.
func (db *DB) EnqueueMail(ctx context.Context, m *hotdesk.Mail) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now()
	}
	if m.NextAttempt.IsZero() {
		m.NextAttempt = m.CreatedAt
	}
	m.CreatedAt, m.NextAttempt = m.CreatedAt.UTC(), m.NextAttempt.UTC()
	m.Status, m.Attempts, m.LastError, m.SentAt = hotdesk.MailPending, 0, "", nil
	att := m.Attachment
	if att == nil {
		att = []byte{}
	}
	return db.inTx(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO mail_outbox (to_addr, subject, body, attachment_name, attachment,
			status, attempts, next_attempt, last_error, created_at) VALUES ($1,$2,$3,$4,$5,$6,0,$7,'',$8) RETURNING id`,
			m.To, m.Subject, m.Body, m.AttachmentName, att, m.Status, ts(m.NextAttempt), ts(m.CreatedAt)).Scan(&m.ID)
		return db.wrap(err, "enqueue mail")
	})
}

// DueMail returns pending mails due at now, oldest first, with attachments.
func (db *DB) DueMail(ctx context.Context, at time.Time, limit int) ([]*hotdesk.Mail, error) {
	withAttachment := func(row rowScanner) (*hotdesk.Mail, error) { return scanMail(row, true) }
	return queryAll(ctx, db, db.r, "due mail", withAttachment, `SELECT `+mailCols+`, attachment FROM mail_outbox
		WHERE status = $1 AND next_attempt <= $2 ORDER BY next_attempt, id LIMIT $3`, hotdesk.MailPending, ts(at), limit)
}

// UpdateMail stores m's delivery state.
func (db *DB) UpdateMail(ctx context.Context, m *hotdesk.Mail) error {
	return db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE mail_outbox SET status = $1, attempts = $2, next_attempt = $3,
			last_error = $4, sent_at = $5 WHERE id = $6`,
			m.Status, m.Attempts, ts(m.NextAttempt), m.LastError, tsPtr(m.SentAt), m.ID)
		if err != nil {
			return db.wrap(err, "update mail")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("Mail %d not found.", m.ID)
		}
		return nil
	})
}

// FindMail returns one mail without its attachment.
func (db *DB) FindMail(ctx context.Context, id int64) (*hotdesk.Mail, error) {
	withoutAttachment := func(row rowScanner) (*hotdesk.Mail, error) { return scanMail(row, false) }
	return queryOne(ctx, db, db.r, "find mail", func() error { return notFound("Mail %d not found.", id) },
		withoutAttachment, `SELECT `+mailCols+` FROM mail_outbox WHERE id = $1`, id)
}
