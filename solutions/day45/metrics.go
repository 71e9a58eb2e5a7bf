package day45

import "sync/atomic"

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

// metrics are the live counters. Each is one atomic add on its path; the zero value is ready.
type metrics struct {
	hits, misses, singleFlightHits, lockAcquisitions, lockWaits atomic.Int64
	staleReturns, backgroundRefreshes                           atomic.Int64
	dbQueries, dbErrors, cacheErrors, cacheSkips, sheds         atomic.Int64
}

func (m *metrics) hit()               { m.hits.Add(1) }
func (m *metrics) miss()              { m.misses.Add(1) }
func (m *metrics) singleFlightHit()   { m.singleFlightHits.Add(1) }
func (m *metrics) lockAcquired()      { m.lockAcquisitions.Add(1) }
func (m *metrics) lockWait()          { m.lockWaits.Add(1) }
func (m *metrics) staleReturn()       { m.staleReturns.Add(1) }
func (m *metrics) backgroundRefresh() { m.backgroundRefreshes.Add(1) }
func (m *metrics) dbQuery()           { m.dbQueries.Add(1) }
func (m *metrics) dbError()           { m.dbErrors.Add(1) }
func (m *metrics) cacheError()        { m.cacheErrors.Add(1) }
func (m *metrics) cacheSkip()         { m.cacheSkips.Add(1) }
func (m *metrics) shed()              { m.sheds.Add(1) }

// GetMetrics returns a snapshot of the counters. It keeps working after Close.
//
// Counters are read effect-before-cause (an error before its query, a shared result before its miss) so that the
// invariants hold in every snapshot even while calls are running; TotalRequests is derived, not counted.
func (p *ThunderingHerdProtector) GetMetrics() ProtectionMetrics {
	m := &p.metrics
	s := ProtectionMetrics{
		SingleFlightHits:  m.singleFlightHits.Load(),
		StaleReturns:      m.staleReturns.Load(),
		LockWaits:         m.lockWaits.Load(),
		LockAcquisitions:  m.lockAcquisitions.Load(),
		BackgroundRefresh: m.backgroundRefreshes.Load(),
		DBErrors:          m.dbErrors.Load(),
		CacheErrors:       m.cacheErrors.Load(),
		CacheSkips:        m.cacheSkips.Load(),
		Shed:              m.sheds.Load(),
	}
	s.DBQueries = m.dbQueries.Load()
	s.CacheHits = m.hits.Load()
	s.CacheMisses = m.misses.Load()
	s.TotalRequests = s.CacheHits + s.CacheMisses
	if p.breaker != nil {
		s.CircuitBreakerTrips = p.breaker.tripCount()
		s.CacheBreakerTrips = p.cacheBreaker.tripCount()
	}
	return s
}
