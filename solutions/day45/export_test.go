//go:build solution

package day45

import "time"

// Entry is a decoded cache entry, for the tests of package day45_test.
type Entry struct {
	Data       *Data
	FreshUntil time.Time
	LoadTime   time.Duration
	Absent     bool
}

// Test-only views of the envelope codec, for the fuzz test in package day45_test.
var (
	DecodeEnvelope = func(b []byte) (Entry, error) {
		e, err := decodeEnvelope(b)
		return Entry{e.data, e.freshUntil, e.loadTime, e.absent}, err
	}
	EncodeEnvelope = encodeEnvelope
	EncodeAbsence  = encodeAbsence
	OrderedVersion = orderedVersion
	// Load is the shared load that Get runs once per process for a missing key.
	Load = (*ThunderingHerdProtector).load
	// HonoursDeadlines says whether the protector runs a client's calls inline.
	HonoursDeadlines = honoursDeadlines
)
