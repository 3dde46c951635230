package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/nodes"
)

// joinNodes claims this node's name among the nodes of a PostgreSQL
// database (refusing to start when a live node has it) and keeps the
// roster the B2BUA routes calls across nodes with.
func (a *App) joinNodes(ctx context.Context, publicIP string) error {
	ns, ok := a.store.(nodes.Store)
	if !ok || !isPostgres(a.cfg.dbURL()) {
		return nil
	}
	addr := a.cfg.NodeAddress
	tcp := a.cfg.NodeTransport == "tcp"
	if addr == "" {
		host, _, _ := net.SplitHostPort(a.cfg.SIPAddr)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = publicIP
		}
		port := 0
		switch {
		case !tcp:
			port = a.sip.UDPAddr().Port
		case a.sip.TCPAddr() != nil:
			port = a.sip.TCPAddr().Port
		default:
			return errors.New("--node-transport tcp: SIP over TCP is off")
		}
		addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if tcp {
		addr += nodes.TransportTCP
	}
	inst, err := nodeInstance(a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.nodes, err = nodes.New(ctx, nodes.Options{Store: ns, Name: a.cfg.Node, Instance: inst, Address: addr, Secret: a.cfg.ClusterSecret,
		Timeout: a.cfg.NodeTimeout, Bus: a.bus, Now: a.now, Logger: a.log, OnRevive: func() {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.reviveBindings(rctx, ns, false); err != nil {
				a.log.Warn("nodes: bindings marked stale while this node was cut off", "err", err)
			}
			a.reg.Rewrite()
		}})
	if err != nil {
		return err
	}
	return a.reviveBindings(ctx, ns, true)
}

// reviveBindings is for this node back after the others declared it lost
// (its bindings marked stale): the stale bindings of phones that registered
// with another node meanwhile are deleted (the phone stays there), the
// others are live again, audited and published as registered (node_back).
// At a restart (before the registrar loads its bindings) only UDP ones are
// kept: a TCP or TLS connection did not outlive the process, so those
// phones register again; after a partition, all (the registrar still
// holds them), and the deleted ones are dropped from the registrar.
func (a *App) reviveBindings(ctx context.Context, ns nodes.Store, restart bool) error {
	var keep func(hotdesk.Binding) bool
	if restart {
		keep = func(b hotdesk.Binding) bool { return b.Transport == "" || strings.EqualFold(b.Transport, "udp") }
	}
	now := a.now()
	detail := "node " + a.cfg.Node + " back"
	live, gone, err := ns.ReviveNodeBindings(ctx, a.cfg.Node, keep,
		hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindRegistered, Reason: nodes.ReasonNodeBack, Detail: detail})
	if err != nil {
		return fmt.Errorf("nodes: revive bindings: %w", err)
	}
	a.reg.Drop(gone)
	if len(live)+len(gone) > 0 {
		a.log.Warn("node back after it was declared lost: its phones' bindings are live again unless they moved",
			"live", len(live), "dropped", len(gone))
	}
	seen := map[string]bool{}
	for _, b := range live {
		if !seen[b.Device] {
			seen[b.Device] = true
			a.bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: b.Device, Source: b.Source,
				Reason: nodes.ReasonNodeBack, Detail: detail, Time: now})
		}
	}
	return nil
}

// nodeInstance is the id of this data directory's node, created on first
// use: a node restarting from its data directory (one server per directory)
// takes its name back at once, while a process elsewhere with the same
// --node is refused as long as this one heartbeats.
func nodeInstance(dir string) (string, error) {
	path := filepath.Join(dir, "node-id")
	b, err := os.ReadFile(path)
	if id := strings.TrimSpace(string(b)); err == nil && id != "" {
		return id, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	buf := make([]byte, 12)
	rand.Read(buf)
	id := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}

// b2buaNodes is the roster for the B2BUA, nil with one node (a nil
// *nodes.Roster in the interface would not be nil).
func (a *App) b2buaNodes() b2bua.Nodes {
	if a.nodes == nil {
		return nil
	}
	return a.nodes
}

// fromNode hands an INVITE signed by another node (X-Hotdesk-Node) to the
// B2BUA, refuses one with a bad signature or from the wrong address (403),
// and reports whether it did either.
func (a *App) fromNode(req *sip.Request, tx sip.ServerTransaction) bool {
	if a.nodes == nil || req.GetHeader(nodes.Header) == nil {
		return false
	}
	node, err := a.nodes.Verify(req)
	if err != nil {
		a.log.Warn("sip: refused a request claiming to come from another node", "source", req.Source(), "err", err)
		res := sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
		if err := tx.Respond(res); err != nil {
			a.log.Debug("sip respond", "err", err)
		}
		return true
	}
	a.b2bua.HandleNodeInvite(req, tx, node)
	return true
}

// registrations shows every node's bindings to the API and console: this
// node's from the registrar's live table, the others' from the database
// (read at most every othersTTL for all devices, since lists ask per device).
func (a *App) registrations() interface {
	Contacts(device string) []hotdesk.Binding
} {
	if a.nodes == nil {
		return a.reg
	}
	return &allNodes{local: a.reg.Contacts, store: a.store, self: a.cfg.Node, now: a.now}
}

type allNodes struct {
	local func(device string) []hotdesk.Binding // the registrar's live table
	store hotdesk.BindingStore
	self  string
	now   hotdesk.Clock

	mu     sync.Mutex
	at     time.Time
	others map[string][]hotdesk.Binding
}

// othersTTL bounds how stale another node's registrations may show.
const othersTTL = 250 * time.Millisecond

func (n *allNodes) Contacts(device string) []hotdesk.Binding {
	out := n.local(device)
	for i := range out {
		out[i].Node = n.self
	}
	return append(out, n.othersOf(device)...)
}

func (n *allNodes) othersOf(device string) []hotdesk.Binding {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	if n.others == nil || now.Sub(n.at) >= othersTTL || now.Before(n.at) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		bs, err := n.store.ListBindings(ctx, now)
		if err == nil {
			m := map[string][]hotdesk.Binding{}
			for _, b := range bs {
				if b.Node != n.self {
					m[b.Device] = append(m[b.Device], b)
				}
			}
			n.others, n.at = m, now
		} else if n.others == nil {
			return nil
		}
	}
	var out []hotdesk.Binding
	for _, b := range n.others[device] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}
