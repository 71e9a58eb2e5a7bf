package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

const expiryStep = 50 * time.Millisecond // mass expiry: one read of every key per step

// Mass expiry reads every key once per step, from just before the earliest jittered expiry to just after the latest.
var (
	expiryFrom  = time.Duration(float64(simTTL)*(1-simJitter)) - 2*expiryStep
	expiryTo    = time.Duration(float64(simTTL)*(1+simJitter)) + 3*expiryStep
	expirySteps = int((expiryTo-expiryFrom)/expiryStep) + 1
)

// expiryScenario: K keys written at once with one TTL, then every key read once per step across the expiry window.
var expiryScenario = &scenario{
	name: "expiry",
	title: func(o *options) string {
		return fmt.Sprintf("MASS EXPIRY: %s written at once with TTL %v, each read once per %v step from %v to %v "+
			"(protectors jitter TTLs ±%.0f%%)", plural(o.keys, "key", "keys"), simTTL, expiryStep, expiryFrom, expiryTo, simJitter*100)
	},
	steps:   expirySteps,
	step:    expiryStep,
	columns: []column{{"peak/step", func(r implResult) string { return n(r.DBPeakPerBucket) }}},
	run:     runExpiry,
}

func runExpiry(ctx context.Context, r *runner) error {
	w := r.w
	keys := make([]string, r.o.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%05d", i)
	}
	recs := w.db.create(keys)
	if err := writeAll(ctx, w, recs); err != nil {
		return err
	}
	if err := w.clock.advance(ctx, expiryFrom-expiryStep); err != nil {
		return err
	}
	reqs := make([]request, len(keys))
	for s := range expirySteps {
		if err := w.clock.advance(ctx, expiryStep); err != nil {
			return err
		}
		for i, k := range keys {
			reqs[i] = request{proc: r.rng.IntN(r.o.procs), key: k}
		}
		r.shuffle(reqs)
		w.db.timeline.setBucket(s)
		r.setStep(s+1, expirySteps)
		if _, err := r.herd(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}

// writeAll writes recs with one TTL, each process writing its share at the same (simulated) moment. The first
// failure stops the other writers.
func writeAll(ctx context.Context, w *world, recs []record) error {
	g, ctx := errgroup.WithContext(ctx)
	for p, proc := range w.procs {
		g.Go(func() error {
			for i := p; i < len(recs); i += len(w.procs) {
				if err := proc.Set(ctx, recs[i].Key, recs[i], simTTL); err != nil {
					return fmt.Errorf("writing %s: %w", recs[i].Key, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
