package day45

import (
	"math/rand/v2"
	"time"
)

// AddJitter returns base moved by a uniformly random amount of at most ±percent of base, so that keys written
// together expire spread over a window instead of all at once. A percent outside (0, 1] is clamped; a base <= 0 is
// returned unchanged. The result is never <= 0 for a positive base, since a zero Redis TTL would mean "never expire".
//
// math/rand/v2 is the right source: jitter must be cheap and spread, not unpredictable. crypto/rand belongs to the
// lock token, where guessing matters.
func AddJitter(base time.Duration, percent float64) time.Duration {
	if base <= 0 || !(percent > 0) { // !(>) also catches NaN
		return base
	}
	percent = min(percent, 1)
	span := percent * float64(base)
	d := base + time.Duration((rand.Float64()*2-1)*span)
	return max(d, 1)
}
