package day45

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// An entry in Redis is one of
//
//	th3|<fresh-until, Unix ns>|<load time, ns>|<version, 20 digits>|<Data as JSON>   a value
//	thn|<fresh-until, Unix ns>|                                                        an absence
//
// The freshness instant lives inside the value because Redis cannot tell us a key is stale: it deletes the key at
// expiry. The key therefore expires StaleTTL after it stops being fresh, and readers compare the instant with their
// clock. The load time is how long the value took to compute: early recomputation (XFetch) refreshes a value that
// is slow to compute earlier. The version is Data.Version in a form a Lua script can compare as a string (see
// orderedVersion), so that a write-back never replaces a newer value (step 08). An absence remembers that the
// database lacks the key (negative caching, step 08). The prefix is plain text so that redis-cli shows it, and cheap
// to parse so that a cache hit costs no more than decoding the Data itself. Entries of the earlier formats still
// decode: "th2|<fresh-until>|<load time>|<JSON>" and "th1|<fresh-until>|<JSON>" (load time zero).
var (
	envelopeMagic   = []byte("th3|")
	envelopeMagicV2 = []byte("th2|")
	envelopeMagicV1 = []byte("th1|")
	absenceMagic    = []byte("thn|")
)

var errCorruptEntry = errors.New("day45: corrupt cache entry")

// envelope is one decoded cache entry.
type envelope struct {
	data       *Data // nil for an absence
	freshUntil time.Time
	loadTime   time.Duration // how long the value took to load; 0 when unknown (a Set, or a th1 entry)
	absent     bool          // the database lacks the key
}

// freshAt reports whether the entry is still fresh at now.
func (e *envelope) freshAt(now time.Time) bool { return now.Before(e.freshUntil) }

// encodeEnvelope renders d with its freshness instant and the time it took to load.
func encodeEnvelope(d *Data, freshUntil time.Time, loadTime time.Duration) ([]byte, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(envelopeMagic)+2*(20+1)+versionDigits+1+len(body))
	b = append(b, envelopeMagic...)
	b = strconv.AppendInt(b, freshUntil.UnixNano(), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, max(int64(loadTime), 0), 10)
	b = append(b, '|')
	b = append(b, orderedVersion(d.Version)...)
	b = append(b, '|')
	return append(b, body...), nil
}

// encodeAbsence renders an absence fresh until freshUntil.
func encodeAbsence(freshUntil time.Time) []byte {
	b := append([]byte(nil), absenceMagic...)
	b = strconv.AppendInt(b, freshUntil.UnixNano(), 10)
	return append(b, '|')
}

// versionDigits is the width of an ordered version: the digits of the largest uint64.
const versionDigits = 20

// orderedVersion renders v as 20 decimal digits whose string order is the order of the versions, negative ones
// included (v is shifted by 2^63 into the unsigned range). A Lua script compares these exactly with < and >: Lua's
// numbers are doubles, which cannot tell 2^53 from 2^53+1, and a version taken from an update time in nanoseconds is
// far beyond that.
func orderedVersion(v int64) string {
	u := uint64(v) ^ 1<<63
	s := strconv.FormatUint(u, 10)
	return strings.Repeat("0", versionDigits-len(s)) + s
}

// decodeEnvelope parses an entry. Anything it does not understand is errCorruptEntry, never a panic.
func decodeEnvelope(b []byte) (envelope, error) {
	if rest, ok := bytes.CutPrefix(b, absenceMagic); ok {
		ns, rest, ok := cutInt64(rest)
		if !ok || len(rest) != 0 {
			return envelope{}, errCorruptEntry
		}
		return envelope{freshUntil: time.Unix(0, ns), absent: true}, nil
	}
	version := 3
	rest, ok := bytes.CutPrefix(b, envelopeMagic)
	if !ok {
		version = 2
		if rest, ok = bytes.CutPrefix(b, envelopeMagicV2); !ok {
			version = 1
			if rest, ok = bytes.CutPrefix(b, envelopeMagicV1); !ok {
				return envelope{}, errCorruptEntry
			}
		}
	}
	ns, rest, ok := cutInt64(rest)
	if !ok {
		return envelope{}, errCorruptEntry
	}
	var loadNs int64
	if version >= 2 {
		if loadNs, rest, ok = cutInt64(rest); !ok || loadNs < 0 {
			return envelope{}, errCorruptEntry
		}
	}
	if version == 3 {
		// The version is for the store's Lua guard; the Data carries its own.
		if len(rest) <= versionDigits || rest[versionDigits] != '|' || !allDigits(rest[:versionDigits]) {
			return envelope{}, errCorruptEntry
		}
		rest = rest[versionDigits+1:]
	}
	d := new(Data)
	if err := json.Unmarshal(rest, d); err != nil {
		return envelope{}, errCorruptEntry
	}
	return envelope{data: d, freshUntil: time.Unix(0, ns), loadTime: time.Duration(loadNs)}, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
