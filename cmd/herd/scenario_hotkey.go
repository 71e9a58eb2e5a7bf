package main

import (
	"context"
	"fmt"
)

// hotKeyScenario: one key has just expired, and P processes × N goroutines Get it at once.
var hotKeyScenario = &scenario{
	name: "hotkey",
	title: func(o *options) string {
		return fmt.Sprintf("HOT KEY: %s Get one key the moment it expires (DB %s, pool %d)",
			procsClients(o.procs, o.clients), o.dbLatency, o.dbPool)
	},
	realTime: true,
	oneLoad:  true,
	run:      func(ctx context.Context, r *runner) error { return burst(ctx, r, false) },
}

// burst is the hot key's moment: the key has just expired (and its data changed), and every client of every process
// reads it at once, with Get or with GetStaleWhileRevalidate (swr).
func burst(ctx context.Context, r *runner, swr bool) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	// Past the TTL of every implementation, jitter included. The data changed meanwhile: that is why the cached copy
	// is stale, and an answer of the old version counts as stale.
	if err := w.clock.advance(ctx, expiredAfter); err != nil {
		return err
	}
	w.db.update(key)
	reqs := make([]request, 0, r.o.procs*r.o.clients)
	for p := range r.o.procs {
		for range r.o.clients {
			reqs = append(reqs, request{proc: p, key: key, swr: swr})
		}
	}
	r.shuffle(reqs)
	w.db.timeline.startClock(r.o.bucketWidth())
	r.setStep(1, 1)
	_, err := r.herd(ctx, reqs)
	return err
}
