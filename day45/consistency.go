// Step 08 (advanced) — consistency: negative caching and no stale sets. Lesson: steps/08-consistency/README.md
//
// Build absence and putLoaded. A key the database lacks is remembered in Redis for NegativeTTL, so that no process
// asks the database again meanwhile; and a load that read an old version of a row never overwrites the newer
// value that a Set stored while the load ran. Until you do, every Get of a missing key queries the database, and a
// slow load can bring back a value the application has already replaced.
//
// Check: go test ./steps/08-consistency/

package day45

import "context"

// absence returns the entry that remembers that the database lacks key, and whether to store one. The write-back
// of a load that found ErrNotFound stores it with putLoaded; every process then reads it as "not found".
func (p *ThunderingHerdProtector) absence(key string) (cacheEntry, bool) {
	// TODO(step 08): return false when p.cfg.NegativeTTL is 0 (off). Otherwise jitter it like any TTL
	// (AddJitter(p.cfg.NegativeTTL, p.cfg.JitterPercent), at least a millisecond: Redis's resolution) and return
	// cacheEntry{key: key, value: encodeAbsence(<now + that>), expiry: <that>}, true. Leave version empty: it is
	// how putLoaded tells an absence from a value. Read the clock with p.cfg.Now(), never time.Now().
	_ = key
	return cacheEntry{}, false
}

// putLoaded stores e, a value or an absence that a load of this process found, unless Redis holds something newer.
// A refused store is not an error.
func (p *ThunderingHerdProtector) putLoaded(ctx context.Context, e cacheEntry) error {
	// TODO(step 08): one Lua script on the data key (p.dataKey(e.key)), run through p.cacheDo, that reads the
	// current entry and then either refuses (return 0) or SETs e.value with PX e.expiry in milliseconds:
	//   - a value (e.version != "") is refused where the current entry is a th3 value of a higher version. The
	//     version is the 4th field of "th3|<fresh>|<load time>|<version>|<json>", 20 digits that compare as strings;
	//     never convert them with tonumber: Lua's numbers are doubles, exact only up to 2^53.
	//   - an absence (e.version == "") is refused where the current entry is a value (th1, th2 or th3) that is still
	//     fresh: its 2nd field, fresh-until in Unix ns, is after now (pass p.cfg.Now().UnixNano() as an argument).
	// A GET in Go followed by a SET would let a Set land between the two: the check and the write must be one script.
	return p.put(ctx, e)
}
