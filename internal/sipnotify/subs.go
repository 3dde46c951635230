package sipnotify

import (
	"iter"
	"maps"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Sub is what Subs holds: a notifier's subscription, which embeds its
// Dialog.
type Sub interface {
	comparable
	dialog() *Dialog
}

func (d *Dialog) dialog() *Dialog { return d }

// Dialogs is where a subscription's dialog is routed to its notifier
// (*signaling.Server).
type Dialogs interface {
	AddDialog(callID string, h signaling.DialogHandler)
	RemoveDialog(callID string)
}

// Subs is a notifier's live subscriptions: by Call-ID, each a dialog the
// SIP server routes to the notifier, and filed by key in an Index (mwi:
// the device, presence: the watched extension). The zero value is empty
// and ready; the notifier's lock guards it.
type Subs[S Sub] struct {
	byCallID map[string]S
	byKey    Index[S]
}

// Get returns the subscription of callID and its dialog; d is nil when
// there is none.
func (x *Subs[S]) Get(callID string) (s S, d *Dialog) {
	s, ok := x.byCallID[callID]
	if !ok {
		return s, nil
	}
	return s, s.dialog()
}

// Add files s under key and routes its dialog to h through dialogs; the
// caller has removed any other subscription of its Call-ID.
func (x *Subs[S]) Add(key string, s S, dialogs Dialogs, h signaling.DialogHandler) {
	if x.byCallID == nil {
		x.byCallID = map[string]S{}
	}
	id := s.dialog().CallID
	x.byCallID[id] = s
	x.byKey.Add(key, s)
	dialogs.AddDialog(id, h)
}

// Remove takes s, filed under key, out and stops routing its dialog; it
// reports false, doing nothing, when s is not the subscription of its
// Call-ID (one that replaced it is).
func (x *Subs[S]) Remove(key string, s S, dialogs Dialogs) bool {
	id := s.dialog().CallID
	if cur, ok := x.byCallID[id]; !ok || cur != s {
		return false
	}
	delete(x.byCallID, id)
	x.byKey.Remove(key, s)
	dialogs.RemoveDialog(id)
	return true
}

// Len is how many subscriptions there are.
func (x *Subs[S]) Len() int { return len(x.byCallID) }

// All yields every subscription (in no order).
func (x *Subs[S]) All() iter.Seq[S] { return maps.Values(x.byCallID) }

// Under yields the subscriptions filed under key (in no order).
func (x *Subs[S]) Under(key string) iter.Seq[S] { return x.byKey.All(key) }

// LenUnder is how many subscriptions are filed under key.
func (x *Subs[S]) LenUnder(key string) int { return x.byKey.Len(key) }
