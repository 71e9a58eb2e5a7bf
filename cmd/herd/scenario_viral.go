package main

import (
	"context"
	"fmt"
)

// viralFanout is how many keys each client asks for at once: a page that shows that many items.
const viralFanout = 2

// viralScenario is the seed's viral incident: a link shared everywhere sends every client of every process to
// pages nobody has read before, so every key is cold and distinct. Singleflight and the lock have nothing to
// coalesce; only the bulkhead (MaxConcurrentLoads) stands between the burst and the database.
var viralScenario = &scenario{
	name: "viral",
	title: func(o *options) string {
		return fmt.Sprintf("VIRAL: %s each Get %d cold keys at once, %d distinct keys (DB %s, pool %d; protectors' "+
			"bulkhead %d loads per process)", procsClients(o.procs, o.clients), viralFanout,
			o.procs*o.clients*viralFanout, o.dbLatency, o.dbPool, o.bulkheadSize())
	},
	realTime: true,
	bulkhead: true,
	columns:  []column{{"shed", func(r implResult) string { return n(r.ErrorKinds["overloaded"]) }}},
	run:      runViral,
}

// runViral sends one request per cold key, all at once, spread evenly over the processes.
func runViral(ctx context.Context, r *runner) error {
	keys := make([]string, r.o.procs*r.o.clients*viralFanout)
	for i := range keys {
		keys[i] = fmt.Sprintf("viral:%06d", i)
	}
	r.w.db.create(keys)
	reqs := make([]request, len(keys))
	for i, k := range keys {
		reqs[i] = request{proc: i % r.o.procs, key: k}
	}
	r.shuffle(reqs)
	r.w.db.timeline.startClock(r.o.bucketWidth())
	r.setStep(1, 1)
	_, err := r.herdOf(ctx, reqs, len(reqs))
	return err
}
