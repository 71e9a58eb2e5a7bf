//go:build solution

package progression_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// TestProgression is the course's invariant: with steps 1..N done, exactly steps 1..N pass; the capstone passes only
// once all six are done; the given files of day45/ and solutions/day45/ are identical. It runs the learner-mode
// tests seven times through go test -overlay, about a minute on two cores.
func TestProgression(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test seven times; skipped with -short")
	}
	t.Parallel() // beside TestMistakes: each leaves a core idle while its tests wait
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	declareInputs(t, root)
	violations, err := progression.Verify(context.Background(), root, func(st progression.Stage) {
		line := ""
		for _, r := range st.Results {
			line += " " + string(r.Outcome)
		}
		t.Logf("N=%d:%s", st.N, line)
	})
	require.NoError(t, err, "go test could not run")
	assert.Empty(t, violations, "the course's invariant is violated:\n%s", strings.Join(violations, "\n"))
}

// TestMistakes: every wrong solution in the steps' catalogues (steps/*/testdata/mistakes) fails its step's tests
// by assertion, with the failure its header names. It runs go test once per mistake, one per core, in
// about a minute on two cores, beside TestProgression.
func TestMistakes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test once per catalogued mistake; skipped with -short")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	declareInputs(t, root)
	violations, err := progression.VerifyMistakes(context.Background(), root, func(r progression.MistakeResult) {
		status := "caught by " + r.CaughtBy()
		if r.Violation != "" {
			status = "NOT CAUGHT (" + string(r.Result.Outcome) + ")"
		}
		t.Logf("%s/%s: %s (%s)", r.Step.Dir, r.Name, status, r.Took.Round(100*time.Millisecond))
	})
	require.NoError(t, err, "go test could not run")
	assert.Empty(t, violations, "wrong solutions that their step's tests do not catch:\n%s", strings.Join(violations, "\n"))
}

// declareInputs opens every file the child go test runs read, so that go test's result cache reruns these tests
// when one of them changes: it sees only the files the test process itself opens, and without this a changed step
// test or starter left a cached pass.
func declareInputs(t *testing.T, root string) {
	t.Helper()
	for _, dir := range []string{"day45", "steps", "solutions", "testutil", "internal", "go.mod", "go.sum"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			return f.Close()
		})
		require.NoError(t, err, "reading the module's files")
	}
}
