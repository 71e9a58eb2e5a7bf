package day45

import (
	"context"
	"math"
	"time"
)

// Early recomputation, after Vattani, Chierichetti and Lowenstein, "Optimal Probabilistic Cache Stampede
// Prevention" (VLDB 2015), known as XFetch. Every hit draws whether to refresh its value now, before it expires:
// a reader at now refreshes when now − Δ·β·ln(u) ≥ expiry, with Δ the time the value took to load, β the
// Config's XFetchBeta and u uniform in (0, 1]. The chance grows as expiry nears, exp(−(expiry − now)/(Δ·β)), so on
// a busy key one reader refreshes shortly before expiry and nobody ever misses, while a key read rarely is
// refreshed rarely. Slow values (large Δ) start earlier, so the refresh ends before the value expires.

// maxDraw bounds the hit path's work: when the chance is below e^−maxDraw the hit draws no random number.
const maxDraw = 40

// refreshEarly starts a background refresh of key when the draw of a hit on e at now says so.
func (p *ThunderingHerdProtector) refreshEarly(key string, e *envelope, now time.Time) {
	scale := float64(e.loadTime) * p.cfg.XFetchBeta
	if scale <= 0 {
		return // off, or a value of unknown cost (a Set): it is refreshed once stale
	}
	gap := float64(e.freshUntil.Sub(now))
	if gap > maxDraw*scale {
		return
	}
	if u := 1 - p.cfg.Rand(); -scale*math.Log(u) < gap {
		return
	}
	p.refreshAhead(key, e.freshUntil)
}

// refreshAhead reloads key in the background unless a refresh of it already runs in this process (inBackground) or
// in another (its lock is held), or one has landed since the hit saw the entry fresh until seen. It cannot go
// through load: load's re-check under the lock would find the value still fresh and skip the database.
func (p *ThunderingHerdProtector) refreshAhead(key string, seen time.Time) {
	p.inBackground(key, func() {
		ctx := context.Background() // no caller waits; LoadTimeout and CacheTimeout bound every step
		lock := NewDistributedLock(p.cache, p.lockKey(key), p.cfg.LockTTL)
		if p.cacheDo(ctx, lock.Acquire) != nil {
			return // another process is refreshing it, or Redis fails: the value is still fresh
		}
		p.metrics.lockAcquired()
		if env, err := p.read(ctx, key); err == nil && env.data != nil && env.freshUntil.After(seen) {
			p.writeBack(key, nil, lock, 0) // refreshed by another process meanwhile
			return
		}
		p.metrics.backgroundRefresh()
		_, _ = p.loadAndStore(ctx, key, lock)
	})
}
