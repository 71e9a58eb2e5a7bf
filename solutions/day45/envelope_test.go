//go:build solution

package day45_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvelope_RoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 123456789, time.UTC)
	for _, d := range []*day45.Data{
		{Key: "k", Value: "v", Version: 7, UpdatedAt: at},
		{},
		{Key: "日本語|key", Value: "th1|1|{\"nested\":true}", Version: -1},
	} {
		for i, fresh := range []time.Time{at, time.Unix(0, 0), time.Unix(0, -5), time.Unix(0, 1<<62)} {
			took := []time.Duration{0, time.Nanosecond, 1500 * time.Millisecond, time.Hour}[i]
			b, err := day45.EncodeEnvelope(d, fresh, took)
			require.NoError(t, err, "encode %+v", d)
			e, err := day45.DecodeEnvelope(b)
			require.NoError(t, err, "decode %q", b)
			require.NotNil(t, e.Data, "decode %q", b)
			assert.False(t, e.Absent, "decode %q: a value is not an absence", b)
			assert.WithinDuration(t, fresh, e.FreshUntil, 0, "fresh-until of %q = %v, want %v", b, e.FreshUntil, fresh)
			assert.Equal(t, took, e.LoadTime, "load time of %q", b)
			// normal compares UpdatedAt as an instant, as time.Time.Equal does.
			assert.Equal(t, normal(d), normal(e.Data), "decode(encode(%+v)) = %+v", d, e.Data)
		}
	}
}

// TestEnvelope_ReadsEarlierFormats: entries written before the load time ("th1|") or the version ("th2|") were
// recorded still decode, so that a rolling upgrade does not turn every cached value into a miss.
func TestEnvelope_ReadsEarlierFormats(t *testing.T) {
	for _, tc := range []struct {
		entry string
		took  time.Duration
	}{
		{`th1|42|{"key":"k","value":"v","version":3}`, 0},
		{`th2|42|1500|{"key":"k","value":"v","version":3}`, 1500},
	} {
		e, err := day45.DecodeEnvelope([]byte(tc.entry))
		require.NoError(t, err, "decode %q", tc.entry)
		require.NotNil(t, e.Data, "decode %q", tc.entry)
		assert.Equal(t, "v", e.Data.Value, "value of %q", tc.entry)
		assert.Equal(t, int64(3), e.Data.Version, "version of %q", tc.entry)
		assert.Equal(t, int64(42), e.FreshUntil.UnixNano(), "fresh-until of %q", tc.entry)
		assert.Equal(t, tc.took, e.LoadTime, "load time of %q", tc.entry)
	}
}

func TestEnvelope_Absence(t *testing.T) {
	for _, fresh := range []time.Time{time.Unix(0, 42), time.Unix(0, -5), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)} {
		b := day45.EncodeAbsence(fresh)
		e, err := day45.DecodeEnvelope(b)
		require.NoError(t, err, "decode %q", b)
		assert.True(t, e.Absent, "decode %q: want an absence", b)
		assert.Nil(t, e.Data, "decode %q: an absence has no data", b)
		assert.WithinDuration(t, fresh, e.FreshUntil, 0, "fresh-until of %q", b)
	}
}

// TestOrderedVersion: the Lua guard of the write-back compares versions as strings, so their string order must be
// their numeric order, exactly, across the sign and beyond 2^53 (where Lua's doubles lose whole numbers).
func TestOrderedVersion(t *testing.T) {
	versions := []int64{math.MinInt64, -1 << 53, -10, -9, -1, 0, 1, 9, 10, 99, 100, 1 << 53, 1<<53 + 1, 1_764_460_800_000_000_000, math.MaxInt64}
	for i, v := range versions {
		s := day45.OrderedVersion(v)
		assert.Len(t, s, 20, "OrderedVersion(%d) = %q", v, s)
		for _, w := range versions[i+1:] {
			assert.Less(t, s, day45.OrderedVersion(w), "OrderedVersion(%d) must sort before OrderedVersion(%d)", v, w)
		}
	}
}

func TestEnvelope_RejectsCorruptEntries(t *testing.T) {
	for _, b := range []string{
		"", "th1", "th1|", "th1||{}", "th1|12|", "th1|12|{", "th1|x|{}", "th1|-|{}", "th1|1-2|{}",
		"th2|1|{}", "th2|1|x|{}", "th2|1|-5|{}", "th2|1||{}", "th3|1|1|{}", `{"key":"k"}`,
		"th3|1|1|123|{}", "th3|1|1|0000000000000000000x|{}", "th3|1|1|00000000000000000000{}", "th4|1|1|{}",
		"thn|", "thn|x|", "thn|1", "thn|1|{}", "thn||",
		"th1|99999999999999999999|{}", "th1|9223372036854775808|{}", "th1|1|[1,2]", "th1|1|{\"version\":\"x\"}",
	} {
		e, err := day45.DecodeEnvelope([]byte(b))
		assert.Error(t, err, "decode(%q) = %+v, want an error", b, e)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	ok, _ := day45.EncodeEnvelope(&day45.Data{Key: "k", Value: "v", Version: 1}, time.Unix(0, 42), time.Second)
	for _, s := range [][]byte{ok, []byte("th1|-9223372036854775808|{}"), []byte("th1|1|null"), []byte("th1|"), []byte("th2|1|2|{}"),
		[]byte("thn|42|"), []byte("th3|1|2|09223372036854775809|{}")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := day45.DecodeEnvelope(b) // must never panic
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip unchanged.
		var again []byte
		if e.Absent {
			require.Nil(t, e.Data, "decode(%q): an absence with data", b)
			again = day45.EncodeAbsence(e.FreshUntil)
		} else {
			require.NotNil(t, e.Data, "decode(%q) returned nil data without an error", b)
			again, err = day45.EncodeEnvelope(e.Data, e.FreshUntil, e.LoadTime)
			require.NoError(t, err, "re-encode of %q", b)
			require.True(t, bytes.HasPrefix(again, []byte("th3|")), "encoded entry %q lacks the magic prefix", again)
		}
		e2, err := day45.DecodeEnvelope(again)
		require.NoError(t, err, "round trip of %q", b)
		require.Equal(t, e.Absent, e2.Absent, "round trip of %q: absence", b)
		require.Equal(t, e.LoadTime, e2.LoadTime, "round trip of %q: load time", b)
		require.WithinDuration(t, e.FreshUntil, e2.FreshUntil, 0, "round trip of %q: got %+v, want %+v", b, e2, e)
		if !e.Absent {
			require.NotNil(t, e2.Data, "round trip of %q", b)
			require.Equal(t, normal(e.Data), normal(e2.Data), "round trip of %q: got %+v, want %+v", b, e2, e)
		}
	})
}

// normal drops the monotonic and location details that JSON does not keep.
func normal(d *day45.Data) day45.Data {
	c := *d
	c.UpdatedAt = c.UpdatedAt.UTC().Round(0)
	return c
}
