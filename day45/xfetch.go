// Step 07 (advanced) — early recomputation (XFetch). Lesson: steps/07-xfetch/README.md
//
// Build refreshEarly: a hit that draws it refreshes the value in the background before it expires, so that a key
// read all the time never misses. Until you do, every reader of a hot key misses once its value expires.
//
// Check: go test ./steps/07-xfetch/

package day45

import "time"

// refreshEarly starts a background refresh of key when the draw of a hit on e at now says so. Lookup calls it on
// every fresh hit, so it must be cheap when it does nothing.
func (p *ThunderingHerdProtector) refreshEarly(key string, e *envelope, now time.Time) {
	// TODO(step 07): draw like the paper. scale = e.loadTime × p.cfg.XFetchBeta (as float64 nanoseconds): when it is
	// 0 or less, do nothing (XFetch off, or a value of unknown cost). gap = e.freshUntil − now. Refresh when
	// −scale × ln(u) ≥ gap, with u = 1 − p.cfg.Rand() (in (0, 1], so ln(u) ≤ 0). Skip the draw when gap is far
	// beyond scale (say 40×): the chance is nil and the hit path should not pay for a random number.
	//
	// The refresh runs in the background like step 05's: claim key in p.refreshes, run on p.goBackground (release
	// the claim if it reports false, and when the refresh ends). It cannot call p.load: load re-checks the cache
	// under the lock, finds the value still fresh, and skips the database. Instead: take the key's lock
	// (NewDistributedLock(p.cache, p.lockKey(key), p.cfg.LockTTL), acquired through p.cacheDo) and give up if you
	// can't — another process is refreshing; count p.metrics.lockAcquired(); re-read with p.read and give up
	// (p.writeBack(key, nil, lock, 0) releases the lock) if the entry is now fresh beyond e.freshUntil; else count
	// p.metrics.backgroundRefresh() and call p.loadAndStore(context.Background(), key, lock).
	_, _, _ = key, e, now
}
