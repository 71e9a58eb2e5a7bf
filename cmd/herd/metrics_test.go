package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// While the simulator runs, /metrics has the counters of every process of the reference, labelled with the
// scenario and the process: the hot key's herd is 40 requests and one database query.
func TestMetricsServeTheReferencesProcesses(t *testing.T) {
	t.Parallel()
	m, err := startMetrics("127.0.0.1:0")
	require.NoError(t, err)
	defer m.close()
	o := smallOptions("hotkey", implNone, implReference)
	o.metrics = m
	simulateOne(t, o)

	resp, err := http.Get("http://" + m.addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	scrape := string(body)
	var requests, queries, series int
	for _, line := range strings.Split(scrape, "\n") {
		switch {
		case strings.HasPrefix(line, `thundering_herd_requests_total{process=`) && strings.Contains(line, `scenario="hotkey"`):
			requests += atoiLast(t, line)
			series++
		case strings.HasPrefix(line, `thundering_herd_db_queries_total{process=`) && strings.Contains(line, `scenario="hotkey"`):
			queries += atoiLast(t, line)
		}
	}
	assert.Equal(t, 40, requests, "requests of the reference's 2 processes × 20 clients:\n%s", scrape)
	assert.Equal(t, 1, queries, "database queries of the reference's hot key:\n%s", scrape)
	assert.Contains(t, scrape, `thundering_herd_db_query_duration_seconds_count{process="1",scenario="hotkey"}`)
	assert.Equal(t, 2, series, "one series per process of the reference, none for no protection:\n%s", scrape)
}

func TestMetricsAddrErrors(t *testing.T) {
	t.Parallel()
	code, _, stderr := runArgs(t, "-metrics-addr", "127.0.0.1:-1", "-scenario", "hotkey", "-impl", "none")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "-metrics-addr")

	code, _, stderr = runArgs(t, "-metrics-addr", ":0", "-spawn", "-redis", "127.0.0.1:1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "does not go with -spawn")
}

// atoiLast is the integer value at the end of an exposition line.
func atoiLast(t *testing.T, line string) int {
	t.Helper()
	f := strings.Fields(line)
	var n int
	_, err := fmt.Sscan(f[len(f)-1], &n)
	require.NoError(t, err, line)
	return n
}
