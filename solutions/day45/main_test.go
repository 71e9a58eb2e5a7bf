//go:build solution

package day45_test

import (
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
	"day45-thundering-herd/testutil"
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
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if d.Value != want {
		t.Fatalf("Get(%q).Value = %q, want %q", key, d.Value, want)
	}
	return d
}

// checkInvariants asserts the invariants that every metrics snapshot must keep.
func checkInvariants(t *testing.T, m day45.ProtectionMetrics) {
	t.Helper()
	if m.TotalRequests != m.CacheHits+m.CacheMisses {
		t.Errorf("TotalRequests %d != CacheHits %d + CacheMisses %d", m.TotalRequests, m.CacheHits, m.CacheMisses)
	}
	if m.SingleFlightHits > m.CacheMisses {
		t.Errorf("SingleFlightHits %d > CacheMisses %d", m.SingleFlightHits, m.CacheMisses)
	}
	if m.StaleReturns > m.CacheMisses {
		t.Errorf("StaleReturns %d > CacheMisses %d", m.StaleReturns, m.CacheMisses)
	}
	if m.DBErrors > m.DBQueries {
		t.Errorf("DBErrors %d > DBQueries %d", m.DBErrors, m.DBQueries)
	}
}
