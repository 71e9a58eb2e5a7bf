//go:build solution

package day45_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddJitter_Bounds(t *testing.T) {
	cases := []struct {
		base     time.Duration
		percent  float64
		min, max time.Duration
	}{
		{time.Minute, 0.2, 48 * time.Second, 72 * time.Second},
		{time.Minute, 0.5, 30 * time.Second, 90 * time.Second},
		{time.Minute, 0, time.Minute, time.Minute},
		{time.Minute, -0.3, time.Minute, time.Minute},
		{time.Minute, math.NaN(), time.Minute, time.Minute},
		{0, 0.2, 0, 0},
		{-time.Second, 0.2, -time.Second, -time.Second},
		{time.Minute, 7, 1, 2 * time.Minute}, // clamped to 100%, never <= 0
		{time.Nanosecond, 1, 1, 2},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.base, "±", tc.percent), func(t *testing.T) {
			lo, hi := time.Duration(math.MaxInt64), time.Duration(math.MinInt64)
			for range 10000 {
				d := day45.AddJitter(tc.base, tc.percent)
				lo, hi = min(lo, d), max(hi, d)
			}
			require.GreaterOrEqual(t, lo, tc.min,
				"AddJitter(%v, %v) ranged over [%v, %v], want within [%v, %v]", tc.base, tc.percent, lo, hi, tc.min, tc.max)
			require.LessOrEqual(t, hi, tc.max,
				"AddJitter(%v, %v) ranged over [%v, %v], want within [%v, %v]", tc.base, tc.percent, lo, hi, tc.min, tc.max)
			// Uniform: 10000 draws reach within 1% of both ends of the window (when it is wider than the rounding).
			if tc.max-tc.min > time.Microsecond {
				slack := (tc.max - tc.min) / 100
				assert.LessOrEqual(t, lo, tc.min+slack,
					"AddJitter(%v, %v) ranged over [%v, %v]: not spread over [%v, %v]", tc.base, tc.percent, lo, hi, tc.min, tc.max)
				assert.GreaterOrEqual(t, hi, tc.max-slack,
					"AddJitter(%v, %v) ranged over [%v, %v]: not spread over [%v, %v]", tc.base, tc.percent, lo, hi, tc.min, tc.max)
			}
		})
	}
}

func TestSet_SpreadsExpiries(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.JitterPercent = 0.2
	cfg.StaleTTL = 0
	p := env.Protector(t, cfg)
	const keys = 500
	for i := range keys {
		require.NoError(t, p.Set(t.Context(), fmt.Sprint("k", i), &day45.Data{Value: "v"}, 100*time.Second), "Set k%d", i)
	}
	// Count the keys that expire in each 10s window: without jitter all 500 expire at once at 100s.
	env.Clock.Advance(79 * time.Second)
	prev, peak := keys, 0
	for range 5 {
		env.Clock.Advance(10 * time.Second)
		left := len(env.Redis.Mini.Keys())
		peak = max(peak, prev-left)
		prev = left
	}
	require.Zero(t, prev, "%d keys outlived 120s = TTL+20%%", prev)
	assert.LessOrEqual(t, peak, keys/3,
		"%d of %d keys expired within one 10s window; jitter should spread them over 40s", peak, keys)
}
