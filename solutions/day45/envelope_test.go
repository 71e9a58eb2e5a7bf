//go:build solution

package day45_test

import (
	"bytes"
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
			got, gotFresh, gotTook, err := day45.DecodeEnvelope(b)
			require.NoError(t, err, "decode %q", b)
			require.NotNil(t, got, "decode %q", b)
			assert.WithinDuration(t, fresh, gotFresh, 0, "fresh-until of %q = %v, want %v", b, gotFresh, fresh)
			assert.Equal(t, took, gotTook, "load time of %q", b)
			// normal compares UpdatedAt as an instant, as time.Time.Equal does.
			assert.Equal(t, normal(d), normal(got), "decode(encode(%+v)) = %+v", d, got)
		}
	}
}

// TestEnvelope_ReadsEntriesWithoutALoadTime: entries written before the load time was recorded ("th1|") still
// decode, with a load time of zero, so that a rolling upgrade does not turn every cached value into a miss.
func TestEnvelope_ReadsEntriesWithoutALoadTime(t *testing.T) {
	d, fresh, took, err := day45.DecodeEnvelope([]byte(`th1|42|{"key":"k","value":"v","version":3}`))
	require.NoError(t, err)
	assert.Equal(t, "v", d.Value)
	assert.Equal(t, int64(42), fresh.UnixNano())
	assert.Zero(t, took, "a th1 entry has no load time")
}

func TestEnvelope_RejectsCorruptEntries(t *testing.T) {
	for _, b := range []string{
		"", "th1", "th1|", "th1||{}", "th1|12|", "th1|12|{", "th1|x|{}", "th1|-|{}", "th1|1-2|{}",
		"th2|1|{}", "th2|1|x|{}", "th2|1|-5|{}", "th2|1||{}", "th3|1|1|{}", `{"key":"k"}`,
		"th1|99999999999999999999|{}", "th1|9223372036854775808|{}", "th1|1|[1,2]", "th1|1|{\"version\":\"x\"}",
	} {
		d, _, _, err := day45.DecodeEnvelope([]byte(b))
		assert.Error(t, err, "decode(%q) = %+v, want an error", b, d)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	ok, _ := day45.EncodeEnvelope(&day45.Data{Key: "k", Value: "v", Version: 1}, time.Unix(0, 42), time.Second)
	for _, s := range [][]byte{ok, []byte("th1|-9223372036854775808|{}"), []byte("th1|1|null"), []byte("th1|"), []byte("th2|1|2|{}")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, fresh, took, err := day45.DecodeEnvelope(b) // must never panic
		if err != nil {
			return
		}
		require.NotNil(t, d, "decode(%q) returned nil data without an error", b)
		// Whatever decodes must survive a round trip unchanged.
		again, err := day45.EncodeEnvelope(d, fresh, took)
		require.NoError(t, err, "re-encode of %q", b)
		d2, fresh2, took2, err := day45.DecodeEnvelope(again)
		require.Equal(t, took, took2, "round trip of %q: load time", b)
		require.NoError(t, err, "round trip of %q", b)
		require.NotNil(t, d2, "round trip of %q", b)
		require.WithinDuration(t, fresh, fresh2, 0, "round trip of %q: got %+v %v, want %+v %v", b, d2, fresh2, d, fresh)
		require.Equal(t, normal(d), normal(d2), "round trip of %q: got %+v %v, want %+v %v", b, d2, fresh2, d, fresh)
		require.True(t, bytes.HasPrefix(again, []byte("th2|")), "encoded entry %q lacks the magic prefix", again)
	})
}

// normal drops the monotonic and location details that JSON does not keep.
func normal(d *day45.Data) day45.Data {
	c := *d
	c.UpdatedAt = c.UpdatedAt.UTC().Round(0)
	return c
}
