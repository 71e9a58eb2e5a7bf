package progression

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	res := parseWithModule(strings.NewReader(stream), mod, []string{"./steps/04-breaker"})
	require.Len(t, res, 1, "one result per package")
	got := res[0]
	assert.Equal(t, BuildFailed, got.Outcome, "want build-error with the compiler's line (first failure %q)", got.FirstFailure)
	assert.Contains(t, got.FirstFailure, "breaker_test.go:40:13: cb.State undefined", "want build-error with the compiler's line")
}
