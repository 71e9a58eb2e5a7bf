package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// The -json output. README.md documents every field; TestJSONSchema keeps the two in step.

type report struct {
	Config     configJSON       `json:"config"`
	Scenarios  []scenarioResult `json:"scenarios"`
	Violations []string         `json:"violations"` // broken invariants; non-empty means exit code 1
	OK         bool             `json:"ok"`
	WallMs     float64          `json:"wall_ms"`
}

type configJSON struct {
	Procs       int      `json:"procs"`
	Clients     int      `json:"clients"`
	DBLatencyMs float64  `json:"db_latency_ms"`
	DBPool      int      `json:"db_pool"`
	Keys        int      `json:"keys"`
	TimeoutMs   float64  `json:"timeout_ms"`
	Bulkhead    int      `json:"bulkhead"` // MaxConcurrentLoads of each protector process, as sized when -bulkhead is 0
	Seed        uint64   `json:"seed"`
	Redis       string   `json:"redis"` // "embedded" or the address of a real server, or the cluster's, comma-separated
	Spawn       bool     `json:"spawn"` // every process a worker process of its own
	Scenarios   []string `json:"scenarios"`
	Impls       []string `json:"impls"`
}

type scenarioResult struct {
	Name        string       `json:"name"` // hotkey | expiry | outage | swr | redis-outage | viral
	Title       string       `json:"title"`
	BucketClock string       `json:"bucket_clock"` // "real" (bursts) or "simulated" (steps)
	BucketMs    float64      `json:"bucket_ms"`
	Results     []implResult `json:"results"`
}

type implResult struct {
	Impl              string           `json:"impl"` // none | learner | reference
	Label             string           `json:"label"`
	Status            string           `json:"status"` // ok | timed_out | panicked | failed
	Problems          []string         `json:"problems"`
	Requests          int64            `json:"requests"` // == answered + stale + errors
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
	DBPeakPerBucket   int64            `json:"db_peak_per_bucket"` // the largest bucket of calls_timeline
	CallsTimeline     []int64          `json:"calls_timeline"`     // DB queries asked for, per bucket
	Timeline          []int64          `json:"timeline"`           // DB queries handled, per bucket: the sparkline
	Sparkline         string           `json:"sparkline"`
	LatencyMs         latencyMs        `json:"latency_ms"`
	RecoveryMs        *float64         `json:"recovery_ms"`       // outage, redis-outage: -1 if it never recovered; null elsewhere
	FrozenLatencyMs   *latencyMs       `json:"frozen_latency_ms"` // redis-outage: latency in the frozen steps; null elsewhere
	WallMs            float64          `json:"wall_ms"`
}

type latencyMs struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

const (
	statusOK       = "ok"
	statusTimedOut = "timed_out"
	statusPanicked = "panicked"
	statusFailed   = "failed"
)

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// fill copies the run's accounting and the database's counters into res.
func (res *implResult) fill(c counts, kinds map[string]int64, lats []time.Duration, db *fakeDB) {
	res.Requests, res.Answered, res.Stale, res.Errors = c.sent, c.answered, c.stale, c.errors
	maps.Copy(res.ErrorKinds, kinds)
	res.DBQueries = db.queries.Load()
	res.DBPeakConcurrency = db.peakInflight.Load()
	res.DBPeakActive = db.peakActive.Load()
	res.DBPoolTimeouts = db.poolTimeouts.Load()
	res.DBCancelled = db.cancelled.Load()
	res.DBOutageCalls = db.outageCalls.Load()
	res.CallsTimeline = snapshot(db.timeline.calls)
	res.Timeline = snapshot(db.timeline.handled)
	res.DBPeakPerBucket = slices.Max(res.CallsTimeline)
	res.LatencyMs = latencyOf(lats)
	if res.Problems == nil {
		res.Problems = []string{}
	}
}

// latencyOf summarises latencies; zero when there are none.
func latencyOf(lats []time.Duration) latencyMs {
	s := sortedCopy(lats)
	if len(s) == 0 {
		return latencyMs{}
	}
	return latencyMs{P50: ms(percentile(s, 50)), P99: ms(percentile(s, 99)), Max: ms(s[len(s)-1])}
}

// percentile is the nearest-rank percentile of sorted s.
func percentile(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

// sparkLevels draws a bucket; an empty bucket is a space, so that one query never looks like none.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws counts on a scale where scale is a full block.
func sparkline(counts []int64, scale int64) string {
	var b strings.Builder
	for _, n := range counts {
		if n <= 0 || scale <= 0 {
			b.WriteRune(' ')
			continue
		}
		i := int((n*int64(len(sparkLevels)) + scale - 1) / scale) // ceil(n/scale × 8)
		b.WriteRune(sparkLevels[min(max(i, 1), len(sparkLevels))-1])
	}
	return b.String()
}

// scale returns the largest bucket of any implementation of the scenario: one scale for all its sparklines, so
// that they compare at a glance.
func (s *scenarioResult) scale() int64 {
	var m int64
	for _, r := range s.Results {
		for _, v := range r.Timeline {
			m = max(m, v)
		}
	}
	return m
}

func (s *scenarioResult) drawSparklines() {
	scale := s.scale()
	for i := range s.Results {
		s.Results[i].Sparkline = sparkline(s.Results[i].Timeline, scale)
	}
}

// fmtDur prints a latency in ms with 2 or 3 significant digits.
func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// fmtBucket prints a duration given in ms the way Go does ("20ms", "1.5s").
func fmtBucket(v float64) string { return time.Duration(v * float64(time.Millisecond)).String() }

// writeTable prints the report for people.
func writeTable(w io.Writer, rep *report) error {
	writeConfig(w, rep.Config)
	for _, s := range rep.Scenarios {
		if err := writeScenario(w, s); err != nil {
			return err
		}
	}
	if len(rep.Violations) > 0 {
		fmt.Fprintln(w)
		for _, v := range rep.Violations {
			fmt.Fprintf(w, "VIOLATION: %s\n", v)
		}
	}
	return nil
}

// writeConfig prints the line that says what ran.
func writeConfig(w io.Writer, c configJSON) {
	redis := "embedded miniredis"
	switch {
	case strings.Contains(c.Redis, ","):
		redis = "Redis Cluster at " + c.Redis
	case c.Redis != "embedded":
		redis = "Redis at " + c.Redis
	}
	if c.Spawn {
		redis += ", " + plural(c.Procs, "worker process", "worker processes") + " (-spawn)"
	}
	fmt.Fprintf(w, "herd: %s, DB latency %s, DB pool %d, request deadline %s, %s, seed %d\n",
		procsClients(c.Procs, c.Clients), fmtBucket(c.DBLatencyMs), c.DBPool, fmtBucket(c.TimeoutMs), redis, c.Seed)
}

// writeScenario prints a scenario's title, its table with a sparkline per row, and the notes under it.
func writeScenario(w io.Writer, s scenarioResult) error {
	fmt.Fprintf(w, "\n%s\n", s.Title)
	cols := columnsOf(s.Name)
	hdr := tableHeader(cols)
	// The sparkline is written after the tabwriter's last cell: AlignRight would pad it on the left.
	var rows [][]string
	for _, r := range s.Results {
		rows = append(rows, tableRow(cols, r))
	}
	lines, err := alignTable(hdr, rows)
	if err != nil {
		return err
	}
	unit := "step"
	if s.BucketClock == "real" {
		unit = fmtBucket(s.BucketMs)
	}
	fmt.Fprintf(w, "%s  DB load: queries per %s (█ = %d)\n", lines[0], unit, s.scale())
	for i, r := range s.Results {
		fmt.Fprintf(w, "%s  |%s|\n", lines[i+1], r.Sparkline)
	}
	for _, r := range s.Results {
		if note := notes(r); note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Label, note)
		}
	}
	return nil
}

// alignTable lays out the header and the rows: the first column aligned left, the others right. It returns one
// line per row, the header's first.
func alignTable(hdr []string, rows [][]string) ([]string, error) {
	// Left-align the first column by padding it ourselves.
	width := 0
	for _, r := range append([][]string{hdr}, rows...) {
		width = max(width, len([]rune(r[0])))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-len([]rune(s))) }
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range append([][]string{hdr}, rows...) {
		fmt.Fprintf(tw, "%s\t%s\t\n", pad(r[0]), strings.Join(r[1:], "\t"))
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n"), nil
}

// columnsOf is the scenario's own columns; none for a scenario this program does not know.
func columnsOf(name string) []column {
	if sc := scenarioByName(name); sc != nil {
		return sc.columns
	}
	return nil
}

// tableHeader is the header of a scenario's table: the common columns, then the scenario's own.
func tableHeader(cols []column) []string {
	hdr := []string{"", "requests", "answered", "stale", "errors", "DB queries", "DB peak", "p50", "p99", "max"}
	for _, c := range cols {
		hdr = append(hdr, c.header)
	}
	return hdr
}

// tableRow is the row of r under tableHeader(cols).
func tableRow(cols []column, r implResult) []string {
	row := []string{r.Label, n(r.Requests), n(r.Answered), n(r.Stale), n(r.Errors), n(r.DBQueries),
		n(r.DBPeakConcurrency), fmtMs(r.LatencyMs.P50), fmtMs(r.LatencyMs.P99), fmtMs(r.LatencyMs.Max)}
	for _, c := range cols {
		row = append(row, c.cell(r))
	}
	if r.Status != statusOK {
		row[0] += " !"
	}
	return row
}

// fmtRecovery prints recovery_ms: "-" when absent, "never" when it did not recover.
func fmtRecovery(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 0:
		return "never"
	}
	return fmtBucket(*v)
}

// notes explains a row: its status, problems and errors by kind.
func notes(r implResult) string {
	var parts []string
	if r.Status != statusOK {
		parts = append(parts, strings.ToUpper(strings.ReplaceAll(r.Status, "_", " ")))
	}
	parts = append(parts, r.Problems...)
	if len(r.ErrorKinds) > 0 {
		var ks []string
		for _, k := range slices.Sorted(maps.Keys(r.ErrorKinds)) {
			ks = append(ks, fmt.Sprintf("%s %d", k, r.ErrorKinds[k]))
		}
		parts = append(parts, "errors: "+strings.Join(ks, ", "))
	}
	return strings.Join(parts, "; ")
}

func n(v int64) string { return fmt.Sprint(v) }

func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
