// Step 09 (advanced) — load shedding. Lesson: steps/09-shedding/README.md
//
// Build the shedder: a bulkhead on the database loads this process runs at once, across keys, and a cap on the
// callers that wait for one key's load. When a cap is hit the call fails at once with ErrOverloaded (fill in
// protector.go serves the stale value instead when there is one) rather than queue behind work that cannot finish
// in time. Until you do, nothing is ever refused: a burst of a thousand cold keys is a thousand queries in the
// database at once, and every caller waits for its turn until its deadline.
//
// Check: go test ./steps/09-shedding/

package day45

// shedder holds the two caps of one protector: Config.MaxConcurrentLoads and Config.MaxWaitersPerKey.
// protector.go calls join and leave around each caller's wait for a shared load (share), and startLoad and endLoad
// around each load, from before its lock to its write-back (load, loadAndStore). They run concurrently from many
// goroutines.
type shedder struct {
	// TODO(step 09): the bulkhead, a *semaphore.Weighted (import "golang.org/x/sync/semaphore"), nil when there is
	// no cap; the waiter cap; and the number of waiting callers per key, a map guarded by a sync.Mutex.
}

// newShedder returns the caps of MaxConcurrentLoads (maxLoads) and MaxWaitersPerKey (maxWaiters); 0 means no cap.
func newShedder(maxLoads, maxWaiters int) *shedder {
	// TODO(step 09): semaphore.NewWeighted(int64(maxLoads)) only when maxLoads > 0. 0 is "no cap", not "no loads".
	_, _ = maxLoads, maxWaiters
	return &shedder{}
}

// join counts one more caller waiting for the load of key and reports true, or reports false, counting nothing,
// when maxWaiters callers already wait. Each join that reports true is followed by one leave.
func (s *shedder) join(key string) bool {
	// TODO(step 09): with no cap, return true without taking the mutex. Otherwise, under the mutex, refuse when the
	// key's count has reached the cap, else add one. The check and the add must be under the same Lock: two
	// callers that both read "cap − 1" would both get in.
	_ = key
	return true
}

// leave ends a join.
func (s *shedder) leave(key string) {
	// TODO(step 09): take one off the key's count, and delete the key when it reaches 0: the map must hold only the
	// keys being loaded now, or it grows with every key ever missed.
	_ = key
}

// startLoad takes a slot of the bulkhead and reports true, or reports false at once when every slot is taken.
// Each startLoad that reports true is followed by one endLoad.
func (s *shedder) startLoad() bool {
	// TODO(step 09): TryAcquire(1), not Acquire: a load that queued for a slot would reach the database after its
	// callers had given up. True when there is no cap.
	return true
}

// endLoad frees the slot of a load that startLoad admitted.
func (s *shedder) endLoad() {
	// TODO(step 09): Release(1) when there is a cap.
}
