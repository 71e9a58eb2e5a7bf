//go:build solution

package day45_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	day45 "day45-thundering-herd/solutions/day45"
)

func TestEnvelope_RoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 123456789, time.UTC)
	for _, d := range []*day45.Data{
		{Key: "k", Value: "v", Version: 7, UpdatedAt: at},
		{},
		{Key: "日本語|key", Value: "th1|1|{\"nested\":true}", Version: -1},
	} {
		for _, fresh := range []time.Time{at, time.Unix(0, 0), time.Unix(0, -5), time.Unix(0, 1<<62)} {
			b, err := day45.EncodeEnvelope(d, fresh)
			if err != nil {
				t.Fatalf("encode %+v: %v", d, err)
			}
			got, gotFresh, err := day45.DecodeEnvelope(b)
			if err != nil {
				t.Fatalf("decode %q: %v", b, err)
			}
			if !gotFresh.Equal(fresh) {
				t.Errorf("fresh-until of %q = %v, want %v", b, gotFresh, fresh)
			}
			if !got.UpdatedAt.Equal(d.UpdatedAt) || got.Key != d.Key || got.Value != d.Value || got.Version != d.Version {
				t.Errorf("decode(encode(%+v)) = %+v", d, got)
			}
		}
	}
}

func TestEnvelope_RejectsCorruptEntries(t *testing.T) {
	for _, b := range []string{
		"", "th1", "th1|", "th1||{}", "th1|12|", "th1|12|{", "th1|x|{}", "th1|-|{}", "th1|1-2|{}",
		"th2|1|{}", `{"key":"k"}`, "th1|99999999999999999999|{}", "th1|9223372036854775808|{}",
		"th1|1|[1,2]", "th1|1|{\"version\":\"x\"}",
	} {
		if d, _, err := day45.DecodeEnvelope([]byte(b)); err == nil {
			t.Errorf("decode(%q) = %+v, want an error", b, d)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	ok, _ := day45.EncodeEnvelope(&day45.Data{Key: "k", Value: "v", Version: 1}, time.Unix(0, 42))
	for _, s := range [][]byte{ok, []byte("th1|-9223372036854775808|{}"), []byte("th1|1|null"), []byte("th1|")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, fresh, err := day45.DecodeEnvelope(b) // must never panic
		if err != nil {
			return
		}
		if d == nil {
			t.Fatalf("decode(%q) returned nil data without an error", b)
		}
		// Whatever decodes must survive a round trip unchanged.
		again, err := day45.EncodeEnvelope(d, fresh)
		if err != nil {
			t.Fatalf("re-encode of %q: %v", b, err)
		}
		d2, fresh2, err := day45.DecodeEnvelope(again)
		if err != nil || !fresh2.Equal(fresh) || !reflect.DeepEqual(normal(d2), normal(d)) {
			t.Fatalf("round trip of %q: got %+v %v %v, want %+v %v", b, d2, fresh2, err, d, fresh)
		}
		if !bytes.HasPrefix(again, []byte("th1|")) {
			t.Fatalf("encoded entry %q lacks the magic prefix", again)
		}
	})
}

// normal drops the monotonic and location details that JSON does not keep.
func normal(d *day45.Data) day45.Data {
	c := *d
	c.UpdatedAt = c.UpdatedAt.UTC().Round(0)
	return c
}
