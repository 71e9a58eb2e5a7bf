package progression

import (
	"strings"
	"testing"
)

// TestParse_ExternalTestPackageBuildFailure: when a step's tests (package x_test) do not compile against the
// learner's day45, go test -json names the external test package in ImportPath; the compiler's lines must still
// reach the step's result, for the progress view and the grader.
func TestParse_ExternalTestPackageBuildFailure(t *testing.T) {
	const mod = "day45-thundering-herd"
	ip := mod + `/steps/04-breaker_test [` + mod + `/steps/04-breaker.test]`
	stream := strings.Join([]string{
		`{"ImportPath":"` + ip + `","Action":"build-output","Output":"# ` + mod + `/steps/04-breaker_test\n"}`,
		`{"ImportPath":"` + ip + `","Action":"build-output","Output":"steps/04-breaker/breaker_test.go:40:13: cb.State undefined\n"}`,
		`{"ImportPath":"` + ip + `","Action":"build-fail"}`,
		`{"Action":"start","Package":"` + mod + `/steps/04-breaker"}`,
		`{"Action":"output","Package":"` + mod + `/steps/04-breaker","Output":"FAIL\t` + mod + `/steps/04-breaker [build failed]\n"}`,
		`{"Action":"fail","Package":"` + mod + `/steps/04-breaker","FailedBuild":"` + ip + `"}`,
	}, "\n")
	got := parseWithModule(strings.NewReader(stream), mod, []string{"./steps/04-breaker"})[0]
	if got.Outcome != BuildFailed || !strings.Contains(got.FirstFailure, "breaker_test.go:40:13: cb.State undefined") {
		t.Errorf("got %s %q; want build-error with the compiler's line", got.Outcome, got.FirstFailure)
	}
}
