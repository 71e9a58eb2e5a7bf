// Step 01 — TTL jitter. Lesson: steps/01-jitter/README.md
//
// Build AddJitter so that keys written at the same moment do not all expire in the same second. Set and every load
// already pass their TTL through it (see store in protector.go), so this one function spreads the whole cache.
// Until you do, AddJitter returns base unchanged and a mass write becomes a mass expiry.
//
// Check: go test ./steps/01-jitter/

package day45

import "time"

// AddJitter returns base moved by a uniformly random amount of at most ±percent of base: a value in
// [base*(1-percent), base*(1+percent)]. A percent above 1 is treated as 1. When there is nothing to jitter — base <= 0,
// or percent <= 0 or NaN — base is returned unchanged. For a positive base the result is always > 0, because an
// expiration of 0 means "never expire" to go-redis.
func AddJitter(base time.Duration, percent float64) time.Duration {
	// TODO(step 01): return base unchanged when base <= 0 or percent is not > 0 (watch NaN: every comparison with it
	// is false). Otherwise clamp percent to 1, draw uniformly from the whole ±percent window (both sides, not only
	// longer) with math/rand/v2 — not crypto/rand: this only has to spread, not to be unguessable — and never return
	// a value <= 0.
	return base
}
