package b2bua

import (
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// RFC 4235 directions presence shows on a BLF lamp.
const (
	dirInitiator = "initiator"
	dirRecipient = "recipient"
)

// callRec is one of a call's records and its row.
type callRec struct {
	hotdesk.CallRecord
	slot recSlot
}

// start writes the caller's record, publishes call_trying for both users
// and records the caller's activity on the desk. Records are per user, not
// per device; the callee's is written once the answering device is known
// (at the answer, or at the end), because UpdateCall keeps the device.
// Records are written behind the call (recorder): the call does not wait
// for them until it ends.
func (c *call) start() {
	if c.caller.Ext != "" {
		c.addRecord(hotdesk.CallRecord{CallID: c.id, Extension: c.caller.Ext, Direction: hotdesk.DirectionOutbound,
			Peer: c.dialled, Device: c.caller.Device, Start: c.since, Result: hotdesk.ResultFailed, Emergency: c.emerg})
	}
	c.b.deviceBusy(c.caller.Device, 1)
	if c.caller.Ext != "" {
		c.b.touch(c.caller.Device)
	}
	c.publish(events.KindCallTrying)
}

// addRecord adds and queues a record of the call.
func (c *call) addRecord(r hotdesk.CallRecord) {
	rec := &callRec{CallRecord: r}
	c.recs = append(c.recs, rec)
	c.b.rec.put(&rec.slot, &rec.CallRecord, nil)
}

// calleeRecord writes the callee's inbound record, once.
func (c *call) calleeRecord(now time.Time) {
	if c.callee.Ext == "" || c.calleeRec {
		return
	}
	c.calleeRec = true
	r := hotdesk.CallRecord{CallID: c.id, Extension: c.callee.Ext, Direction: hotdesk.DirectionInbound,
		Peer: c.caller.Number, Device: c.callee.Device, Start: c.since, Result: c.result}
	if c.result == hotdesk.ResultAnswered {
		r.Answer = &now
	}
	c.addRecord(r)
}

// answered records the answer by l's device.
func (c *call) answered(l *leg) {
	now := c.b.o.Now()
	c.mu.Lock()
	c.answerDev = l.device
	c.state = StateConfirmed
	c.mu.Unlock()
	c.callee.Device = l.device
	c.result = hotdesk.ResultAnswered
	for _, r := range c.recs {
		r.Answer = &now
		r.Result = hotdesk.ResultAnswered
		c.b.rec.put(&r.slot, &r.CallRecord, nil)
	}
	c.calleeRecord(now)
	if l.device != "" {
		c.b.deviceBusy(l.device, 1)
		if c.callee.Ext != "" {
			c.b.touch(l.device)
		}
	}
	c.publish(events.KindCallConfirmed)
}

// finish closes the records with the call's result, waits until they are
// written and publishes call_terminated.
func (c *call) finish() {
	now := c.b.o.Now()
	c.calleeRecord(now)
	done := make(chan struct{})
	for i, r := range c.recs {
		r.End = &now
		if r.Answer == nil || c.result == hotdesk.ResultNoMedia {
			r.Result = c.result
		}
		var written chan struct{}
		if i == len(c.recs)-1 {
			written = done // a flush writes all that queued before
		}
		c.b.rec.put(&r.slot, &r.CallRecord, written)
	}
	if len(c.recs) > 0 {
		t := time.NewTimer(2 * writeTimeout)
		select {
		case <-done:
		case <-t.C:
			c.log.Warn("b2bua: call records not written in time")
		}
		t.Stop()
	}
	if c.emerg && c.result != hotdesk.ResultAnswered {
		c.log.Error("b2bua: EMERGENCY CALL NOT CONNECTED", "device", c.caller.Device, "extension", c.caller.Ext, "result", c.result)
	}
	c.publish(events.KindCallTerminated)
	c.b.deviceBusy(c.caller.Device, -1)
	c.b.deviceBusy(c.answerDev, -1)
}

// publish sends kind for each user of the call.
func (c *call) publish(kind string) {
	if kind == events.KindCallEarly {
		c.setState(StateEarly)
	}
	if c.caller.Ext != "" {
		c.b.publish(events.Event{Kind: kind, Extension: c.caller.Ext, Device: c.caller.Device, CallID: c.id,
			Direction: dirInitiator, Peer: c.dialled})
	}
	if c.callee.Ext != "" {
		c.b.publish(events.Event{Kind: kind, Extension: c.callee.Ext, Device: c.callee.Device, CallID: c.id,
			Direction: dirRecipient, Peer: c.caller.Number})
	}
}
