// Package app composes Hotdesk PBX: it opens the store, builds every
// component (registrar, hot-desk rules, feature codes, B2BUA, presence,
// provisioning, API, console, webhooks) and runs them under one errgroup.
// cmd/hotdesk and the whole-binary tests both start the PBX through it.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/cluster"
	"github.com/hotdesk-pbx/hotdesk/internal/console"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/emergency"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/feature"
	"github.com/hotdesk-pbx/hotdesk/internal/mail"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/nodes"
	"github.com/hotdesk-pbx/hotdesk/internal/presence"
	"github.com/hotdesk-pbx/hotdesk/internal/provision"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
	"github.com/hotdesk-pbx/hotdesk/internal/settings"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/voicemail"
	"github.com/hotdesk-pbx/hotdesk/internal/web"
	"github.com/hotdesk-pbx/hotdesk/internal/webhook"
)

// App is a running PBX.
type App struct {
	cfg   Config
	log   *slog.Logger
	now   hotdesk.Clock
	store hotdesk.Store
	bus   *events.Bus

	sip       *signaling.Server
	reg       *registrar.Registrar
	desk      *desk.Service
	feature   *feature.Service
	voicemail *voicemail.Service
	b2bua     *b2bua.B2BUA
	relay     *relay.Relay // anchored media (issue 15)
	emergency *emergency.Service
	checksync *checksync.Notifier
	presence  *presence.Presence
	mwi       *mwi.Notifier
	mail      *mail.Outbox
	webhooks  *webhook.Dispatcher
	console   *console.Console
	settings  *settings.Cache // the one settings cache, shared by desk, feature, b2bua, presence
	calls     *deviceCalls
	cluster   *cluster.Bridge // nil unless the store is PostgreSQL
	nodes     *nodes.Roster   // nil unless the store is PostgreSQL

	httpLn  net.Listener
	httpsLn net.Listener
	httpSrv *http.Server

	adminToken string
	dirLock    *dataDirLock

	sipCert          *x509.Certificate // the SIP TLS certificate, nil without the listener
	sipCertGenerated bool

	metrics     *eventMetrics
	metricsStop func()
	closeOnce   sync.Once
}

// New opens the store, prepares the data directory and binds every listener
// (so a port in use is reported here, not later).
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Node = cfg.nodeName()
	a := &App{cfg: cfg, log: cfg.Logger, now: cfg.Now, bus: events.New()}
	if a.log == nil {
		lvl, _ := parseLevel(cfg.LogLevel)
		a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.Stdout == nil {
		a.cfg.Stdout = io.Discard
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	// One server per data directory: a second one would share the SQLite
	// file (and the admin token and prompts) with the first.
	if a.dirLock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if a.store, err = openStore(ctx, cfg.dbURL()); err != nil {
		return nil, err
	}
	if n, ok := a.store.(interface{ SetNode(string) }); ok {
		n.SetNode(cfg.Node) // names this node's rows in the event log
	}
	if err := a.firstStart(ctx); err != nil {
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// build constructs the components and binds the listeners.
func (a *App) build(ctx context.Context) error {
	cfg := a.cfg
	a.settings = settings.New(a.store, 0, nil)
	a.calls = newDeviceCalls()
	low, high, _ := ParsePortRange(cfg.RTPPorts)
	publicIP := cfg.publicIP()

	algs, err := cfg.digestAlgorithms()
	if err != nil {
		return err
	}
	// The B2BUA is built after the desk rules but tells them which phones
	// are in a call (an auto-logout waits for the call to end).
	a.desk = desk.New(desk.Options{Store: a.store, Bus: a.bus, Now: a.now, Logger: a.log, Settings: a.settings,
		InCall: func(device string) bool { return a.b2bua != nil && a.b2bua.InCall(device) },
		Hold: func(ctx context.Context, device string) (time.Time, bool) {
			if a.emergency == nil {
				return time.Time{}, false
			}
			return a.emergency.InWindow(ctx, device)
		}})
	a.reg, err = registrar.New(registrar.Options{Store: a.store, Bus: a.bus, Realm: cfg.Domain, Now: a.now, Logger: a.log, Node: cfg.Node, Algorithms: algs,
		CacheTTL: 10 * time.Minute, // dropped at once when a device changes (bus)
		KeepAlive: func() time.Duration {
			return time.Duration(a.settings.Get(context.Background()).NAT.KeepaliveSeconds) * time.Second
		}})
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	sipOpts := signaling.Options{
		UDPAddr: cfg.SIPAddr, TCPAddr: cfg.SIPAddr, Hostname: publicIP, Domain: cfg.Domain,
		UserAgent: "Hotdesk PBX " + Version, Logger: a.log, ReadFilter: a.reg.Allow, TCP: cfg.sipLimits(),
	}
	if err := a.sipTLSOptions(&sipOpts, publicIP); err != nil {
		return err
	}
	a.sip, err = signaling.New(sipOpts)
	if err != nil {
		return err
	}
	if err := a.sip.Listen(); err != nil {
		return err
	}
	if err := a.joinNodes(ctx, publicIP); err != nil {
		return err
	}
	// After the node's name is claimed: Load deletes this node's expired
	// bindings, which must not be those of a live namesake.
	if err := a.reg.Load(ctx); err != nil {
		return fmt.Errorf("load registrations: %w", err)
	}
	a.reg.Register(a.sip)

	promptSets := newPromptCache(filepath.Join(cfg.DataDir, "prompts"))
	ports := media.NewPortPool(low, high)
	a.voicemail, err = voicemail.New(voicemail.Options{
		Store: a.store, PIN: a.desk, Bus: a.bus, SpoolDir: filepath.Join(cfg.DataDir, "voicemail", "spool"),
		Settings: a.settings.Get, Prompts: promptSets.get, Logger: a.log, Now: a.now,
	})
	if err != nil {
		return err
	}
	a.feature, err = feature.New(feature.Options{
		Desk: a.desk, Store: a.store, Prompts: promptSets.get, Settings: a.settings,
		Ports: ports, MediaIP: publicIP, SIP: a.sip, Logger: a.log, Voicemail: a.voicemail,
		Moved: func(ctx context.Context, dev *hotdesk.Device, source string) bool {
			return a.emergency.MovedAt(ctx, dev, source)
		},
	})
	if err != nil {
		return fmt.Errorf("feature codes: %w", err)
	}
	a.relay, err = relay.New(relay.Options{Pool: ports, BindIP: cfg.mediaBindIP(), SDPIP: publicIP, Logger: a.log})
	if err != nil {
		return err
	}
	a.emergency = emergency.New(emergency.Options{Store: a.store, Bus: a.bus, Settings: a.settings.Get, Prompts: promptSets.get,
		Caller: func() emergency.Caller { return a.b2bua }, Logger: a.log, Now: a.now,
		Mail: func(ctx context.Context, to, subject, body string) error {
			if a.mail == nil { // built below; nil only during start-up
				return fmt.Errorf("mail outbox not ready")
			}
			_, err := a.mail.QueueText(ctx, to, subject, body)
			return err
		}})
	a.b2bua, err = b2bua.New(b2bua.Options{
		Store: a.store, Desk: a.desk, Bus: a.bus, SIP: a.sip, Contacts: a.reg.Contacts,
		Settings: a.settings.Get, SettingsGen: a.settings.Gen, Prompts: promptSets.get, Ports: ports, MediaIP: publicIP,
		Domain: cfg.Domain, Logger: a.log, Now: a.now, Nodes: a.b2buaNodes(), Voicemail: a.feature,
		Relay: a.relay, Media: cfg.Media, Emergency: a.emergency,
	})
	if err != nil {
		return fmt.Errorf("b2bua: %w", err)
	}
	a.sip.Handle(sip.INVITE, a.onInvite)
	// A phone's INVITE without credentials gets its 407 where it was read,
	// without a transaction (issue 18).
	a.sip.HandleStatelessIf(sip.INVITE, a.challengeOnly, a.challenge)

	a.checksync = checksync.New(checksync.Options{Bus: a.bus, SIP: a.sip, Contacts: a.reg.Contacts, Store: a.store, Logger: a.log})
	a.mwi, err = mwi.New(mwi.Options{Store: a.store, Counts: a.store, Bus: a.bus, SIP: a.sip, Contacts: a.reg.Contacts,
		Node: cfg.Node, Auth: a.reg.Authenticate, Logger: a.log, Now: a.now})
	if err != nil {
		return fmt.Errorf("mwi: %w", err)
	}
	a.presence, err = presence.New(presence.Options{Store: a.store, Bus: a.bus, SIP: a.sip, Auth: a.reg.Authenticate, Logger: a.log, Now: a.now,
		Limits:   func() hotdesk.LimitSettings { return a.settings.Get(context.Background()).Limits },
		Packages: map[string]func(*sip.Request, sip.ServerTransaction){mwi.Event: a.mwi.HandleSubscribe}})
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	a.presence.Register(a.sip)
	a.webhooks = webhook.New(webhook.Options{Store: a.store, Bus: a.bus, Logger: a.log, Now: a.now})
	a.mail, err = mail.New(mail.Options{Store: a.store, Bus: a.bus, Logger: a.log, Now: a.now, Hostname: cfg.Domain})
	if err != nil {
		return err
	}
	if isPostgres(cfg.dbURL()) {
		// Other nodes may share the database: share events with them.
		a.cluster, err = cluster.New(cluster.Options{DSN: cfg.dbURL(), Node: cfg.Node, Bus: a.bus, Logger: a.log})
		if err != nil {
			return err
		}
		// Where this node starts in the log is fixed now, before it
		// serves: a login made through another node once this one is up
		// reaches its phones even if the log's listener connects later.
		if err := a.cluster.Begin(ctx); err != nil {
			return err
		}
	}

	return a.buildHTTP(ctx, publicIP)
}

func (a *App) buildHTTP(ctx context.Context, publicIP string) error {
	reg := prometheus.NewRegistry()
	// Goroutines, heap and RSS next to the API's own figures, so leaks show
	// from outside (bench/calls reads them).
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfoGauge())
	reg.MustRegister(a.sip.Collectors()...)
	a.metrics = newEventMetrics(reg, a.bus, func() int { return len(a.b2bua.Live()) })
	reg.MustRegister(relayMetrics(a.relay)...)
	// Counting from now, so no event published after New is missed.
	a.metricsStop = a.metrics.count(a.bus)
	// One admin service: the API and the console apply the same rules.
	adm := admin.New(admin.Options{Store: a.store, Desk: a.desk, Bus: a.bus, Logger: a.log, Now: a.now, Sites: a.store, Phones: a.checksync})
	api := web.New(web.Options{
		Store: a.store, Desk: a.desk, Admin: adm, Bus: a.bus, Registrations: a.registrations(),
		Calls: liveCalls{a.b2bua}, AdminToken: a.adminToken, Registry: reg, Logger: a.log, Now: a.now,
		Trunk: a.trunkState,
	})
	sipPort := a.sip.UDPAddr().Port
	prov, err := provision.New(provision.Options{
		Store: a.store, Desk: a.desk, Logger: a.log, Now: a.now, Bus: a.bus,
		SIPHost: publicIP, SIPPort: sipPort, SIPTLSPort: a.sipTLSPort(), Realm: a.cfg.Domain, Algorithms: a.reg.Algorithms(),
	})
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	a.console, err = console.New(console.Options{
		Store: a.store, Desk: a.desk, Admin: adm, Bus: a.bus, Registrations: a.registrations(),
		Logger: a.log, Now: a.now, Secure: false,
		Trunk: a.trunkState, LiveCalls: a.consoleCalls,
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	mux := http.NewServeMux()
	apiHandler := api.Handler()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/metrics", apiHandler)
	mux.Handle("/provision/", prov.Handler())
	mux.Handle("/", a.console.Handler())
	httpLim := defaultHTTPLimits()
	a.httpSrv = newHTTPServer(mux, a.log, httpLim)
	// Shutdown does not cancel running handlers: end open event streams.
	a.httpSrv.RegisterOnShutdown(api.Close)
	a.httpSrv.RegisterOnShutdown(a.console.Close)

	if a.httpLn, err = net.Listen("tcp", a.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	a.httpLn = newLimitListener(a.httpLn, httpLim.MaxConns)
	if a.cfg.HTTPSAddr != "" {
		// Load the pair now so a bad file is reported at start, not later.
		if _, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		if a.httpsLn, err = net.Listen("tcp", a.cfg.HTTPSAddr); err != nil {
			return fmt.Errorf("listen https: %w", err)
		}
		a.httpsLn = newLimitListener(a.httpsLn, httpLim.MaxConns)
	}
	return nil
}

// onInvite sends INVITEs from the trunk's addresses to the B2BUA, and
// authenticates every other INVITE as a device's: feature codes go to the
// feature service, everything else to the B2BUA.
func (a *App) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if a.fromNode(req, tx) {
		return
	}
	if a.b2bua.FromTrunk(req) {
		a.b2bua.HandleTrunkInvite(req, tx)
		return
	}
	dev, ok := a.reg.Authenticate(req, tx)
	if !ok {
		return
	}
	st := a.settings.Get(context.Background())
	release, ok := a.calls.admitCall(req, tx, dev, st, a.log)
	if !ok {
		return
	}
	defer release()
	if code, ok := feature.Parse(req.Recipient.User, st.FeatureCodes); ok {
		a.feature.HandleInvite(req, tx, dev, code)
		return
	}
	a.b2bua.HandleInvite(req, tx, dev)
}

// challengeOnly reports, without waiting (it runs in signaling's read
// loops), whether onInvite would only challenge req: an INVITE without
// credentials, not another node's, surely not from the trunk's addresses.
func (a *App) challengeOnly(req *sip.Request) bool {
	return len(signaling.Headers(req, "Proxy-Authorization")) == 0 && req.GetHeader(nodes.Header) == nil &&
		a.b2bua.NotFromTrunk(req)
}

// challenge answers an INVITE challengeOnly picked, as onInvite would: a
// 407 (Authenticate finds no credentials to check, so it looks nothing up).
func (a *App) challenge(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := a.reg.Authenticate(req, tx); ok {
		// Cannot happen without credentials; never a call in a read loop.
		signaling.Respond(tx, req, sip.StatusInternalServerError, a.log)
	}
}

// liveCalls shows the B2BUA's calls to the API.
type liveCalls struct{ b *b2bua.B2BUA }

func (l liveCalls) Live() []web.LiveCall {
	calls := l.b.Live()
	out := make([]web.LiveCall, len(calls))
	for i, c := range calls {
		out[i] = web.LiveCall(c)
	}
	return out
}

// Run serves until ctx is done, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	// The listeners are bound already (New), so the banner is true now, and
	// printed before anything can be served.
	a.banner()
	g, ctx := errgroup.WithContext(ctx)
	// SIP stops after the B2BUA has hung up its calls (so the BYEs get
	// out), or 5 s after shutdown began, whichever is first.
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	g.Go(func() error { return a.sip.Serve(sipCtx) })
	g.Go(func() error {
		select {
		case <-ctx.Done():
			select {
			case <-sipCtx.Done():
			case <-time.After(5 * time.Second):
				stopSIP()
			}
		case <-sipCtx.Done():
		}
		return nil
	})
	g.Go(func() error { return a.reg.Run(ctx) })
	g.Go(func() error { return a.desk.Run(ctx) })
	g.Go(func() error { return a.checksync.Run(ctx) })
	g.Go(func() error { return a.presence.Run(ctx) })
	g.Go(func() error { return a.mwi.Run(ctx) })
	g.Go(func() error { return a.runWebhooks(ctx) })
	g.Go(func() error { return a.mail.Queue(ctx) })
	g.Go(func() error { return a.runMail(ctx) })
	if a.cluster != nil {
		g.Go(func() error { return a.cluster.Run(ctx) })
	}
	if a.nodes != nil {
		g.Go(func() error { return a.nodes.Run(ctx) })
	}
	g.Go(func() error { defer stopSIP(); return a.b2bua.Run(ctx) })
	g.Go(func() error { return a.emergency.Run(ctx) })
	g.Go(func() error { return a.serveHTTP(ctx) })
	g.Go(func() error { return a.console.Run(ctx) })
	g.Go(func() error { return a.settings.Run(ctx, a.bus) })
	g.Go(func() error { return a.voicemail.Run(ctx) }) // stores messages a crash left in the spool
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// runWebhooks delivers webhooks; with PostgreSQL on one node at a time,
// since every node reads the same outbox and would deliver each row.
func (a *App) runWebhooks(ctx context.Context) error {
	return a.runExclusive(ctx, "webhooks", a.webhooks.Run)
}

// runMail sends the voicemail email outbox; with PostgreSQL on one node at
// a time, as webhooks (every node queues its own deposits).
func (a *App) runMail(ctx context.Context) error {
	return a.runExclusive(ctx, "mail", a.mail.Deliver)
}

// runExclusive runs fn; with PostgreSQL on one node at a time under the
// lock called name, taken over by another node when this one goes away.
func (a *App) runExclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	if a.cluster == nil {
		return fn(ctx)
	}
	return cluster.Exclusive(ctx, cluster.ExclusiveOptions{
		DSN: a.cfg.dbURL(), Node: a.cfg.Node, Name: name, Logger: a.log,
	}, fn)
}

func (a *App) serveHTTP(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- a.httpSrv.Serve(a.httpLn) }()
	n := 1
	if a.httpsLn != nil {
		n++
		go func() { errc <- a.httpSrv.ServeTLS(a.httpsLn, a.cfg.TLSCert, a.cfg.TLSKey) }()
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return a.httpSrv.Shutdown(shutCtx)
}

// Close releases the store and listeners. Safe to call more than once.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		if a.httpLn != nil {
			a.httpLn.Close()
		}
		if a.httpsLn != nil {
			a.httpsLn.Close()
		}
		if a.store != nil {
			err = a.store.Close()
		}
		if a.metricsStop != nil {
			a.metricsStop()
		}
		a.dirLock.release()
	})
	return err
}

// Store is the PBX's store (for tests and tools).
func (a *App) Store() hotdesk.Store { return a.store }

// Bus is the PBX's event bus.
func (a *App) Bus() *events.Bus { return a.bus }

// Cluster is the bridge to the other nodes' events, nil unless the store
// is PostgreSQL.
func (a *App) Cluster() *cluster.Bridge { return a.cluster }

// Desk is the hot-desk service.
func (a *App) Desk() *desk.Service { return a.desk }

// Voicemail is the mailbox service.
func (a *App) Voicemail() *voicemail.Service { return a.voicemail }

// Registrar is the SIP registrar.
func (a *App) Registrar() *registrar.Registrar { return a.reg }

// SIPAddr is the bound SIP address (same port on UDP and TCP).
func (a *App) SIPAddr() string { return a.sip.UDPAddr().String() }

// HTTPURL is the base URL of the HTTP server.
func (a *App) HTTPURL() string { return "http://" + a.httpLn.Addr().String() }

// AdminToken is the API bearer token.
func (a *App) AdminToken() string { return a.adminToken }

// loadAdminToken uses the configured token, or else the token of the data
// directory (SQLite) or of the database (PostgreSQL: every node of one
// database must accept the same token), generating one when there is none.
// On PostgreSQL it runs inside the first-boot lock.
func (a *App) loadAdminToken(ctx context.Context) (string, error) {
	if a.cfg.AdminToken != "" {
		return a.cfg.AdminToken, nil
	}
	path := filepath.Join(a.cfg.DataDir, "admin-token")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	file := strings.TrimSpace(string(b))
	pg, shared := a.store.(*postgres.DB)
	if !shared && file != "" {
		return file, nil
	}
	tok := file
	if tok == "" {
		buf := make([]byte, 24)
		rand.Read(buf)
		tok = hex.EncodeToString(buf)
	}
	msg := "Generated an API admin token; it is stored in %s\n"
	if shared {
		// A node upgraded from a single-node setup proposes the token it
		// already has, so its API clients keep working.
		proposed := tok
		var stored bool
		if tok, stored, err = pg.SharedToken(ctx, proposed); err != nil {
			return "", err
		}
		switch {
		case tok == file:
			return tok, nil
		case stored:
			msg = "Generated the API admin token of this database (every node uses it); it is stored in %s\n"
		case file != "":
			msg = "This database already has an API admin token (set up by another node); it replaces the different one in %s\n"
		default:
			msg = "Using the API admin token of this database, set up by another node; it is stored in %s\n"
		}
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	fmt.Fprintf(a.cfg.Stdout, msg, path)
	return tok, nil
}

func httpBase(addr, publicIP string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = publicIP
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (a *App) banner() {
	pub := a.cfg.publicIP()
	base := httpBase(a.httpLn.Addr().String(), pub)
	w := a.cfg.Stdout
	fmt.Fprintf(w, "Hotdesk PBX %s is running.\n", Version)
	fmt.Fprintf(w, "  Admin console:  %s/\n", base)
	fmt.Fprintf(w, "  REST API:       %s/api/v1/  (Authorization: Bearer <token in %s>)\n", base, filepath.Join(a.cfg.DataDir, "admin-token"))
	fmt.Fprintf(w, "  SIP:            %s (UDP and TCP), domain %s\n", net.JoinHostPort(pub, strconv.Itoa(a.sip.UDPAddr().Port)), a.cfg.Domain)
	fmt.Fprint(w, a.tlsBanner(pub))
	fmt.Fprintf(w, "  Forgot the console password?  hotdesk admin passwd --data %s\n", a.cfg.DataDir)
}
