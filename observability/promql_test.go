package observability_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/observability"
)

// The house rules of every expression in alerts.yml and dashboard.json, each a trap of hand-written PromQL:
//   - a counter (or a histogram's _bucket, _sum, _count) is read only through rate, irate or increase: its raw value
//     is "since the process started", and drops to zero at every restart;
//   - histogram_quantile reads the rates of _bucket series, summed by le: over raw buckets it answers for the whole
//     life of the process, and a sum without le mixes the buckets into one;
//   - every metric exists: the Collector exports it.

// exported is every series name a Collector exports, a histogram's _bucket, _sum and _count included.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(observability.NewCollector(sample, nil)))
	families, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// cumulative reports whether a series name is a counter's or a histogram's.
func cumulative(name string) bool {
	return slices.ContainsFunc([]string{"_total", "_bucket", "_sum", "_count"}, func(s string) bool { return strings.HasSuffix(name, s) })
}

var rateFuncs = []string{"rate", "irate", "increase"}

// problems parses expr and lists what it breaks of the house rules.
func problems(expr string, known map[string]bool) []string {
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	parser.Inspect(node, func(n parser.Node, path []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			out = append(out, selectorProblems(n, path, known)...)
		case *parser.Call:
			if n.Func.Name == "histogram_quantile" {
				out = append(out, quantileProblems(n)...)
			}
		}
		return nil
	})
	return out
}

func selectorProblems(vs *parser.VectorSelector, path []parser.Node, known map[string]bool) []string {
	if !known[vs.Name] {
		return []string{fmt.Sprintf("%s: no such metric", vs.Name)}
	}
	if !cumulative(vs.Name) {
		return nil
	}
	if len(path) >= 2 {
		if call, ok := path[len(path)-2].(*parser.Call); ok && slices.Contains(rateFuncs, call.Func.Name) {
			if _, ok := path[len(path)-1].(*parser.MatrixSelector); ok {
				return nil
			}
		}
	}
	return []string{fmt.Sprintf("%s is cumulative: read it through rate or increase", vs.Name)}
}

func quantileProblems(call *parser.Call) []string {
	var out []string
	buckets := false
	parser.Inspect(call.Args[1], func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.AggregateExpr:
			if n.Without || !slices.Contains(n.Grouping, "le") {
				out = append(out, fmt.Sprintf("histogram_quantile over %s: aggregate by le", n.Op))
			}
		case *parser.VectorSelector:
			buckets = buckets || strings.HasSuffix(n.Name, "_bucket")
		}
		return nil
	})
	if !buckets {
		out = append(out, "histogram_quantile reads no _bucket series")
	}
	return out
}
