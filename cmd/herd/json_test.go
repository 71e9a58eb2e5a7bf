package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
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
		Seed        uint64   `json:"seed"`
		Redis       string   `json:"redis"`
		Scenarios   []string `json:"scenarios"`
		Impls       []string `json:"impls"`
	} `json:"config"`
	Scenarios []struct {
		Name        string  `json:"name"`
		Title       string  `json:"title"`
		BucketClock string  `json:"bucket_clock"`
		BucketMs    float64 `json:"bucket_ms"`
		Results     []struct {
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
			RecoveryMs *float64 `json:"recovery_ms"`
			WallMs     float64  `json:"wall_ms"`
		} `json:"results"`
	} `json:"scenarios"`
	Violations []string `json:"violations"`
	OK         bool     `json:"ok"`
	WallMs     float64  `json:"wall_ms"`
}

func runJSON(t *testing.T) (jsonReport, []byte, string) {
	t.Helper()
	code, stdout, stderr := runArgs(t, "-json", "-procs", "2", "-clients", "3", "-keys", "8", "-db-latency", "1ms",
		"-timeout", "5s", "-seed", "7")
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	var rep jsonReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not the documented JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return rep, []byte(stdout), stderr
}

// TestJSON checks one -json run: its schema, and that README.md documents every field of it.
func TestJSON(t *testing.T) {
	rep, stdout, stderr := runJSON(t)
	t.Run("schema", func(t *testing.T) { checkSchema(t, rep, stderr) })
	t.Run("README documents every field", func(t *testing.T) { checkREADME(t, stdout) })
}

func checkSchema(t *testing.T, rep jsonReport, stderr string) {
	if !strings.Contains(stderr, "herd: hotkey / reference (solutions/day45): ") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	c := rep.Config
	if c.Procs != 2 || c.Clients != 3 || c.Keys != 8 || c.DBLatencyMs != 1 || c.DBPool != 10 || c.TimeoutMs != 5000 ||
		c.Seed != 7 || c.Redis != "embedded" {
		t.Errorf("config = %+v, want the flags given", c)
	}
	if !slices.Equal(c.Scenarios, scenarioNames) || !slices.Equal(c.Impls, []string{"none", "learner", "reference"}) {
		t.Errorf("config scenarios %v, impls %v; want all of them", c.Scenarios, c.Impls)
	}
	if !rep.OK || rep.Violations == nil || len(rep.Violations) != 0 {
		t.Errorf("ok %v, violations %q; want true and []", rep.OK, rep.Violations)
	}
	if len(rep.Scenarios) != 4 {
		t.Fatalf("%d scenarios, want 4", len(rep.Scenarios))
	}
	for i, s := range rep.Scenarios {
		if s.Name != scenarioNames[i] || s.Title == "" || s.BucketMs <= 0 ||
			(s.BucketClock != "real" && s.BucketClock != "simulated") {
			t.Errorf("scenario %d: name %q, title %q, bucket %v %q", i, s.Name, s.Title, s.BucketMs, s.BucketClock)
		}
		if len(s.Results) != 3 {
			t.Fatalf("%s: %d results, want 3", s.Name, len(s.Results))
		}
		for j, r := range s.Results {
			if r.Impl != c.Impls[j] || r.Label == "" || r.Problems == nil || r.ErrorKinds == nil {
				t.Errorf("%s/%d: impl %q, label %q, problems %v, error kinds %v", s.Name, j, r.Impl, r.Label, r.Problems, r.ErrorKinds)
			}
			if !slices.Contains([]string{statusOK, statusTimedOut, statusPanicked, statusFailed}, r.Status) {
				t.Errorf("%s/%s: status %q", s.Name, r.Impl, r.Status)
			}
			if r.Answered+r.Stale+r.Errors != r.Requests || r.Requests == 0 {
				t.Errorf("%s/%s: %d requests, answered %d + stale %d + errors %d", s.Name, r.Impl, r.Requests, r.Answered, r.Stale, r.Errors)
			}
			if len(r.Timeline) == 0 || len(r.CallsTimeline) != len(r.Timeline) || len([]rune(r.Sparkline)) != len(r.Timeline) ||
				slices.Max(r.CallsTimeline) != r.DBPeakPerBucket {
				t.Errorf("%s/%s: calls %v, timeline %v, sparkline %q, peak %d", s.Name, r.Impl, r.CallsTimeline, r.Timeline, r.Sparkline, r.DBPeakPerBucket)
			}
			if sum := sum(r.CallsTimeline); sum != r.DBQueries {
				t.Errorf("%s/%s: calls_timeline adds up to %d, want the %d DB queries", s.Name, r.Impl, sum, r.DBQueries)
			}
			if sum := sum(r.Timeline); sum != r.DBQueries-r.DBPoolTimeouts-r.DBCancelled {
				t.Errorf("%s/%s: timeline adds up to %d, want the %d DB queries less the %d that never got a connection and the %d cancelled",
					s.Name, r.Impl, sum, r.DBQueries, r.DBPoolTimeouts, r.DBCancelled)
			}
			if r.LatencyMs.P50 > r.LatencyMs.P99 || r.LatencyMs.P99 > r.LatencyMs.Max || r.LatencyMs.P50 <= 0 {
				t.Errorf("%s/%s: latency %+v", s.Name, r.Impl, r.LatencyMs)
			}
			if (s.Name == "outage") != (r.RecoveryMs != nil) {
				t.Errorf("%s/%s: recovery_ms %v, want a number in the outage scenario only", s.Name, r.Impl, r.RecoveryMs)
			}
		}
	}
}

// checkREADME keeps README.md's schema in step with the output.
func checkREADME(t *testing.T, stdout []byte) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(stdout, &v); err != nil {
		t.Fatal(err)
	}
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
	if len(missing) > 0 {
		t.Errorf("README.md does not document these -json fields (as `name`): %v", missing)
	}
	for _, kind := range []string{"deadline", "canceled", "db_down", "circuit_open", "lock_timeout", "panic", "abandoned", "wrong_answer", "other"} {
		if !bytes.Contains(readme, []byte("`"+kind+"`")) {
			t.Errorf("README.md does not document the error kind `%s`", kind)
		}
	}
}

func sum(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}
