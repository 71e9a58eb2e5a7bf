package jitter_test

// Step 01: TTL jitter. These tests exercise AddJitter in day45/jitter.go (see README.md beside this file).

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/01-jitter/README.md を参照"

func TestAddJitter_SpreadsOverTheWindow(t *testing.T) {
	cases := []struct {
		base    time.Duration
		percent float64
	}{
		{100 * time.Second, 0.2},
		{5 * time.Minute, 0.1},
		{time.Second, 0.5},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.base, "±", tc.percent*100, "%"), func(t *testing.T) {
			lo := time.Duration(float64(tc.base) * (1 - tc.percent))
			hi := time.Duration(float64(tc.base) * (1 + tc.percent))
			const draws = 1000
			seen := map[time.Duration]bool{}
			below, above := 0, 0
			for range draws {
				d := testutil.AddJitter(tc.base, tc.percent)
				const outside = "AddJitter(%v, %v) = %v が範囲 [%v, %v] の外です — %s"
				require.GreaterOrEqual(t, d, lo, outside, tc.base, tc.percent, d, lo, hi, readme)
				require.LessOrEqual(t, d, hi, outside, tc.base, tc.percent, d, lo, hi, readme)
				seen[d] = true
				if d < tc.base {
					below++
				} else if d > tc.base {
					above++
				}
			}
			require.GreaterOrEqual(t, len(seen), draws/2, "AddJitter(%v, %v) を %d 回呼んで、異なる TTL は %d 個だけでした。[%v, %v] に散らばるはずです — %s",
				tc.base, tc.percent, draws, len(seen), lo, hi, readme)
			// ± means both directions: a one-sided jitter spreads expiries over half the window (twice the peak) and
			// lengthens every TTL.
			oneSided := fmt.Sprintf("ジッターをかけた TTL %d 個のうち、%v より短いものが %d 個、長いものが %d 個でした。それぞれ約半分のはずです。片側だけのジッターでは範囲が半分になり、すべての TTL が長くなります — %s",
				draws, tc.base, below, above, readme)
			assert.GreaterOrEqual(t, below, draws/4, oneSided)
			assert.GreaterOrEqual(t, above, draws/4, oneSided)
		})
	}
}

func TestAddJitter_EdgeCases(t *testing.T) {
	// A jittered TTL is never <= 0: for Redis, 0 would mean "never expire".
	for range 1000 {
		d := testutil.AddJitter(time.Millisecond, 1)
		require.Positive(t, d, "AddJitter(1ms, 1.0) = %v です。TTL は常に > 0 でなければなりません — %s", d, readme)
	}
	for _, tc := range []struct {
		base    time.Duration
		percent float64
	}{{time.Minute, 0}, {time.Minute, -0.5}, {time.Minute, math.NaN()}, {0, 0.2}, {-time.Second, 0.2}} {
		d := testutil.AddJitter(tc.base, tc.percent)
		assert.Equal(t, tc.base, d, "AddJitter(%v, %v) = %v です。ジッターをかける幅がないときは base をそのまま返してください — %s", tc.base, tc.percent, d, readme)
	}
	// The edge cases alone would pass on a function that ignores percent; a real jitter must also move the TTL.
	moved := testutil.AddJitter(time.Hour, 0.5) != time.Hour || testutil.AddJitter(time.Hour, 0.5) != time.Hour
	assert.True(t, moved, "AddJitter(1h, 0.5) が 2 回とも 1h ちょうどを返しました。TTL にジッターがかかっていません — %s", readme)
}

func TestSet_MassExpiryIsSpread(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.JitterPercent = 0.2
	cfg.StaleTTL = 0
	p := env.Protector(t, cfg)
	const keys = 1000
	for i := range keys {
		key := fmt.Sprint("product:", i)
		require.NoError(t, p.Set(t.Context(), key, &testutil.Data{Value: "v"}, 100*time.Second), "Set(%s) が失敗しました", key)
	}
	// Walk the clock in 1s steps through the window and find the worst second.
	env.Clock.Advance(79 * time.Second)
	left, peak, peakAt := keys, 0, 0
	for s := 80; s <= 121; s++ {
		env.Clock.Advance(time.Second)
		now := len(env.Redis.Mini.Keys())
		if left-now > peak {
			peak, peakAt = left-now, s
		}
		left = now
	}
	require.Zero(t, left, "%d 個のキーが 121s を過ぎても残っています。TTL+20%% は 120s のはずです — %s", left, readme)
	assert.LessOrEqual(t, peak, keys/10, "同時に書き込んだ %d 個のキーのうち %d 個が、同じ 1 秒（%ds の時点）に切れました。DB へのサンダリングハードです。期待は %d 個以下 — %s",
		keys, peak, peakAt, keys/10, readme)
}

// TestAddJitter_PercentAboveOneIsClamped: a percent above 1 is treated as 1. Used as is, its window reaches below
// zero: the TTL becomes negative or 0 (for Redis, "never expire"), or, floored, piles up at the floor.
func TestAddJitter_PercentAboveOneIsClamped(t *testing.T) {
	const base, percent, draws = time.Second, 3.0, 1000
	short, long := 0, 0
	for range draws {
		d := testutil.AddJitter(base, percent)
		require.True(t, d > 0 && d <= 2*base && d != 1,
			"AddJitter(%v, %v) = %v です。percent が 1 を超えるときは 1 として扱い、結果は (0, %v] に散らばるはずです。そのまま使うと幅が base より広がり、TTL が 0 以下（Redis では「期限なし」）や下限に張り付いた値になります — %s",
			base, percent, d, 2*base, readme)
		if d < base/2 {
			short++
		} else if d > base*3/2 {
			long++
		}
	}
	assert.True(t, short >= draws/10 && long >= draws/10,
		"AddJitter(%v, %v) を %d 回呼んで、%v 未満が %d 個、%v 超が %d 個でした。percent を 1 として扱えば、それぞれ約 1/4 のはずです — %s",
		base, percent, draws, base/2, short, base*3/2, long, readme)
}
