package day45

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Two ways a cache disagrees with its database, and the defenses of step 08.
//
// Negative caching: a key the database lacks is an answer worth keeping. Without it every Get of a missing key
// queries the database (cache penetration), and a herd of them over many processes queries it once per process.
// A load that finds ErrNotFound stores an absence for NegativeTTL, which every process reads like a value.
//
// No stale sets (Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013, §3.2.1): a load reads version 1 of a
// row, the application updates the row to version 2 and Sets it, then the load's write-back lands and puts version
// 1 back, for a whole TTL. Facebook's memcache prevents it with leases: a miss hands out a token, a delete of the
// key invalidates it, and a set with an invalid token is refused. Here a lease would be the lock's token, and the
// store would have to check the lock key and write the data key in one script: in a Redis Cluster the two keys live
// in different slots, and a script may touch one slot only. Our values carry their row's version instead
// (Data.Version), so the write-back is a compare-and-set on the one data key: it stores unless Redis holds a higher
// version. It needs versions that grow with every change, which memcache's opaque values did not have.

// storeLoadedLua stores a loaded entry unless Redis holds something newer. KEYS[1] is the data key. ARGV[1] is the
// entry, ARGV[2] its expiry in milliseconds, ARGV[3] its version (orderedVersion) or "" for an absence, ARGV[4] the
// loader's clock in Unix nanoseconds. A value is refused where a value of a higher version is stored: versions are
// compared as strings, which orderedVersion makes exact. An absence is refused where a value is still fresh: that
// value was stored after the load read the database, by a Set or by a load that found the row. A value that is no
// longer fresh gives way to an absence: its row was deleted.
const storeLoadedLua = `local cur = redis.call("GET", KEYS[1])
if cur then
	if ARGV[3] == "" then
		local fresh = string.match(cur, "^th%d|(%-?%d+)|")
		if fresh and tonumber(fresh) > tonumber(ARGV[4]) then
			return 0
		end
	else
		local version = string.match(cur, "^th3|%-?%d+|%d+|(%d+)|")
		if version and version > ARGV[3] then
			return 0
		end
	end
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1`

// storeLoadedScript is immutable; Run tries EVALSHA first and falls back to EVAL once per server.
var storeLoadedScript = redis.NewScript(storeLoadedLua)

// absence returns the entry that remembers that the database lacks key, fresh for a jittered NegativeTTL, and
// whether to store one: not when NegativeTTL is 0.
func (p *ThunderingHerdProtector) absence(key string) (cacheEntry, bool) {
	if p.cfg.NegativeTTL <= 0 {
		return cacheEntry{}, false
	}
	ttl := max(AddJitter(p.cfg.NegativeTTL, p.cfg.JitterPercent), time.Millisecond)
	return cacheEntry{key: key, value: encodeAbsence(p.cfg.Now().Add(ttl)), expiry: ttl}, true
}

// putLoaded stores e, a value or an absence that a load of this process found, with the guard of storeLoadedLua.
// A refused store is not an error: Redis holds a newer answer, which is what the write-back was for.
func (p *ThunderingHerdProtector) putLoaded(ctx context.Context, e cacheEntry) error {
	err := p.cacheDo(ctx, func(ctx context.Context) error {
		return storeLoadedScript.Run(ctx, p.cache, []string{p.dataKey(e.key)},
			e.value, e.expiry.Milliseconds(), e.version, strconv.FormatInt(p.cfg.Now().UnixNano(), 10)).Err()
	})
	if err != nil {
		return fmt.Errorf("day45: store %q: %w", e.key, err)
	}
	return nil
}
