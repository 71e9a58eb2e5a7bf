package progression

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func TestParse(t *testing.T) {
	const mod = "day45-thundering-herd"
	stream := strings.Join([]string{
		`{"Action":"run","Package":"` + mod + `/steps/a","Test":"TestX"}`,
		`{"Action":"output","Package":"` + mod + `/steps/a","Test":"TestX","Output":"=== RUN   TestX\n"}`,
		`{"Action":"output","Package":"` + mod + `/steps/a","Test":"TestX","Output":"    x_test.go:9: 1000 Gets caused 1000 DB queries; want 1\n"}`,
		`{"Action":"fail","Package":"` + mod + `/steps/a","Test":"TestX"}`,
		`{"Action":"pass","Package":"` + mod + `/steps/a","Test":"TestY"}`,
		`{"Action":"pass","Package":"` + mod + `/steps/a","Test":"TestY/sub"}`,
		`{"Action":"fail","Package":"` + mod + `/steps/a"}`,
		`{"ImportPath":"` + mod + `/steps/b [` + mod + `/steps/b.test]","Action":"build-output","Output":"x.go:1: undefined: y\n"}`,
		`{"ImportPath":"` + mod + `/steps/b [` + mod + `/steps/b.test]","Action":"build-fail"}`,
		`{"Action":"fail","Package":"` + mod + `/steps/b","FailedBuild":"` + mod + `/steps/b [` + mod + `/steps/b.test]"}`,
		`{"Action":"output","Package":"` + mod + `/steps/c","Output":"panic: test timed out after 1m0s\n"}`,
		`{"Action":"fail","Package":"` + mod + `/steps/c"}`,
		`{"Action":"pass","Package":"` + mod + `/steps/d","Test":"TestZ"}`,
		`{"Action":"pass","Package":"` + mod + `/steps/d"}`,
		`not json`,
	}, "\n")
	got := parseWithModule(strings.NewReader(stream), mod, []string{"./steps/a", "./steps/b", "./steps/c", "./steps/d", "./steps/e"})
	want := []struct {
		outcome      Outcome
		tests, pass  int
		firstFailure string
	}{
		{Failed, 2, 1, "x_test.go:9: 1000 Gets caused 1000 DB queries; want 1"},
		{BuildFailed, 0, 0, "x.go:1: undefined: y"},
		{TimedOut, 0, 0, "panic: test timed out after 1m0s"},
		{Passed, 1, 1, ""},
		{"", 0, 0, ""},
	}
	require.Len(t, got, len(want), "one result per package")
	for i, w := range want {
		g := got[i]
		assert.Equal(t, w.outcome, g.Outcome, "%s: outcome", g.Package)
		assert.Equal(t, w.tests, g.Tests, "%s: tests", g.Package)
		assert.Equal(t, w.pass, g.PassedTests, "%s: passed tests", g.Package)
		assert.Equal(t, w.firstFailure, g.FirstFailure, "%s: first failure", g.Package)
	}
}

func TestClassifyFailure(t *testing.T) {
	for out, want := range map[string]Outcome{
		"--- FAIL: TestX\n":                                                   Failed,
		"panic: boom\n\ngoroutine 1":                                          Panicked,
		"x\npanic: runtime error: index":                                      Panicked,
		"panic: test timed out after 2s":                                      TimedOut,
		"==================\nWARNING: DATA RACE\n":                            Raced,
		"goleak: Errors on successful test run: found unexpected goroutines:": Leaked,
	} {
		assert.Equal(t, want, classifyFailure(out), "classifyFailure(%q)", out)
	}
}

func TestOverlay(t *testing.T) {
	assert.Equal(t, map[string]string{
		"/r/day45/jitter.go":       "/r/solutions/day45/jitter.go",
		"/r/day45/singleflight.go": "/r/solutions/day45/singleflight.go",
	}, Overlay("/r", 2), "Overlay(/r, 2)")
	assert.Empty(t, Overlay("/r", 0), "Overlay(/r, 0) is not empty")
}
