// Step 05 — stale-while-revalidate. Lesson: steps/05-swr/README.md
//
// Build GetStaleWhileRevalidate: a stale value is answered at once while one background refresh brings the key up
// to date. Until you do, it is plain Get, so every reader of a stale key waits for the database.
//
// Check: go test ./steps/05-swr/

package day45

import "context"

// GetStaleWhileRevalidate is Get for callers that prefer a slightly old answer now to a fresh one later. A fresh
// value is returned as Get would. A stale one is returned at once, and one background refresh of the key starts in
// this process (the distributed lock keeps it to one across processes). A missing one is loaded as Get would.
func (p *ThunderingHerdProtector) GetStaleWhileRevalidate(ctx context.Context, key string) (*Data, error) {
	// TODO(step 05): start like Get, with p.lookup(ctx, key) (it admits the call and counts the hit or miss).
	// Fresh: return it. Nothing cached: p.fill(ctx, key, nil). Stale: call p.metrics.staleReturn(), start a
	// background refresh of key unless p.refreshes says one is already running, and return the stale data at once.
	// The refresh: claim the key in p.refreshes; run on p.goBackground (so Close waits for it; release the claim if
	// it reports false); inside, call p.metrics.backgroundRefresh(), then p.load(context.Background(), key) — not
	// the caller's ctx, which ends with the request; release the claim when it ends.
	return p.Get(ctx, key)
}

// refreshSet is the set of keys being refreshed in the background. It is a field of ThunderingHerdProtector and is
// never constructed, so its zero value must be an empty, ready set that is safe for concurrent use.
type refreshSet struct {
	// TODO(step 05): a sync.Mutex and a set of keys (map[string]struct{}, created lazily). Add two methods: one that
	// adds a key and reports whether it was absent, one that removes it.
}
