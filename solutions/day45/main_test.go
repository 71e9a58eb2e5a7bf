//go:build solution

package day45_test

import (
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testutil.VerifyNone(m) }

// within bounds the real-time waits of these tests: they fail by assertion, never hang.
const within = 5 * time.Second

// newProtector returns a protector on env with deterministic settings (no jitter, fast polling), adjusted by opts.
func newProtector(t *testing.T, env *testutil.Env, opts ...func(*day45.Config)) *day45.ThunderingHerdProtector {
	t.Helper()
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	return env.Protector(t, cfg)
}

// mustGet fails the test unless Get answers key with the expected value.
func mustGet(t *testing.T, p *day45.ThunderingHerdProtector, key, want string) *day45.Data {
	t.Helper()
	d, err := p.Get(t.Context(), key)
	require.NoError(t, err, "Get(%q)", key)
	require.Equal(t, want, d.Value, "Get(%q).Value", key)
	return d
}

// checkInvariants asserts the invariants that every metrics snapshot must keep.
func checkInvariants(t *testing.T, m day45.ProtectionMetrics) {
	t.Helper()
	assert.Equal(t, m.CacheHits+m.CacheMisses, m.TotalRequests,
		"TotalRequests %d != CacheHits %d + CacheMisses %d", m.TotalRequests, m.CacheHits, m.CacheMisses)
	assert.LessOrEqual(t, m.SingleFlightHits, m.CacheMisses,
		"SingleFlightHits %d > CacheMisses %d", m.SingleFlightHits, m.CacheMisses)
	assert.LessOrEqual(t, m.StaleReturns, m.CacheMisses, "StaleReturns %d > CacheMisses %d", m.StaleReturns, m.CacheMisses)
	assert.LessOrEqual(t, m.DBErrors, m.DBQueries, "DBErrors %d > DBQueries %d", m.DBErrors, m.DBQueries)
}
