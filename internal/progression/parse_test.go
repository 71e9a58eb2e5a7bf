package progression

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
	for i, w := range want {
		g := got[i]
		if g.Outcome != w.outcome || g.Tests != w.tests || g.PassedTests != w.pass || g.FirstFailure != w.firstFailure {
			t.Errorf("%s: got %s %d/%d %q, want %s %d/%d %q", g.Package, g.Outcome, g.PassedTests, g.Tests, g.FirstFailure,
				w.outcome, w.pass, w.tests, w.firstFailure)
		}
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
		if got := classifyFailure(out); got != want {
			t.Errorf("classifyFailure(%q) = %s, want %s", out, got, want)
		}
	}
}

func TestOverlay(t *testing.T) {
	o := Overlay("/r", 2)
	if len(o) != 2 || o["/r/day45/jitter.go"] != "/r/solutions/day45/jitter.go" || o["/r/day45/singleflight.go"] != "/r/solutions/day45/singleflight.go" {
		t.Errorf("Overlay(/r, 2) = %v", o)
	}
	if len(Overlay("/r", 0)) != 0 {
		t.Errorf("Overlay(/r, 0) is not empty")
	}
}
