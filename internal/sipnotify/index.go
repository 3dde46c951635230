package sipnotify

import (
	"iter"
	"maps"
)

// Index groups a notifier's subscriptions by what it looks them up by
// (mwi: the device, presence: the watched extension), a key's set gone
// with its last subscription. The zero value is empty and ready; the
// notifier's lock guards it.
type Index[S comparable] struct{ m map[string]map[S]struct{} }

// Add files s under key.
func (x *Index[S]) Add(key string, s S) {
	if x.m == nil {
		x.m = map[string]map[S]struct{}{}
	}
	if x.m[key] == nil {
		x.m[key] = map[S]struct{}{}
	}
	x.m[key][s] = struct{}{}
}

// Remove takes s from under key.
func (x *Index[S]) Remove(key string, s S) {
	if set := x.m[key]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(x.m, key)
		}
	}
}

// Len is how many subscriptions key has.
func (x *Index[S]) Len(key string) int { return len(x.m[key]) }

// All yields key's subscriptions (in no order).
func (x *Index[S]) All(key string) iter.Seq[S] { return maps.Keys(x.m[key]) }
