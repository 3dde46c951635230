package b2bua

// PartiesWatching reports whether b's party cache follows the event bus.
func PartiesWatching(b *B2BUA) bool {
	b.cache.mu.Lock()
	defer b.cache.mu.Unlock()
	return b.cache.watching
}

// PartyFetches is how many INVITEs read their parties from the store.
func PartyFetches(b *B2BUA) int64 { return b.cache.fetches.Load() }
