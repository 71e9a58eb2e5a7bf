//go:build solution

package day45_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// TestXFetch_SetValuesAreNotRefreshedEarly: a value written by Set has no known load time, so XFetch leaves it
// alone, however close its expiry; a loaded one on the same protector is refreshed. The step 07 tests cover the rest.
func TestXFetch_SetValuesAreNotRefreshedEarly(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env, func(c *day45.Config) {
		c.TTL, c.JitterPercent, c.XFetchBeta, c.Rand = 10*time.Second, 0, 1, func() float64 { return 0.999999 }
	})
	require.NoError(t, p.Set(t.Context(), "set", &day45.Data{Key: "set", Value: "v"}, 10*time.Second))
	env.Repo.TakeClockTime(env.Clock, time.Second)
	mustGet(t, p, "loaded", "value:loaded")
	env.WaitWriteBack(t, "loaded", "lock:loaded")
	env.Repo.TakeClockTime(nil, 0)
	env.Clock.Advance(8500 * time.Millisecond) // "set" expires in 0.5s, "loaded" (stored 1s later) in 1.5s
	for range 100 {
		mustGet(t, p, "set", "v")
	}
	mustGet(t, p, "loaded", "value:loaded")
	testutil.Eventually(t, func() bool { return env.Repo.LoadsOf("loaded") == 2 }, within, "the loaded value was not refreshed early")
	assert.Zero(t, env.Repo.LoadsOf("set"), "a Set value was refreshed early %d times", env.Repo.LoadsOf("set"))
}
