package observability_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashboard is the part of Grafana's dashboard model that the test reads.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVars stand in for Grafana's variables, which are not PromQL, before an expression is parsed.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__range", "1h", "$job", ".*")

// dashboard.json uses current panel types (timeseries replaced graph as the default in Grafana 8; Grafana 11
// migrates graph panels away) and every query keeps the house rules of alerts.yml.
func TestDashboard_PanelsAndQueries(t *testing.T) {
	src, err := os.ReadFile("dashboard.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(src, &d))
	require.NotEmpty(t, d.Panels)
	known := exported(t)
	for _, p := range d.Panels {
		assert.Contains(t, []string{"timeseries", "stat", "heatmap"}, p.Type, "panel %q", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, q := range p.Targets {
			assert.Empty(t, problems(grafanaVars.Replace(q.Expr), known), "panel %q: %s", p.Title, q.Expr)
		}
	}
}
