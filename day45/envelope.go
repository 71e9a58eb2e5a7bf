package day45

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// An entry in Redis is "th2|<fresh-until, Unix nanoseconds>|<load time, nanoseconds>|<Data as JSON>".
//
// The freshness instant lives inside the value because Redis cannot tell us a key is stale: it deletes the key at
// expiry. The key therefore expires StaleTTL after it stops being fresh, and readers compare the instant with their
// clock. The load time is how long the value took to compute: early recomputation (XFetch) refreshes a value that
// is slow to compute earlier. The prefix is plain text so that redis-cli shows it, and cheap to parse so that a cache
// hit costs no more than decoding the Data itself. "th1|<fresh-until>|<Data>" entries, written before the load
// time was recorded, still decode, with a load time of zero.
var (
	envelopeMagic   = []byte("th2|")
	envelopeMagicV1 = []byte("th1|")
)

var errCorruptEntry = errors.New("day45: corrupt cache entry")

// envelope is one decoded cache entry.
type envelope struct {
	data       *Data
	freshUntil time.Time
	loadTime   time.Duration // how long the value took to load; 0 when unknown (a Set, or a th1 entry)
}

// freshAt reports whether the entry is still fresh at now.
func (e *envelope) freshAt(now time.Time) bool { return now.Before(e.freshUntil) }

// encodeEnvelope renders d with its freshness instant and the time it took to load.
func encodeEnvelope(d *Data, freshUntil time.Time, loadTime time.Duration) ([]byte, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(envelopeMagic)+2*(20+1)+len(body))
	b = append(b, envelopeMagic...)
	b = strconv.AppendInt(b, freshUntil.UnixNano(), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, max(int64(loadTime), 0), 10)
	b = append(b, '|')
	return append(b, body...), nil
}

// decodeEnvelope parses an entry. Anything it does not understand is errCorruptEntry, never a panic.
func decodeEnvelope(b []byte) (envelope, error) {
	rest, v2 := bytes.CutPrefix(b, envelopeMagic)
	if !v2 {
		var ok bool
		if rest, ok = bytes.CutPrefix(b, envelopeMagicV1); !ok {
			return envelope{}, errCorruptEntry
		}
	}
	ns, rest, ok := cutInt64(rest)
	if !ok {
		return envelope{}, errCorruptEntry
	}
	var loadNs int64
	if v2 {
		if loadNs, rest, ok = cutInt64(rest); !ok || loadNs < 0 {
			return envelope{}, errCorruptEntry
		}
	}
	d := new(Data)
	if err := json.Unmarshal(rest, d); err != nil {
		return envelope{}, errCorruptEntry
	}
	return envelope{data: d, freshUntil: time.Unix(0, ns), loadTime: time.Duration(loadNs)}, nil
}

// cutInt64 parses the decimal before the first '|' of b and returns what follows it.
func cutInt64(b []byte) (int64, []byte, bool) {
	sep := bytes.IndexByte(b, '|')
	if sep <= 0 || sep > 20 {
		return 0, nil, false
	}
	n, ok := parseInt64(b[:sep])
	return n, b[sep+1:], ok
}

// parseInt64 parses an optionally negative decimal without the allocation of strconv.ParseInt(string(b)).
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}
