package b2bua

import "context"

// trunkRegState is the trunk registration's state (step d of issue 4: not
// yet built; providers that authenticate by source address work already).
type trunkRegState struct{}

// registerLoop will keep the trunk registered; for now it only waits.
func (b *B2BUA) registerLoop(ctx context.Context) { <-ctx.Done() }
