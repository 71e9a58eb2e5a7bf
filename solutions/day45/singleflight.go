package day45

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// flightGroup runs at most one load per key at a time and shares its result with every caller that asks meanwhile.
//
// Unlike golang.org/x/sync/singleflight.Group.Do, each caller waits on its own context: a caller whose ctx ends
// leaves at once, and the load goes on, on a context detached from all callers, for the others. So the first
// caller's cancellation never fails the rest, and a slow database never holds a caller past its deadline.
type flightGroup struct {
	spawn  func(func()) bool // runs a load on an owned goroutine; false once the owner is closed
	joined func()            // called when a caller joins a load in flight (SingleFlightHits), before it waits

	mu    sync.Mutex
	calls map[string]*flight
}

// flight is one load in progress. data and err are written before done is closed.
type flight struct {
	done chan struct{}
	data *Data
	err  error
}

func newFlightGroup(spawn func(func()) bool, joined func()) *flightGroup {
	return &flightGroup{spawn: spawn, joined: joined}
}

// do returns the result of fn(ctx, key), joining the load of key already in flight if there is one. Each caller
// receives its own copy of the Data. When ctx ends first, do returns ctx.Err(); after Close, ErrClosed.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context, string) (*Data, error)) (*Data, error) {
	g.mu.Lock()
	f, shared := g.calls[key]
	if shared {
		g.joined()
	} else {
		f = &flight{done: make(chan struct{})}
		if g.calls == nil {
			g.calls = make(map[string]*flight)
		}
		g.calls[key] = f
		loadCtx := context.WithoutCancel(ctx) // keeps ctx's values, drops its deadline and cancellation
		if !g.spawn(func() { g.run(loadCtx, key, f, fn) }) {
			delete(g.calls, key)
			g.mu.Unlock()
			return nil, ErrClosed
		}
	}
	g.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		c := *f.data // a caller that mutates its Data must not change the others'
		return &c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run executes fn and publishes its result. A panic becomes the error of every waiter instead of killing the
// process: the load runs on its own goroutine, where no caller could recover it.
func (g *flightGroup) run(ctx context.Context, key string, f *flight, fn func(context.Context, string) (*Data, error)) {
	defer func() {
		if r := recover(); r != nil {
			f.data, f.err = nil, fmt.Errorf("day45: load of %q panicked: %v\n%s", key, r, debug.Stack())
		} else if f.err == nil && f.data == nil {
			f.err = fmt.Errorf("day45: load of %q returned no data", key)
		}
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(f.done)
	}()
	f.data, f.err = fn(ctx, key)
}
