package day45

import (
	"sync"

	"golang.org/x/sync/semaphore"
)

// Load shedding (step 09): two caps that refuse work at once instead of queueing it behind work that cannot finish
// in time. The bulkhead bounds the loads of this process across keys, so that a burst of cold keys cannot hold more
// queries in the database than it answers before the callers' deadlines, nor spend Redis round trips on loads it
// will refuse; the waiter cap bounds the callers parked on one key's load. A refused caller gets ErrOverloaded, or the stale value when there is one
// (fill), and retries later with backoff.

// shedder holds the two caps of one protector. Its methods are called only on a miss, never on a hit.
type shedder struct {
	loads      *semaphore.Weighted // one unit per running database load; nil when there is no cap
	maxWaiters int                 // 0 when there is no cap

	mu      sync.Mutex
	waiters map[string]int // callers in fill per key; a key leaves the map with its last caller
}

// newShedder returns the caps of MaxConcurrentLoads and MaxWaitersPerKey; 0 means no cap.
func newShedder(maxLoads, maxWaiters int) *shedder {
	s := &shedder{maxWaiters: maxWaiters}
	if maxLoads > 0 {
		s.loads = semaphore.NewWeighted(int64(maxLoads))
	}
	return s
}

// join counts one more caller waiting for the load of key and reports true, or reports false, counting nothing,
// when maxWaiters callers already wait. Each join that reports true is followed by one leave.
func (s *shedder) join(key string) bool {
	if s.maxWaiters <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiters[key] >= s.maxWaiters {
		return false
	}
	if s.waiters == nil {
		s.waiters = make(map[string]int)
	}
	s.waiters[key]++
	return true
}

// leave ends a join. The last caller of a key removes it: the map holds only the keys being loaded now, not every
// key ever missed.
func (s *shedder) leave(key string) {
	if s.maxWaiters <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.waiters[key] - 1; n > 0 {
		s.waiters[key] = n
	} else {
		delete(s.waiters, key)
	}
}

// startLoad takes a slot of the bulkhead and reports true, or reports false at once when every slot is taken.
// TryAcquire, not Acquire: a load that queued for a slot would reach the database after its callers had left, and
// the queue itself would grow without bound in a burst. Each startLoad that reports true is followed by one endLoad.
func (s *shedder) startLoad() bool { return s.loads == nil || s.loads.TryAcquire(1) }

// endLoad frees the slot of a load that startLoad admitted.
func (s *shedder) endLoad() {
	if s.loads != nil {
		s.loads.Release(1)
	}
}
