package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The -json schema as README.md documents it. It is spelled out here, not borrowed from report.go, so that a change
// of the output that the README does not follow fails this test.
type jsonReport struct {
	Config struct {
		Procs       int      `json:"procs"`
		Clients     int      `json:"clients"`
		DBLatencyMs float64  `json:"db_latency_ms"`
		DBPool      int      `json:"db_pool"`
		Keys        int      `json:"keys"`
		TimeoutMs   float64  `json:"timeout_ms"`
		Bulkhead    int      `json:"bulkhead"`
		Seed        uint64   `json:"seed"`
		Redis       string   `json:"redis"`
		Spawn       bool     `json:"spawn"`
		Scenarios   []string `json:"scenarios"`
		Impls       []string `json:"impls"`
	} `json:"config"`
	Scenarios []struct {
		Name        string       `json:"name"`
		Title       string       `json:"title"`
		BucketClock string       `json:"bucket_clock"`
		BucketMs    float64      `json:"bucket_ms"`
		Results     []jsonResult `json:"results"`
	} `json:"scenarios"`
	Violations []string `json:"violations"`
	OK         bool     `json:"ok"`
	WallMs     float64  `json:"wall_ms"`
}

// jsonResult is one of scenarios[].results[].
type jsonResult struct {
	Impl              string           `json:"impl"`
	Label             string           `json:"label"`
	Status            string           `json:"status"`
	Problems          []string         `json:"problems"`
	Requests          int64            `json:"requests"`
	Answered          int64            `json:"answered"`
	Stale             int64            `json:"stale"`
	Errors            int64            `json:"errors"`
	ErrorKinds        map[string]int64 `json:"error_kinds"`
	DBQueries         int64            `json:"db_queries"`
	DBPeakConcurrency int64            `json:"db_peak_concurrency"`
	DBPeakActive      int64            `json:"db_peak_active"`
	DBPoolTimeouts    int64            `json:"db_pool_timeouts"`
	DBCancelled       int64            `json:"db_cancelled"`
	DBOutageCalls     int64            `json:"db_outage_calls"`
	DBPeakPerBucket   int64            `json:"db_peak_per_bucket"`
	CallsTimeline     []int64          `json:"calls_timeline"`
	Timeline          []int64          `json:"timeline"`
	Sparkline         string           `json:"sparkline"`
	LatencyMs         struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	RecoveryMs      *float64 `json:"recovery_ms"`
	FrozenLatencyMs *struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"frozen_latency_ms"`
	WallMs float64 `json:"wall_ms"`
}

func runJSON(t *testing.T) (jsonReport, []byte, string) {
	t.Helper()
	// The deadline bounds how long no protection and the starter wait in each step of the Redis freeze.
	code, stdout, stderr := runArgs(t, "-json", "-procs", "2", "-clients", "3", "-keys", "8", "-db-latency", "1ms",
		"-timeout", "700ms", "-seed", "7")
	require.Equal(t, exitOK, code, "exit code %d, want 0; stderr:\n%s", code, stderr)
	var rep jsonReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	err := dec.Decode(&rep)
	require.NoError(t, err, "stdout is not the documented JSON: %v\n%s", err, stdout)
	require.False(t, dec.More(), "stdout holds more than one JSON value:\n%s", stdout)
	return rep, []byte(stdout), stderr
}

// TestJSON checks one -json run: its schema, and that README.md documents every field of it.
func TestJSON(t *testing.T) {
	t.Parallel()
	rep, stdout, stderr := runJSON(t)
	t.Run("schema", func(t *testing.T) { checkSchema(t, rep, stderr) })
	t.Run("README documents every field", func(t *testing.T) { checkREADME(t, stdout) })
}

func checkSchema(t *testing.T, rep jsonReport, stderr string) {
	assert.Contains(t, stderr, "herd: hotkey / reference (solutions/day45): ", "no progress on stderr:\n%s", stderr)
	checkConfig(t, rep)
	require.Len(t, rep.Scenarios, len(scenarioNames), "%d scenarios, want %d", len(rep.Scenarios), len(scenarioNames))
	for i, s := range rep.Scenarios {
		smsg := []any{"scenario %d: name %q, title %q, bucket %v %q", i, s.Name, s.Title, s.BucketMs, s.BucketClock}
		assert.Equal(t, scenarioNames[i], s.Name, smsg...)
		assert.NotEmpty(t, s.Title, smsg...)
		assert.Positive(t, s.BucketMs, smsg...)
		assert.Contains(t, []string{"real", "simulated"}, s.BucketClock, smsg...)
		require.Len(t, s.Results, 3, "%s: %d results, want 3", s.Name, len(s.Results))
		for j, r := range s.Results {
			rmsg := []any{"%s/%d: impl %q, label %q, problems %v, error kinds %v", s.Name, j, r.Impl, r.Label, r.Problems, r.ErrorKinds}
			assert.Equal(t, rep.Config.Impls[j], r.Impl, rmsg...)
			checkResult(t, s.Name, r)
		}
	}
}

// checkConfig checks config against the flags runJSON gives, and that the run is ok.
func checkConfig(t *testing.T, rep jsonReport) {
	c := rep.Config
	cmsg := []any{"config = %+v, want the flags given", c}
	assert.Equal(t, 2, c.Procs, cmsg...)
	assert.Equal(t, 3, c.Clients, cmsg...)
	assert.Equal(t, 8, c.Keys, cmsg...)
	assert.Equal(t, 1.0, c.DBLatencyMs, cmsg...)
	assert.Equal(t, 10, c.DBPool, cmsg...)
	assert.Equal(t, 700.0, c.TimeoutMs, cmsg...)
	assert.Equal(t, 10*700*2/3/2, c.Bulkhead, cmsg...) // sized from the database: no -bulkhead
	assert.Equal(t, uint64(7), c.Seed, cmsg...)
	assert.Equal(t, "embedded", c.Redis, cmsg...)
	assert.False(t, c.Spawn, cmsg...)
	assert.True(t, slices.Equal(c.Scenarios, scenarioNames), "config scenarios %v, impls %v; want all of them", c.Scenarios, c.Impls)
	assert.True(t, slices.Equal(c.Impls, []string{"none", "learner", "reference"}),
		"config scenarios %v, impls %v; want all of them", c.Scenarios, c.Impls)
	assert.True(t, rep.OK, "ok %v, violations %q; want true and []", rep.OK, rep.Violations)
	assert.NotNil(t, rep.Violations, "ok %v, violations %q; want true and []", rep.OK, rep.Violations)
	assert.Empty(t, rep.Violations, "ok %v, violations %q; want true and []", rep.OK, rep.Violations)
}

// checkResult checks one result of scenario: its fields present, its accounting, timelines and latencies.
func checkResult(t *testing.T, scenario string, r jsonResult) {
	rmsg := []any{"%s/%s: label %q, problems %v, error kinds %v", scenario, r.Impl, r.Label, r.Problems, r.ErrorKinds}
	assert.NotEmpty(t, r.Label, rmsg...)
	assert.NotNil(t, r.Problems, rmsg...)
	assert.NotNil(t, r.ErrorKinds, rmsg...)
	assert.Contains(t, []string{statusOK, statusTimedOut, statusPanicked, statusFailed}, r.Status,
		"%s/%s: status %q", scenario, r.Impl, r.Status)
	amsg := []any{"%s/%s: %d requests, answered %d + stale %d + errors %d", scenario, r.Impl, r.Requests, r.Answered, r.Stale, r.Errors}
	assert.Equal(t, r.Requests, r.Answered+r.Stale+r.Errors, amsg...)
	assert.NotZero(t, r.Requests, amsg...)
	tmsg := []any{"%s/%s: calls %v, timeline %v, sparkline %q, peak %d", scenario, r.Impl, r.CallsTimeline, r.Timeline, r.Sparkline, r.DBPeakPerBucket}
	assert.NotEmpty(t, r.Timeline, tmsg...)
	assert.Len(t, r.CallsTimeline, len(r.Timeline), tmsg...)
	assert.Len(t, []rune(r.Sparkline), len(r.Timeline), tmsg...)
	if len(r.CallsTimeline) > 0 { // an empty one has already failed above; slices.Max would panic on it
		assert.Equal(t, r.DBPeakPerBucket, slices.Max(r.CallsTimeline), tmsg...)
	}
	calls := sum(r.CallsTimeline)
	assert.Equal(t, r.DBQueries, calls, "%s/%s: calls_timeline adds up to %d, want the %d DB queries", scenario, r.Impl, calls, r.DBQueries)
	handled := sum(r.Timeline)
	assert.Equal(t, r.DBQueries-r.DBPoolTimeouts-r.DBCancelled, handled,
		"%s/%s: timeline adds up to %d, want the %d DB queries less the %d that never got a connection and the %d cancelled",
		scenario, r.Impl, handled, r.DBQueries, r.DBPoolTimeouts, r.DBCancelled)
	lmsg := []any{"%s/%s: latency %+v", scenario, r.Impl, r.LatencyMs}
	assert.LessOrEqual(t, r.LatencyMs.P50, r.LatencyMs.P99, lmsg...)
	assert.LessOrEqual(t, r.LatencyMs.P99, r.LatencyMs.Max, lmsg...)
	assert.Positive(t, r.LatencyMs.P50, lmsg...)
	checkOutageFields(t, scenario, r.Impl, r.RecoveryMs, r.FrozenLatencyMs, r.LatencyMs.Max)
}

// checkOutageFields checks the fields that only the outage scenarios fill.
func checkOutageFields(t *testing.T, scenario, impl string, recovery *float64, frozen *struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}, maxMs float64) {
	t.Helper()
	assert.Equal(t, scenario == "outage" || scenario == "redis-outage", recovery != nil,
		"%s/%s: recovery_ms %v, want a number in the outage scenarios only", scenario, impl, recovery)
	assert.Equal(t, scenario == "redis-outage", frozen != nil,
		"%s/%s: frozen_latency_ms %v, want an object in redis-outage only", scenario, impl, frozen)
	if frozen != nil {
		assert.True(t, frozen.P50 <= frozen.P99 && frozen.P99 <= frozen.Max && frozen.Max <= maxMs,
			"%s/%s: frozen latency %+v, latency max %v", scenario, impl, *frozen, maxMs)
	}
}

// checkREADME keeps README.md's schema in step with the output.
func checkREADME(t *testing.T, stdout []byte) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(stdout, &v))
	keys := map[string]bool{}
	var walk func(v any, inKinds bool)
	walk = func(v any, inKinds bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !inKinds { // error_kinds' keys are values, documented in their own list
					keys[k] = true
				}
				walk(x, k == "error_kinds")
			}
		case []any:
			for _, x := range v {
				walk(x, false)
			}
		}
	}
	walk(v, false)
	var missing []string
	for k := range keys {
		if !bytes.Contains(readme, []byte("`"+k+"`")) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "README.md does not document these -json fields (as `name`): %v", missing)
	for _, kind := range []string{"deadline", "canceled", "db_down", "circuit_open", "lock_timeout", "panic", "abandoned", "wrong_answer", "other"} {
		assert.True(t, bytes.Contains(readme, []byte("`"+kind+"`")), "README.md does not document the error kind `%s`", kind)
	}
}

func sum(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}
