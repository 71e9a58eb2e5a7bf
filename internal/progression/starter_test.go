//go:build solution

package progression_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
	"day45-thundering-herd/steps"
)

// TestStarters: the starters that workbook reset restores are the course's day45/ files. A maintainer check: in a
// learner's checkout day45/ is the learner's work.
func TestStarters(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	for _, s := range progression.Steps() {
		want, err := os.ReadFile(filepath.Join(root, "day45", s.File))
		require.NoError(t, err)
		got, err := steps.Starter(s.Dir)
		require.NoError(t, err, "step %s has no starter.go.txt", s.Dir)
		assert.Equal(t, string(want), string(got), "steps/%s/starter.go.txt differs from day45/%s", s.Dir, s.File)
	}
}
