// Package registrar is the SIP registrar of Hotdesk PBX: it answers REGISTER
// with digest authentication (MD5 and SHA-256, stateless nonces), keeps the
// live table of contact bindings in memory, writes it through to the store in
// group commits, expires bindings, and slows down and blocks sources that
// keep failing authentication. Other components use it to authenticate
// requests (Authenticate) and to find a device's contacts (Contacts).
package registrar

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/digest"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/limit"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Store is what the registrar needs of the store (hotdesk.Store has it):
// device credentials, the bindings it writes through, and one transaction
// per group commit: its bindings, deletions and audit events when the
// store is a hotdesk.BindingTxStore whose Tx writes bindings, else its
// audit events alone (Tx.AppendAudit).
type Store interface {
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error)
	PutBindings(ctx context.Context, bs []hotdesk.Binding) error
	DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error
	DeleteExpiredBindings(ctx context.Context, node string, now time.Time) ([]hotdesk.Binding, error)
	InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error
}

// SecretStore is a Store that reads what a digest check needs of a
// device alone (ID and SIPPassword; ENOTFOUND if it does not exist): the
// registrar then reads no whole device row for a REGISTER (the SQL
// stores' DeviceSecret).
type SecretStore interface {
	DeviceSecret(ctx context.Context, id string) (*hotdesk.Device, error)
}

// SecretsStore is a Store that reads what SecretStore reads of many
// devices at once (the devices found; an id that does not exist is left
// out): the REGISTERs queued together for the lookup workers are looked
// up in one query (the SQL stores' DeviceSecrets).
type SecretsStore interface {
	DeviceSecrets(ctx context.Context, ids []string) ([]*hotdesk.Device, error)
}

// Options configure a Registrar. Zero values take the defaults noted.
type Options struct {
	Store  Store         // required
	Bus    *events.Bus   // optional
	Realm  string        // digest realm (the SIP domain); required
	Now    hotdesk.Clock // default time.Now
	Logger *slog.Logger  // default slog.Default()

	MinExpires     int    // seconds; default 60; shorter requests get 423
	MaxExpires     int    // seconds; default 3600; longer requests are capped
	DefaultExpires int    // seconds; default 3600, when the REGISTER names none
	Node           string // this PBX node's name, stored with each binding

	// Algorithms are the digest algorithms challenged, in order of
	// preference; default MD5 alone, as other PBXs do: baresip 1.0 fails on
	// any SHA-256 challenge whatever the order, and sipp 3.6 and some phones
	// read only the first. SHA-256 is opt-in ("SHA-256", "MD5").
	Algorithms []string

	MaxContacts int           // per device; default 10 (the soonest to expire are dropped)
	NonceTTL    time.Duration // default 30s (as Kamailio); older nonces get stale=true
	// CacheTTL bounds how long device credentials are cached; default 2s.
	// With a Bus (and Run running) an entry is dropped as soon as its
	// device changes, and all when events were lost, so a long TTL is
	// safe there; without one the TTL is capped at 2s.
	CacheTTL      time.Duration
	FlushInterval time.Duration // group commit of refreshes; default 1s
	// RefreshWriteDelay: a refresh that changes only the expiry (and
	// Call-ID, CSeq) of a row stored well beyond the phone's next refresh
	// is written within this; default 10s (see markRefreshLocked).
	RefreshWriteDelay time.Duration
	SyncTimeout       time.Duration // wait for a new device's binding to be stored; default 5s
	// CommitGather is how long a group commit asked for by a first
	// binding waits for more before it starts; default 2ms, negative:
	// none (see Run).
	CommitGather time.Duration
	// after is time.After, for CommitGather (tests replace it).
	after func(time.Duration) <-chan time.Time

	SlowAfter  int           // auth failures per FailWindow before responses are delayed; default 5
	BlockAfter int           // auth failures per FailWindow before the source is blocked; default 20
	FailWindow time.Duration // default 1m
	BlockFor   time.Duration // default 10m
	FailDelay  time.Duration // delay of responses to slowed sources; default 2s

	// A device's failure budget, from any source: after DeviceBlockAfter
	// failures for one device id within DeviceFailWindow its digest is
	// refused for DeviceBlockFor (audited auth_device_blocked). It catches
	// guesses from rotating addresses that each stay under BlockAfter.
	DeviceBlockAfter int           // default 20
	DeviceFailWindow time.Duration // default 1m
	DeviceBlockFor   time.Duration // default 5m

	// KeepAlive returns how often phones behind NAT are sent keep-alives
	// (settings nat.keepalive_seconds; read each round); nil or 0: none.
	KeepAlive func() time.Duration
}

func (o *Options) setDefaults() error {
	if o.Store == nil {
		return errors.New("registrar: Store is required")
	}
	if o.Realm == "" {
		return errors.New("registrar: Realm is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	defInt(&o.MinExpires, 60)
	defInt(&o.MaxExpires, 3600)
	defInt(&o.DefaultExpires, 3600)
	defInt(&o.MaxContacts, 10)
	defInt(&o.SlowAfter, 5)
	defInt(&o.BlockAfter, 20)
	defInt(&o.DeviceBlockAfter, 20)
	defDur(&o.DeviceFailWindow, time.Minute)
	defDur(&o.DeviceBlockFor, 5*time.Minute)
	defDur(&o.NonceTTL, 30*time.Second)
	defDur(&o.CacheTTL, 2*time.Second)
	defDur(&o.FlushInterval, time.Second)
	defDur(&o.RefreshWriteDelay, 10*time.Second)
	defDur(&o.SyncTimeout, 5*time.Second)
	switch {
	case o.CommitGather == 0:
		o.CommitGather = defaultCommitGather
	case o.CommitGather < 0:
		o.CommitGather = 0
	}
	if o.after == nil {
		o.after = time.After
	}
	defDur(&o.FailWindow, time.Minute)
	defDur(&o.BlockFor, 10*time.Minute)
	defDur(&o.FailDelay, 2*time.Second)
	algs, err := digest.CheckAlgorithms(o.Algorithms)
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	o.Algorithms = algs
	if o.MinExpires > o.MaxExpires {
		return fmt.Errorf("registrar: MinExpires %d above MaxExpires %d", o.MinExpires, o.MaxExpires)
	}
	return nil
}

func defInt(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

func defDur(v *time.Duration, d time.Duration) {
	if *v <= 0 {
		*v = d
	}
}

// defaultCommitGather is Options.CommitGather's default: at 2,000 first
// registrations a second a group commit then holds ~4 (see Run).
const defaultCommitGather = 2 * time.Millisecond

// Registrar is the SIP registrar. Create it with New, restore state with
// Load, install it with Register and run its background loop with Run.
type Registrar struct {
	opts    Options
	log     *slog.Logger
	digest  *digest.Verifier
	secrets *secrets
	limiter *limit.Limiter // digest failures per source address
	// devLimiter counts digest failures per claimed device id.
	devLimiter *limit.Limiter
	// digestChecks counts digest responses computed and compared (tests
	// check known and unknown devices do the same work).
	digestChecks atomic.Int64
	// txBindings: the store's Tx is a hotdesk.BindingTx (asked once).
	txBindings bool
	srv        *sipgo.Server     // for delayed responses; set by Register
	sig        *signaling.Server // keep-alives to phones behind NAT; set by Register
	// spawned counts REGISTERs handled in a goroutine of their own (the
	// workers' queue full or not serving; tests).
	spawned atomic.Int64
	// keepalivesSent counts keep-alive pings sent (tests).
	keepalivesSent atomic.Int64

	mu      sync.Mutex
	devices map[string][]hotdesk.Binding // live table
	slots   slots                        // the table's one-binding slices
	// sweepAt: when sweep next walks the table. sweeps counts the walks.
	sweepAt sweepDue
	sweeps  int
	puts    map[bindingKey]hotdesk.Binding
	later   map[bindingKey]laterPut // refreshes written within RefreshWriteDelay
	dels    map[bindingKey]hotdesk.Binding
	audits  []*hotdesk.AuditEvent
	loaded  []events.Event // unregistrations found by Load, published by Run
	waiters []*stored
	kick    chan struct{}
	running bool

	toTagSeq  atomic.Uint64
	tagSuffix string // random, per process
	dateCache atomic.Pointer[dateValue]
}

type bindingKey struct{ device, contact string }

// New returns a registrar with an empty binding table.
func New(o Options) (*Registrar, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	v, err := digest.NewVerifier(o.Realm, o.Algorithms, o.NonceTTL)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	bts, ok := o.Store.(hotdesk.BindingTxStore)
	return &Registrar{
		txBindings: ok && bts.TxWritesBindings(),
		tagSuffix:  base64.RawURLEncoding.EncodeToString(suffix[:]),
		opts:       o,
		log:        o.Logger,
		digest:     v,
		secrets:    newSecrets(o, v),
		limiter:    limit.New(o.SlowAfter, o.BlockAfter, o.FailWindow, o.BlockFor),
		// Responses are slowed per source, never per device.
		devLimiter: limit.NewBlocking(o.DeviceBlockAfter, o.DeviceFailWindow, o.DeviceBlockFor),
		devices:    make(map[string][]hotdesk.Binding),
		puts:       make(map[bindingKey]hotdesk.Binding),
		later:      make(map[bindingKey]laterPut),
		dels:       make(map[bindingKey]hotdesk.Binding),
		kick:       make(chan struct{}, 1),
	}, nil
}

func (r *Registrar) now() time.Time { return r.opts.Now() }

// Algorithms are the digest algorithms challenged, in order (--digest);
// provisioning challenges the same.
func (r *Registrar) Algorithms() []string { return slices.Clone(r.opts.Algorithms) }

// Register installs the REGISTER and OPTIONS handlers on srv.
func (r *Registrar) Register(srv *signaling.Server) {
	r.srv = srv.Server
	r.sig = srv
	srv.HandleStateless(sip.REGISTER, r.handleRegisterRead)
	srv.Handle(sip.OPTIONS, r.handleOptions)
}

// allowHeader lists the methods the PBX handles.
const allowHeader = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK, REGISTER, SUBSCRIBE, NOTIFY"

func (r *Registrar) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Accept-Language", "en, nl"))
	r.reply(req, tx, res, false)
}

// reply sends res, after FailDelay when delay is set. A delayed response is
// written from a timer straight to the transport, so a slowed-down attacker
// holds no goroutine.
func (r *Registrar) reply(req *sip.Request, tx sip.ServerTransaction, res *sip.Response, delay bool) {
	if delay && signaling.IsStateless(tx) {
		time.AfterFunc(r.opts.FailDelay, func() {
			if err := tx.Respond(res); err != nil {
				r.log.Debug("sip delayed response", "status", res.StatusCode, "error", err)
			}
		})
		return
	}
	if delay && r.srv != nil {
		time.AfterFunc(r.opts.FailDelay, func() {
			if err := r.srv.WriteResponse(res); err != nil {
				r.log.Debug("sip delayed response", "status", res.StatusCode, "error", err)
			}
		})
		return
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("sip respond", "method", req.Method, "status", res.StatusCode, "error", err)
	}
}

// Contacts returns the device's live, unexpired bindings.
func (r *Registrar) Contacts(device string) []hotdesk.Binding {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hotdesk.Binding
	for _, b := range r.devices[device] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// audit queues an audit event for the next group commit.
func (r *Registrar) audit(e *hotdesk.AuditEvent) {
	r.mu.Lock()
	r.audits = append(r.audits, e)
	r.mu.Unlock()
}

func (r *Registrar) publish(kind, device, source, detail string, at time.Time) {
	if r.opts.Bus != nil {
		r.opts.Bus.Publish(events.Event{Kind: kind, Device: device, Source: source, Detail: detail, Time: at})
	}
}
