// Step 02 — singleflight. Lesson: steps/02-singleflight/README.md
//
// Build the flight group that Get uses on a miss (fill in protector.go calls g.do with p.load): while a load of a
// key is running in this process, every other caller of that key joins it instead of starting its own. Until you
// do, do runs fn once per caller, so 1000 concurrent misses are 1000 database queries.
//
// Do not just wrap golang.org/x/sync/singleflight: its Do ignores the waiter's context, and the leader's
// cancellation fails every waiter. The README explains why, and what to do instead.
//
// Check: go test ./steps/02-singleflight/

package day45

import "context"

// flightGroup runs at most one load per key at a time and shares its result with every caller that asks meanwhile.
// Each caller waits on its own context; the load itself runs detached from all of them.
type flightGroup struct {
	spawn  func(func()) bool // runs f on a goroutine that Close waits for; reports false, running nothing, after Close
	joined func()            // call it when a caller joins a load already in flight (it counts SingleFlightHits)

	// TODO(step 02): add what do needs to find the load in flight for a key: a sync.Mutex guarding a map from key to
	// one in-flight call (a done channel, closed after the call's *Data and error are written).
}

// newFlightGroup returns an empty group whose loads run on goroutines started by spawn.
func newFlightGroup(spawn func(func()) bool, joined func()) *flightGroup {
	return &flightGroup{spawn: spawn, joined: joined}
}

// do returns the result of fn(ctx, key), joining the load of key already in flight if there is one (then it calls
// g.joined before it waits). Each caller receives its own copy of the Data. When ctx ends first, do returns ctx.Err() and
// the load goes on for the others. After Close (spawn reports false) it returns ErrClosed.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context, string) (*Data, error)) (*Data, error) {
	// TODO(step 02): run fn once per key. The first caller registers the call in the map and starts fn in a
	// goroutine started with g.spawn, on context.WithoutCancel(ctx) (keeps ctx's values, drops its cancellation);
	// if spawn reports false, unregister and return ErrClosed. Later callers find the call, call g.joined()
	// and join it. Every caller then waits in a select on the call's done channel AND its own ctx.Done().
	// In the goroutine: recover a panic of fn into an error for all waiters, remove the key from the map, then
	// close done. Hand each caller a copy of the *Data, never the shared pointer.
	return fn(ctx, key)
}
