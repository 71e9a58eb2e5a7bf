// Package day45 protects a database from thundering herds (cache stampedes) behind a Redis cache.
//
// A ThunderingHerdProtector answers Get from Redis when it can. When a hot key is missing or stale it makes sure
// that exactly one caller, in one process, loads it from the database:
//
//   - singleflight.go coalesces concurrent loads of one key inside the process;
//   - lock.go coordinates processes with a Redis lock (SET NX PX plus a compare-and-delete script);
//   - breaker.go stops calling a failing database and lets one probe through to test recovery;
//   - swr.go serves a stale value at once and refreshes it in the background;
//   - jitter.go spreads expiries so keys written together do not expire together;
//   - metrics.go counts what each defense did.
//
// The other files are the shared plumbing: the types, the configuration, the envelope stored in Redis and the Get
// orchestration that calls into the defenses.
package day45
