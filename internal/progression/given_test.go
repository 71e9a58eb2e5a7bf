package progression_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// TestGivenFiles is the fast half of the course's invariant (the slow half is TestProgression): the plumbing of
// day45/ and solutions/day45/ is byte-identical, and the two testutil switch files differ only in the build tag,
// the import of the implementation and Mode.
func TestGivenFiles(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	assert.Empty(t, progression.CheckGivenFiles(root), "given files differ")

	read := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(root, "testutil", name))
		require.NoError(t, err)
		return strings.Split(string(b), "\n")
	}
	learner, solution := read("subject_learner.go"), read("subject_solution.go")
	require.Len(t, solution, len(learner), "the switch files have different lengths")
	var differ []string
	for i := range learner {
		if learner[i] != solution[i] {
			differ = append(differ, learner[i]+"  |  "+solution[i])
		}
	}
	assert.Len(t, differ, 3, "the switch files should differ in exactly the build tag, the import and Mode:\n%s", strings.Join(differ, "\n"))
	for _, d := range differ {
		ok := strings.Contains(d, "//go:build") || strings.Contains(d, "import day45") || strings.Contains(d, "const Mode")
		assert.True(t, ok, "the switch files differ in more than the tag, the import and Mode: %s", d)
	}
}

// TestManifest: steps/steps.json lists the steps whose directories and files exist, and README.md names each one.
func TestManifest(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	for _, s := range progression.Steps() {
		assert.DirExists(t, filepath.Join(root, "steps", s.Dir), "step %d", s.N)
		assert.FileExists(t, filepath.Join(root, "day45", s.File), "step %d", s.N)
		assert.FileExists(t, filepath.Join(root, "solutions", "day45", s.File), "step %d", s.N)
		assert.Contains(t, string(readme), s.Dir, "README.md does not name step %s", s.Dir)
		assert.NotEmpty(t, s.JA, "step %d has no Japanese title", s.N)
		assert.Positive(t, s.Minutes, "step %d has no expected time", s.N)
		assert.True(t, s.Difficulty >= 1 && s.Difficulty <= 3, "step %d: difficulty %d, want 1..3", s.N, s.Difficulty)
	}
}
