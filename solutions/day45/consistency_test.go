//go:build solution

package day45_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
)

// The step 08 tests cover negative caching and the guarded write-back on a real Redis and a Cluster in CI; these
// cover the reference's own choices.

// TestNegativeTTL_ZeroTurnsItOff: with NegativeTTL 0 nothing is remembered: each Get of a missing key asks the
// database, and Redis holds nothing for it.
func TestNegativeTTL_ZeroTurnsItOff(t *testing.T) {
	env := testutil.NewEnv(t)
	env.Repo.Missing("ghost")
	p := newProtector(t, env, func(c *day45.Config) { c.NegativeTTL = 0 })
	for range 3 {
		_, err := p.Get(t.Context(), "ghost")
		require.ErrorIs(t, err, day45.ErrNotFound)
	}
	require.NoError(t, p.Close()) // its write-backs are done
	assert.Equal(t, int64(3), env.Repo.Loads(), "DB queries with negative caching off")
	assert.False(t, env.Redis.Mini.Exists("ghost"), "an absence was stored with NegativeTTL 0")
}

// TestNegative_AbsenceIsAnEntryOfItsOwn: the absence is "thn|<fresh-until>|", kept in Redis for NegativeTTL, and
// the error names the key and wraps ErrNotFound.
func TestNegative_AbsenceIsAnEntryOfItsOwn(t *testing.T) {
	env := testutil.NewEnv(t)
	env.Repo.Missing("ghost")
	p := newProtector(t, env, func(c *day45.Config) { c.NegativeTTL, c.JitterPercent = 7*time.Second, 0 })
	_, err := p.Get(t.Context(), "ghost")
	require.ErrorIs(t, err, day45.ErrNotFound)
	env.WaitWriteBack(t, "ghost", "lock:ghost")
	raw, err := env.Redis.Mini.Get("ghost")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("thn|%d|", env.Clock.Now().Add(7*time.Second).UnixNano()), raw, "the stored absence")
	assert.Equal(t, 7*time.Second, env.Redis.Mini.TTL("ghost"), "its expiry: NegativeTTL, no stale window")
	_, err = p.Get(t.Context(), "ghost")
	require.ErrorIs(t, err, day45.ErrNotFound, "the remembered absence")
	assert.Contains(t, err.Error(), `"ghost"`, "the error names the key")
	assert.Equal(t, int64(1), env.Repo.Loads(), "DB queries")
}

// TestStaleSet_EntriesWithoutAVersionAreReplaced: the guard compares versions only with a th3 value; an entry of
// an earlier format (a rolling upgrade) or a corrupt one is replaced by the load's value.
func TestStaleSet_EntriesWithoutAVersionAreReplaced(t *testing.T) {
	for _, raw := range []string{
		`th2|1|0|{"key":"k","value":"old","version":99}`,
		`th1|1|{"key":"k","value":"old","version":99}`,
		"garbage",
	} {
		env := testutil.NewEnv(t)
		p := newProtector(t, env)
		require.NoError(t, env.Redis.Mini.Set("k", raw))
		mustGet(t, p, "k", "value:k")
		require.NoError(t, p.Close())
		got, err := env.Redis.Mini.Get("k")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(got, "th3|"), "after a load over %q, Redis holds %q; want the loaded th3 value", raw, got)
	}
}
