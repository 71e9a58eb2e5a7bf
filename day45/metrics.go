// Step 06 — metrics. Lesson: steps/06-metrics/README.md
//
// Build the counters that show what each defense did. The plumbing and the other defenses already call the metrics
// methods at the right moments (p.metrics.hit(), p.metrics.dbQuery(), ...); here you make them count, and make
// GetMetrics return a snapshot that keeps the invariants documented on ProtectionMetrics. Until you do, nothing is
// counted and GetMetrics is all zeros.
//
// Check: go test ./steps/06-metrics/

package day45

// ProtectionMetrics is a snapshot of what the protector did since it was created.
//
// Invariants of every snapshot: TotalRequests == CacheHits + CacheMisses (each admitted Get and
// GetStaleWhileRevalidate is one of the two; calls rejected with ErrInvalidArgument or ErrClosed are not requests);
// SingleFlightHits, StaleReturns, Shed <= CacheMisses; DBErrors <= DBQueries; DBQueries equals the number of
// DataRepository.Load calls.
type ProtectionMetrics struct {
	TotalRequests       int64 // admitted Get and GetStaleWhileRevalidate calls
	CacheHits           int64 // answered by a fresh cached value
	CacheMisses         int64 // the cached value was missing, stale, undecodable or unreadable
	SingleFlightHits    int64 // callers served by a load in this process whose function they did not run
	LockAcquisitions    int64 // distributed locks taken to load a key
	LockWaits           int64 // times a load waited for another process's lock holder
	CircuitBreakerTrips int64 // transitions of the breaker to open
	StaleReturns        int64 // stale values served: by GetStaleWhileRevalidate, or by Get when the load failed
	BackgroundRefresh   int64 // background refreshes started, including those a full bulkhead then refuses (step 09)
	DBQueries           int64 // DataRepository.Load calls
	DBErrors            int64 // Load calls that failed (ErrNotFound is an answer, not an error)
	CacheErrors         int64 // Redis failures and undecodable entries
	CacheBreakerTrips   int64 // transitions of the cache breaker to open
	CacheSkips          int64 // Redis operations not attempted because the cache breaker was open
	Shed                int64 // callers refused by a cap (step 09): ErrOverloaded, or the stale value in its place
}

// metrics are the live counters, a field of ThunderingHerdProtector: the zero value must be ready, and every method
// is called concurrently from many goroutines.
type metrics struct {
	// TODO(step 06): one sync/atomic atomic.Int64 per counter the methods below record. No mutex: each event must
	// cost one atomic add on the hot path.
}

// TODO(step 06): make each method add 1 to its own counter.

func (m *metrics) hit()               {}
func (m *metrics) miss()              {}
func (m *metrics) singleFlightHit()   {}
func (m *metrics) lockAcquired()      {}
func (m *metrics) lockWait()          {}
func (m *metrics) staleReturn()       {}
func (m *metrics) backgroundRefresh() {}
func (m *metrics) dbQuery()           {}
func (m *metrics) dbError()           {}
func (m *metrics) cacheError()        {}
func (m *metrics) cacheSkip()         {}
func (m *metrics) shed()              {}

// GetMetrics returns a snapshot of the counters. It keeps working after Close.
func (p *ThunderingHerdProtector) GetMetrics() ProtectionMetrics {
	// TODO(step 06): load every counter into a ProtectionMetrics; CircuitBreakerTrips comes from
	// p.breaker.tripCount() and CacheBreakerTrips from p.cacheBreaker.tripCount() (both are nil in a zero
	// ThunderingHerdProtector). The invariants on ProtectionMetrics
	// must hold in EVERY snapshot, even one taken while calls run: think about which counters you load first, and
	// whether TotalRequests needs a counter of its own at all.
	return ProtectionMetrics{}
}
