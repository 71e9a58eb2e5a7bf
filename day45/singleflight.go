// Step 02 — singleflight. Lesson: steps/02-singleflight/README.md
//
// Build the flight group that Get uses on a miss (fill in protector.go calls g.do with p.load): while a load of a
// key is running in this process, every other caller of that key joins it instead of starting its own. Until you
// do, do runs fn once per caller, so 1000 concurrent misses are 1000 database queries.
//
// Use golang.org/x/sync/singleflight, the standard tool, and wrap it the way the lesson shows: its Do blocks a
// caller past its own deadline, a load on the first caller's ctx fails everyone when that caller leaves, and a
// panic inside DoChan's goroutine kills the process.
//
// Check: go test ./steps/02-singleflight/

package day45

import "context"

// flightGroup runs at most one load per key at a time and shares its result with every caller that asks meanwhile.
// Each caller waits on its own context; the load itself runs detached from all of them.
type flightGroup struct {
	work   *tasks // the protector's background work: a load runs between work.begin() and work.end(), so Close waits for it
	shared func() // call it for each caller served by a load whose function it did not run (it counts SingleFlightHits)

	// TODO(step 02): add a singleflight.Group (import "golang.org/x/sync/singleflight"). Its zero value is ready.
}

// newFlightGroup returns an empty group whose loads are tasks of work.
func newFlightGroup(work *tasks, shared func()) *flightGroup {
	return &flightGroup{work: work, shared: shared}
}

// do returns the result of fn(ctx, key), joining the load of key already in flight if there is one. Each caller
// receives its own copy of the Data. When ctx ends first, do returns ctx.Err() and the load goes on for the others.
// After Close (work.begin reports false) the load returns ErrClosed.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context, string) (*Data, error)) (*Data, error) {
	// TODO(step 02): call g.group.DoChan(key, f), not Do, and wait in a select on its channel AND ctx.Done().
	// In f, the function you hand DoChan (it runs on DoChan's own goroutine, once per key, not once per caller):
	//   - if !g.work.begin(), return ErrClosed; otherwise defer g.work.end();
	//   - recover a panic into an error, or it crashes the whole process;
	//   - call fn on context.WithoutCancel(ctx), not on ctx: ctx belongs to the first caller only;
	//   - return an error when fn returns neither data nor an error.
	// Set a flag in f to know whether your own f ran; a caller whose f did not run calls g.shared() when its
	// result arrives. Hand each caller a copy of the *Data (d := *v.(*Data); return &d), never the shared pointer.
	return fn(ctx, key)
}
