package main

import (
	"context"
	"fmt"
	"time"
)

const (
	redisStep        = 500 * time.Millisecond // redis-outage: one read per client per step
	redisWarmSteps   = 1                      // redis-outage: steps before Redis freezes
	redisFrozenSteps = 4                      // redis-outage: steps while it is frozen (two cache cool-downs)
	redisHealedSteps = 2                      // redis-outage: steps after it is healed
)

// redisOutageSteps is the length of the redis-outage scenario.
const redisOutageSteps = redisWarmSteps + redisFrozenSteps + redisHealedSteps

// redisOutageScenario: the hot key is read once per client per step: with Redis healthy, then frozen (blackholed by
// the proxy: connections accepted, never answered) while the key expires and its data changes, then healed.
var redisOutageScenario = &scenario{
	name: "redis-outage",
	title: func(o *options) string {
		return fmt.Sprintf("REDIS OUTAGE: %s read the hot key every %v; Redis freezes (accepts, never answers) for %v "+
			"as the key expires, then heals for %d more steps", procsClients(o.procs, o.clients), redisStep,
			redisFrozenSteps*redisStep, redisHealedSteps)
	},
	steps:    redisOutageSteps,
	step:     redisStep,
	proxy:    true,
	recovery: true,
	columns: []column{
		{"DB calls in freeze", func(r implResult) string { return n(r.DBOutageCalls) }},
		{"frozen p99", func(r implResult) string { return frozenMs(r, func(l latencyMs) float64 { return l.P99 }) }},
		{"frozen max", func(r implResult) string { return frozenMs(r, func(l latencyMs) float64 { return l.Max }) }},
		recoveryColumn,
	},
	run:    runRedisOutage,
	finish: fillFrozen,
}

func runRedisOutage(ctx context.Context, r *runner) error {
	const key = "hot"
	w := r.w
	rec := w.db.create([]string{key})[0]
	if err := w.procs[0].Set(ctx, key, rec, simTTL); err != nil {
		return fmt.Errorf("writing the hot key: %w", err)
	}
	reqs := r.everyClient(key)
	healed := redisWarmSteps + redisFrozenSteps
	for s := range redisOutageSteps {
		advance := redisStep
		switch s {
		case 0:
			advance = 0
		case redisWarmSteps: // the key expires while Redis is frozen, and its data changes
			if err := w.setFrozen(ctx, true); err != nil {
				return err
			}
			r.markFrozen()
			advance = expiredAfter
			w.db.update(key)
		case healed:
			if err := w.setFrozen(ctx, false); err != nil {
				return err
			}
			r.markFrozen()
		}
		if err := w.clock.advance(ctx, advance); err != nil {
			return err
		}
		c, err := r.runStep(ctx, reqs, s, redisOutageSteps)
		if err != nil {
			return err
		}
		if s >= healed && c.answered == c.sent && w.db.timeline.calls[s].Load() == 0 {
			r.recovered(time.Duration(s-healed) * redisStep)
		}
	}
	return nil
}

// markFrozen marks where the latencies of the frozen steps begin, then where they end.
func (r *runner) markFrozen() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozenFrom < 0 {
		r.frozenFrom = len(r.lats)
	} else {
		r.frozenTo = len(r.lats)
	}
}

// fillFrozen adds the latency of the frozen steps, and counts the DB calls made in them as the outage's. Call with
// r.mu held.
func fillFrozen(res *implResult, r *runner) {
	from, to := r.frozenFrom, r.frozenTo
	if from < 0 {
		from = len(r.lats)
	}
	if to < from {
		to = len(r.lats) // abandoned while frozen
	}
	l := latencyOf(r.lats[from:to])
	res.FrozenLatencyMs = &l
	res.DBOutageCalls = 0
	for s := redisWarmSteps; s < redisWarmSteps+redisFrozenSteps && s < len(res.CallsTimeline); s++ {
		res.DBOutageCalls += res.CallsTimeline[s]
	}
}

// frozenMs prints one of the frozen latencies, "-" when there are none.
func frozenMs(r implResult, pick func(latencyMs) float64) string {
	if r.FrozenLatencyMs == nil {
		return "-"
	}
	return fmtMs(pick(*r.FrozenLatencyMs))
}
