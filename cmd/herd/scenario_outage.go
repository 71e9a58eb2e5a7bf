package main

import (
	"context"
	"fmt"
	"time"
)

const (
	outageStep    = 100 * time.Millisecond // outage: one read per client per step
	outageSteps   = 7                      // steps while the database is down
	recoverySteps = 6                      // steps after it is back
)

// outageScenario: the hot key expires as the database goes down; every client reads it once per step through the
// outage and after the database is back.
var outageScenario = &scenario{
	name: "outage",
	title: func(o *options) string {
		return fmt.Sprintf("DB OUTAGE: the hot key expires as the DB goes down for %v; %s read it every %v, "+
			"%d more steps after the DB is back", outageSteps*outageStep, procsClients(o.procs, o.clients), outageStep,
			recoverySteps)
	},
	steps:    outageSteps + recoverySteps,
	step:     outageStep,
	recovery: true,
	columns: []column{
		{"DB calls in outage", func(r implResult) string { return n(r.DBOutageCalls) }},
		recoveryColumn,
	},
	run: runOutage,
}

func runOutage(ctx context.Context, r *runner) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	if err := w.clock.advance(ctx, expiredAfter); err != nil {
		return err
	}
	w.db.update(key)
	w.db.setDown(true)
	reqs := r.everyClient(key)
	total := outageSteps + recoverySteps
	for s := range total {
		if s == outageSteps {
			w.db.setDown(false)
		}
		r.shuffle(reqs)
		w.db.timeline.setBucket(s)
		r.setStep(s+1, total)
		c, err := r.herd(ctx, reqs)
		if err != nil {
			return err
		}
		if s >= outageSteps && c.answered == c.sent {
			r.recovered(time.Duration(s-outageSteps) * outageStep)
		}
		if s < total-1 {
			if err := w.clock.advance(ctx, outageStep); err != nil {
				return err
			}
		}
	}
	return nil
}
