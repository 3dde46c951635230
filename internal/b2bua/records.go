package b2bua

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// RFC 4235 directions presence shows on a BLF lamp.
const (
	dirInitiator = "initiator"
	dirRecipient = "recipient"
)

// start writes the caller's record, publishes call_trying for both users
// and records the caller's activity on the desk. Records are per user, not
// per device; the callee's is written once the answering device is known
// (at the answer, or at the end), because UpdateCall keeps the device.
func (c *call) start() {
	now := c.since
	if c.caller.Ext != "" {
		c.recs = append(c.recs, &hotdesk.CallRecord{CallID: c.id, Extension: c.caller.Ext, Direction: hotdesk.DirectionOutbound,
			Peer: c.dialled, Device: c.caller.Device, Start: now, Result: hotdesk.ResultFailed, Emergency: c.emerg})
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		defer cancel()
		if err := c.b.o.Store.CreateCall(ctx, c.recs[0]); err != nil {
			c.log.Warn("b2bua: create call record", "extension", c.caller.Ext, "err", err)
		}
	}
	c.b.deviceBusy(c.caller.Device, 1)
	if c.caller.Ext != "" {
		c.b.touch(c.caller.Device)
	}
	c.publish(events.KindCallTrying)
}

// calleeRecord writes the callee's inbound record, once.
func (c *call) calleeRecord(ctx context.Context, now time.Time) {
	if c.callee.Ext == "" || c.calleeRec {
		return
	}
	c.calleeRec = true
	r := &hotdesk.CallRecord{CallID: c.id, Extension: c.callee.Ext, Direction: hotdesk.DirectionInbound,
		Peer: c.caller.Number, Device: c.callee.Device, Start: c.since, Result: c.result}
	if c.result == hotdesk.ResultAnswered {
		r.Answer = &now
	}
	if err := c.b.o.Store.CreateCall(ctx, r); err != nil {
		c.log.Warn("b2bua: create call record", "extension", c.callee.Ext, "err", err)
	}
	c.recs = append(c.recs, r)
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
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	for _, r := range c.recs {
		r.Answer = &now
		r.Result = hotdesk.ResultAnswered
		if r.ID == 0 {
			continue
		}
		if err := c.b.o.Store.UpdateCall(ctx, r); err != nil {
			c.log.Warn("b2bua: update call record", "extension", r.Extension, "err", err)
		}
	}
	c.calleeRecord(ctx, now)
	if l.device != "" {
		c.b.deviceBusy(l.device, 1)
		if c.callee.Ext != "" {
			c.b.touch(l.device)
		}
	}
	c.publish(events.KindCallConfirmed)
}

// finish closes the records with the call's result and publishes
// call_terminated.
func (c *call) finish() {
	now := c.b.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	c.calleeRecord(ctx, now)
	for _, r := range c.recs {
		r.End = &now
		if r.Answer == nil || c.result == hotdesk.ResultNoMedia {
			r.Result = c.result
		}
		if r.ID == 0 {
			continue // creating it failed and was logged
		}
		if err := c.b.o.Store.UpdateCall(ctx, r); err != nil {
			c.log.Warn("b2bua: update call record", "extension", r.Extension, "err", err)
		}
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
