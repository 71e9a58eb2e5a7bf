package day45

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// An entry in Redis is "th1|<fresh-until, Unix nanoseconds>|<Data as JSON>".
//
// The freshness instant lives inside the value because Redis cannot tell us a key is stale: it deletes the key at
// expiry. The key therefore expires StaleTTL after it stops being fresh, and readers compare the instant with their
// clock. The prefix is fixed-width-free plain text so that redis-cli shows it, and cheap to parse so that a cache
// hit costs no more than decoding the Data itself.
var envelopeMagic = []byte("th1|")

var errCorruptEntry = errors.New("day45: corrupt cache entry")

// envelope is one decoded cache entry.
type envelope struct {
	data       *Data
	freshUntil time.Time
}

// freshAt reports whether the entry is still fresh at now.
func (e *envelope) freshAt(now time.Time) bool { return now.Before(e.freshUntil) }

// encodeEnvelope renders d with its freshness instant.
func encodeEnvelope(d *Data, freshUntil time.Time) ([]byte, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(envelopeMagic)+20+1+len(body))
	b = append(b, envelopeMagic...)
	b = strconv.AppendInt(b, freshUntil.UnixNano(), 10)
	b = append(b, '|')
	return append(b, body...), nil
}

// decodeEnvelope parses an entry. Anything it does not understand is errCorruptEntry, never a panic.
func decodeEnvelope(b []byte) (envelope, error) {
	rest, ok := bytes.CutPrefix(b, envelopeMagic)
	if !ok {
		return envelope{}, errCorruptEntry
	}
	sep := bytes.IndexByte(rest, '|')
	if sep <= 0 || sep > 20 {
		return envelope{}, errCorruptEntry
	}
	ns, ok := parseInt64(rest[:sep])
	if !ok {
		return envelope{}, errCorruptEntry
	}
	d := new(Data)
	if err := json.Unmarshal(rest[sep+1:], d); err != nil {
		return envelope{}, errCorruptEntry
	}
	return envelope{data: d, freshUntil: time.Unix(0, ns)}, nil
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
