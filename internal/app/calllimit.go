package app

import (
	"log/slog"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
)

// deviceCalls counts each device's calls in progress at the one place every
// call from a device enters (onInvite: feature codes and B2BUA calls alike,
// whose handlers own the call until it ends), so one phone cannot take
// every RTP port: Settings.Limits.CallsPerDevice at once, more get 486.
// Emergency numbers are never refused.
type deviceCalls struct {
	mu sync.Mutex
	n  map[string]int
}

func newDeviceCalls() *deviceCalls { return &deviceCalls{n: make(map[string]int)} }

// acquire takes one of device's max call slots; release gives it back.
func (d *deviceCalls) acquire(device string, max int) (release func(), ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n[device] >= max {
		return nil, false
	}
	d.n[device]++
	return sync.OnceFunc(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.n[device]--; d.n[device] <= 0 {
			delete(d.n, device)
		}
	}), true
}

// admitCall takes a call slot for dev's INVITE, or answers 486 and returns
// false. An emergency call always gets through (and holds no slot).
func (d *deviceCalls) admitCall(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device, st hotdesk.Settings, log *slog.Logger) (func(), bool) {
	if b2bua.IsEmergency(b2bua.Dialled(req.Recipient.User), st) {
		return func() {}, true
	}
	max := st.Limits.CallsPerDevice
	if max <= 0 {
		max = hotdesk.DefaultSettings().Limits.CallsPerDevice
	}
	release, ok := d.acquire(dev.ID, max)
	if ok {
		return release, true
	}
	log.Info("sip call refused: device call limit", "device", dev.ID, "limit", max, "source", req.Source())
	res := sip.NewResponseFromRequest(req, sip.StatusBusyHere, "Busy Here", nil)
	if err := tx.Respond(res); err != nil {
		log.Debug("sip respond", "status", sip.StatusBusyHere, "error", err)
	}
	return nil, false
}
