package observability_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// alerts.yml is valid for Prometheus (rulefmt.Parse is what promtool check rules runs), and each rule keeps the
// house rules, has a severity and a summary, and waits (for) unless it reads an event (increase of trips).
func TestAlerts_ParseAndKeepTheHouseRules(t *testing.T) {
	src, err := os.ReadFile("alerts.yml")
	require.NoError(t, err)
	groups, errs := rulefmt.Parse(src, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	require.Empty(t, errs, "alerts.yml")
	known := exported(t)
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			n++
			assert.Empty(t, problems(r.Expr, known), "alert %s: %s", r.Alert, r.Expr)
			assert.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], "alert %s: severity", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], "alert %s: summary", r.Alert)
		}
	}
	assert.GreaterOrEqual(t, n, 5, "alerts.yml should hold the lesson's alerts")
}

// The checks can fail: the traps of the seed lesson's rules, each caught.
func TestProblems_CatchTheTraps(t *testing.T) {
	known := exported(t)
	for _, tc := range []struct{ name, expr, want string }{
		{"raw counter", `thundering_herd_db_errors_total > 0`, "cumulative"},
		{"quantile of raw buckets", `histogram_quantile(0.95, thundering_herd_db_query_duration_seconds_bucket)`, "cumulative"},
		{"quantile without le", `histogram_quantile(0.95, sum(rate(thundering_herd_db_query_duration_seconds_bucket[5m])))`, "by le"},
		{"quantile of no buckets", `histogram_quantile(0.95, rate(thundering_herd_db_query_duration_seconds_sum[5m]))`, "no _bucket"},
		{"a metric nobody exports", `cache_hit_rate < 0.5`, "no such metric"},
		{"not PromQL", `rate(thundering_herd_requests_total)`, "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(tc.expr, known)
			require.NotEmpty(t, got, tc.expr)
			assert.Contains(t, fmt.Sprint(got), tc.want)
		})
	}
	assert.Empty(t, problems(`sum by (le) (rate(thundering_herd_db_query_duration_seconds_bucket[5m]))`, known))
}
