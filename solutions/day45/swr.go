package day45

import (
	"context"
	"sync"
)

// GetStaleWhileRevalidate is Get for callers that prefer a slightly old answer now to a fresh one later. A fresh
// value is returned as Get would. A stale one is returned at once, and one background refresh of the key starts in
// this process (the distributed lock keeps it to one across processes). A missing one is loaded as Get would.
func (p *ThunderingHerdProtector) GetStaleWhileRevalidate(ctx context.Context, key string) (*Data, error) {
	cached, fresh, err := p.lookup(ctx, key)
	if err != nil || fresh {
		return cached, err
	}
	if cached == nil {
		return p.fill(ctx, key, nil)
	}
	p.metrics.staleReturn()
	p.revalidate(key)
	return cached, nil
}

// revalidate starts a background refresh of key unless one is already running in this process. Close waits for it.
// The refresh takes the key's distributed lock like any load, so a Get that misses meanwhile waits for its value
// instead of loading again.
func (p *ThunderingHerdProtector) revalidate(key string) {
	p.inBackground(key, func() {
		p.metrics.backgroundRefresh()
		// No caller waits for this: its context is not the caller's, which ends with the request, and its failure
		// shows only in the metrics.
		_, _ = p.load(context.Background(), key)
	})
}

// inBackground runs refresh of key on a goroutine that Close waits for, unless a refresh of key already runs in
// this process: stale reads (revalidate) and early recomputation (refreshAhead) share the claim.
func (p *ThunderingHerdProtector) inBackground(key string, refresh func()) {
	if !p.refreshes.begin(key) {
		return
	}
	if !p.goBackground(func() { defer p.refreshes.end(key); refresh() }) {
		p.refreshes.end(key)
	}
}

// refreshSet is the set of keys being refreshed in the background. The zero value is empty and ready.
type refreshSet struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// begin adds key and reports whether it was absent.
func (s *refreshSet) begin(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, running := s.keys[key]; running {
		return false
	}
	if s.keys == nil {
		s.keys = make(map[string]struct{})
	}
	s.keys[key] = struct{}{}
	return true
}

func (s *refreshSet) end(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}
