package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheck_Starter stresses step 01 on the repository's own day45/, the starter in a clean checkout: it fails
// every round, and check says so with the first failure and exit code 1.
func TestCheck_Starter(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-C", copyTree(t), "check", "1", "-count", "2"}, &stdout, &stderr)
	assert.Equal(t, 1, code, "check of the starter's step 01: exit code; stdout %q, stderr %q", stdout.String(), stderr.String())
	assert.Contains(t, stderr.String(), "-race で 2 回続けて", "check must run the tests as grading does")
	assert.Contains(t, stdout.String(), "最初の失敗", "check must show the first failure")
	assert.Contains(t, stdout.String(), "steps/01-jitter/README.md", "the failure must name the lesson")
}

// TestProgressOpts_RaceByDefault: the learner's view runs what grading runs unless the learner asks for -fast.
func TestProgressOpts_RaceByDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		race bool
	}{{nil, true}, {[]string{"-fast"}, false}} {
		var o progressOpts
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.define(fs)
		require.NoError(t, fs.Parse(tc.args))
		assert.Equal(t, tc.race, o.options().Race, "flags %q: -race", tc.args)
	}
}
