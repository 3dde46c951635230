package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.VoicemailStore = (*DB)(nil)

const voicemailCols = `id, extension, caller, caller_name, received_at, duration_ms, is_new, codec`

// scanVoicemail reads one row of voicemailCols.
func scanVoicemail(row rowScanner) (*hotdesk.Voicemail, error) {
	var v hotdesk.Voicemail
	var at int64
	err := row.Scan(&v.ID, &v.Extension, &v.Caller, &v.CallerName, &at, &v.DurationMS, &v.New, &v.Codec)
	if err != nil {
		return nil, err
	}
	v.ReceivedAt = fromTS(at)
	return &v, nil
}

func noMessage(ext string, id int64) error {
	return notFound("Message %d of %s not found.", id, ext)
}

// CreateVoicemail stores v and its audio, assigning v.ID; ENOTFOUND if the
// extension does not exist (the foreign key).
func (db *DB) CreateVoicemail(ctx context.Context, v *hotdesk.Voicemail, wav []byte) error {
	if v.ReceivedAt.IsZero() {
		v.ReceivedAt = now()
	}
	v.ReceivedAt = v.ReceivedAt.UTC()
	if wav == nil {
		wav = []byte{}
	}
	return db.inTx(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, `INSERT INTO voicemail (extension, caller, caller_name, received_at,
			duration_ms, is_new, codec, audio) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
			v.Extension, v.Caller, v.CallerName, ts(v.ReceivedAt), v.DurationMS, v.New, v.Codec, wav).Scan(&v.ID)
		if err != nil && db.classify(err) == ClassForeignKey {
			return notFound("User %s not found.", v.Extension)
		}
		return db.wrap(err, "create voicemail")
	})
}

// ListVoicemail lists ext's messages, new ones first, oldest first in each group.
func (db *DB) ListVoicemail(ctx context.Context, ext string) ([]*hotdesk.Voicemail, error) {
	return queryAll(ctx, db, db.r, "list voicemail", scanVoicemail, `SELECT `+voicemailCols+` FROM voicemail WHERE extension = $1
		ORDER BY is_new DESC, received_at, id`, ext)
}

// GetVoicemail returns one message of ext; ENOTFOUND if none.
func (db *DB) GetVoicemail(ctx context.Context, ext string, id int64) (*hotdesk.Voicemail, error) {
	return queryOne(ctx, db, db.r, "get voicemail", func() error { return noMessage(ext, id) },
		scanVoicemail, `SELECT `+voicemailCols+` FROM voicemail WHERE extension = $1 AND id = $2`, ext, id)
}

// VoicemailAudio returns the message's WAV file; ENOTFOUND if none.
func (db *DB) VoicemailAudio(ctx context.Context, ext string, id int64) ([]byte, error) {
	var wav []byte
	err := db.r.QueryRowContext(ctx, `SELECT audio FROM voicemail WHERE extension = $1 AND id = $2`,
		ext, id).Scan(&wav)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noMessage(ext, id)
	}
	return wav, db.wrap(err, "voicemail audio")
}

// MarkVoicemail sets the message's new flag; ENOTFOUND if none.
func (db *DB) MarkVoicemail(ctx context.Context, ext string, id int64, isNew bool) error {
	return db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE voicemail SET is_new = $3 WHERE extension = $1 AND id = $2`,
			ext, id, isNew)
		if err != nil {
			return db.wrap(err, "mark voicemail")
		}
		return affected(res, func() error { return noMessage(ext, id) })
	})
}

// DeleteVoicemail deletes the message and its audio; ENOTFOUND if none.
func (db *DB) DeleteVoicemail(ctx context.Context, ext string, id int64) error {
	return db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM voicemail WHERE extension = $1 AND id = $2`, ext, id)
		if err != nil {
			return db.wrap(err, "delete voicemail")
		}
		return affected(res, func() error { return noMessage(ext, id) })
	})
}

// VoicemailCounts counts ext's new and saved messages.
func (db *DB) VoicemailCounts(ctx context.Context, ext string) (newCount, oldCount int, err error) {
	err = db.rs.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN is_new THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN is_new THEN 0 ELSE 1 END), 0)
		FROM voicemail WHERE extension = $1`, ext).Scan(&newCount, &oldCount)
	return newCount, oldCount, db.wrap(err, "count voicemail")
}

// PutGreeting stores ext's greeting, replacing any; ENOTFOUND if the
// extension does not exist.
func (db *DB) PutGreeting(ctx context.Context, ext string, wav []byte) error {
	if wav == nil {
		wav = []byte{}
	}
	return db.inTx(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO voicemail_greetings (extension, audio, updated_at)
			VALUES ($1, $2, $3) ON CONFLICT (extension) DO UPDATE SET audio = excluded.audio,
			updated_at = excluded.updated_at`, ext, wav, ts(now()))
		if err != nil && db.classify(err) == ClassForeignKey {
			return notFound("User %s not found.", ext)
		}
		return db.wrap(err, "put greeting")
	})
}

// Greeting returns ext's recorded greeting; ENOTFOUND if none.
func (db *DB) Greeting(ctx context.Context, ext string) ([]byte, error) {
	var wav []byte
	err := db.r.QueryRowContext(ctx, `SELECT audio FROM voicemail_greetings WHERE extension = $1`, ext).Scan(&wav)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User %s has no greeting.", ext)
	}
	return wav, db.wrap(err, "greeting")
}

// DeleteGreeting removes ext's greeting; ENOTFOUND if none.
func (db *DB) DeleteGreeting(ctx context.Context, ext string) error {
	return db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM voicemail_greetings WHERE extension = $1`, ext)
		if err != nil {
			return db.wrap(err, "delete greeting")
		}
		return affected(res, func() error { return notFound("User %s has no greeting.", ext) })
	})
}
