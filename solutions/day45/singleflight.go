package day45

import (
	"context"
	"fmt"
	"runtime/debug"

	"golang.org/x/sync/singleflight"
)

// flightGroup coalesces the loads of a key in this process on golang.org/x/sync/singleflight, and adds what
// singleflight leaves to its caller:
//
//   - Each caller waits on its own ctx. Group.Do blocks until the load ends, whatever the caller's deadline;
//     DoChan returns a channel, and each caller selects on it and on its own ctx.Done().
//   - The load runs on context.WithoutCancel of the first caller's ctx (its values, not its cancellation), bounded
//     by the load's own budgets, so the first caller's cancellation never fails the others.
//   - A panic in the load becomes an error for every caller. DoChan re-panics on its own goroutine, where nobody
//     can recover it, and the process dies: so the function handed to DoChan recovers.
//   - Each caller gets its own copy of the Data: DoChan hands every caller the same pointer.
//   - A load runs as a task of the protector, so Close waits for it; after Close, a load fails with ErrClosed.
//
// Forget is never called. DoChan removes a key before it delivers the result, so a caller that comes after a load
// finished or failed starts a new one (a failure is not cached), and a load in flight is never abandoned: its
// callers leave on their own ctx while it goes on for the others.
type flightGroup struct {
	group  singleflight.Group
	work   *tasks // the protector's background work, which Close waits for
	shared func() // called for each caller served by a load it did not run (SingleFlightHits)
}

func newFlightGroup(work *tasks, shared func()) *flightGroup {
	return &flightGroup{work: work, shared: shared}
}

// do returns the result of fn(ctx, key), joining the load of key already in flight if there is one. When ctx ends
// first, do returns ctx.Err() and the load goes on for the others.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context, string) (*Data, error)) (*Data, error) {
	loadCtx := context.WithoutCancel(ctx)
	ran := false // set by our function if DoChan runs it; read only after the result, which DoChan sends after fn
	ch := g.group.DoChan(key, func() (any, error) {
		ran = true
		return g.run(loadCtx, key, fn)
	})
	select {
	case r := <-ch:
		if !ran {
			g.shared()
		}
		if r.Err != nil {
			return nil, r.Err
		}
		d := *r.Val.(*Data) // run returns a non-nil *Data whenever the error is nil
		return &d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run is the load that DoChan runs on its own goroutine.
func (g *flightGroup) run(ctx context.Context, key string, fn func(context.Context, string) (*Data, error)) (v any, err error) {
	if !g.work.begin() {
		return nil, ErrClosed
	}
	defer g.work.end()
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("day45: load of %q panicked: %v\n%s", key, r, debug.Stack())
		}
	}()
	d, err := fn(ctx, key)
	switch {
	case err != nil:
		return nil, err
	case d == nil:
		return nil, fmt.Errorf("day45: load of %q returned no data", key)
	}
	return d, nil
}
