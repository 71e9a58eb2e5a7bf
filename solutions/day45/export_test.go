//go:build solution

package day45

import "time"

// Test-only views of the envelope codec, for the fuzz test in package day45_test.
var (
	DecodeEnvelope = func(b []byte) (*Data, time.Time, time.Duration, error) {
		e, err := decodeEnvelope(b)
		return e.data, e.freshUntil, e.loadTime, err
	}
	EncodeEnvelope = encodeEnvelope
	// Load is the shared load that Get runs once per process for a missing key.
	Load = (*ThunderingHerdProtector).load
	// HonoursDeadlines says whether the protector runs a client's calls inline.
	HonoursDeadlines = honoursDeadlines
)
