//go:build !solution

// This file and subject_learner.go are the one place that decides which implementation the tests exercise: the
// learner's package by default, the reference solution under -tags solution. Keep the two files identical apart from
// the build tag, the import and Mode.

package testutil

import "day45-thundering-herd/day45"

// Mode names the implementation under test.
const Mode = "learner"

// Aliases of the implementation under test, so that tests written against testutil run against either package.
type (
	Protector       = day45.ThunderingHerdProtector
	Data            = day45.Data
	Config          = day45.Config
	Metrics         = day45.ProtectionMetrics
	DistributedLock = day45.DistributedLock
	CircuitBreaker  = day45.CircuitBreaker
	CircuitState    = day45.CircuitState
	CacheClient     = day45.CacheClient
	Histogram       = day45.Histogram
	Snapshot        = day45.HistogramSnapshot
	Bucket          = day45.HistogramBucket
)

// Breaker states.
const (
	Closed   = day45.Closed
	Open     = day45.Open
	HalfOpen = day45.HalfOpen
)

// Constructors, helpers and sentinel errors of the implementation under test.
var (
	NewProtector        = day45.NewThunderingHerdProtector
	DefaultConfig       = day45.DefaultConfig
	AddJitter           = day45.AddJitter
	NewDistributedLock  = day45.NewDistributedLock
	NewCircuitBreaker   = day45.NewCircuitBreaker
	NewHistogram        = day45.NewHistogram
	DefaultQueryBuckets = day45.DefaultQueryBuckets

	ErrNotFound        = day45.ErrNotFound
	ErrCircuitOpen     = day45.ErrCircuitOpen
	ErrLockNotAcquired = day45.ErrLockNotAcquired
	ErrLockNotHeld     = day45.ErrLockNotHeld
	ErrLockTimeout     = day45.ErrLockTimeout
	ErrClosed          = day45.ErrClosed
	ErrInvalidArgument = day45.ErrInvalidArgument
	ErrOverloaded      = day45.ErrOverloaded
)
