// Package hotdesk is the domain of Hotdesk PBX: users, devices, logins,
// registrations, audit events and call records, and the storage contracts the
// adapters implement. It depends on the standard library only.
package hotdesk

import (
	"context"
	"time"
)

// Store is the whole persistence contract. SQLite and PostgreSQL implement it
// and internal/store/storetest checks both against the same suite.
type Store interface {
	UserStore
	DeviceStore
	LoginStore
	BindingStore
	AuditStore
	CallStore
	SettingsStore
	AdminStore
	WebhookStore
	VoicemailStore
	MailStore
	SiteStore
	EmergencyStore
	BulkStore    // CSV imports (bulk.go)
	CallLogStore // every user's calls (calllog.go)
	AdminAccessStore

	// InTx runs fn in one database transaction. If fn returns an error the
	// transaction is rolled back and that error is returned. Concurrent writers
	// are serialised: a transaction either sees another's committed result or
	// fails with ECONFLICT when a uniqueness constraint is hit (callers may retry).
	InTx(ctx context.Context, fn func(tx Tx) error) error

	// Ping reports whether the database is reachable (for /healthz).
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the set of operations available inside a transaction. Everything the
// login rules must do atomically (end the old logins, create the new one,
// write the audit trail and webhook outbox) is here.
type Tx interface {
	FindUser(ctx context.Context, ext string) (*User, error)
	FindDevice(ctx context.Context, id string) (*Device, error)
	UpdateUser(ctx context.Context, ext string, upd UserUpdate) (*User, error)
	// UpdateDevice changes the non-nil fields; ENOTFOUND if none.
	UpdateDevice(ctx context.Context, id string, upd DeviceUpdate) (*Device, error)

	// PINFailures returns the times of the wrong PINs counted against the
	// lockout key (scope "user" or "device" and an extension or device id),
	// oldest first; none is an empty list. Transactions are serialised, so a
	// read, a PIN check and PutPINFailures in one transaction are atomic.
	PINFailures(ctx context.Context, scope, key string) ([]time.Time, error)
	// PutPINFailures replaces the key's failure times (empty deletes them).
	PutPINFailures(ctx context.Context, scope, key string, times []time.Time) error

	LoginByUser(ctx context.Context, ext string) (*Login, error)      // ENOTFOUND if none
	LoginByDevice(ctx context.Context, device string) (*Login, error) // ENOTFOUND if none
	ListLogins(ctx context.Context) ([]*Login, error)
	CreateLogin(ctx context.Context, l *Login) error      // ECONFLICT if user or device already has one
	UpdateLogin(ctx context.Context, l *Login) error      // by device; ENOTFOUND if none
	DeleteLogin(ctx context.Context, device string) error // ENOTFOUND if none

	// AppendAudit stores e, assigning e.ID (monotonic) and e.Time if zero. The
	// same call writes one outbox row per enabled webhook whose kinds match.
	AppendAudit(ctx context.Context, e *AuditEvent) error
}

// LoginLocker is implemented by the Tx of a store whose writers do not all
// queue on one lock (PostgreSQL). A login transaction calls LockLogin first
// with the user and device it is about: the store then locks just the rows
// that login may touch, so logins of other users on other phones proceed at
// the same time; it may return ECONFLICT (retry). Transactions that do not
// call it run alone, as before.
type LoginLocker interface {
	LockLogin(ctx context.Context, ext, device string) error
}

// BindingTx is implemented by the Tx of a store that can write bindings
// inside a transaction (both SQL stores). The registrar then writes a
// group commit's bindings, deletions and audit events in one transaction
// instead of three. The methods are BindingStore's PutBindings and
// DeleteBindings.
type BindingTx interface {
	PutBindings(ctx context.Context, bs []Binding) error
	DeleteBindings(ctx context.Context, bs []Binding) error
}

// BindingTxStore is implemented by a store whose every Tx is a BindingTx
// when TxWritesBindings is true (both SQL stores): the registrar asks the
// store once, when it is made, rather than each group commit's Tx.
type BindingTxStore interface {
	TxWritesBindings() bool
}

// Clock returns the current time; injected so tests control expiry.
type Clock func() time.Time
