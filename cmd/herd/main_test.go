package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" { // -spawn runs this test binary as its workers
		os.Exit(workerMain())
	}
	goleak.VerifyTestMain(m)
}

// runArgs runs the program as main would and returns its exit code, stdout and stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestFlagValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"-procs", "0"}, "-procs must be between 1 and 64, got 0"},
		{[]string{"-procs", "65"}, "-procs must be between 1 and 64, got 65"},
		{[]string{"-clients", "0"}, "-clients must be between 1 and 10000, got 0"},
		{[]string{"-procs", "64", "-clients", "10000"}, "-procs × -clients must be at most 100000"},
		{[]string{"-db-pool", "-1"}, "-db-pool must be between 1 and 10000, got -1"},
		{[]string{"-db-latency", "-1ms"}, "-db-latency must be between 0 and 2s, got -1ms"},
		{[]string{"-keys", "0"}, "-keys must be between 1 and 100000, got 0"},
		{[]string{"-timeout", "0s"}, "-timeout must be between 1ms and 60s, got 0s"},
		{[]string{"-bulkhead", "-1"}, "-bulkhead must be between 0 and 100000, got -1"},
		{[]string{"-scenario", "stampede"}, `-scenario: unknown value "stampede", want all or one or more of hotkey, expiry, outage, swr`},
		{[]string{"-scenario", "hotkey,"}, `-scenario: unknown value ""`},
		{[]string{"-impl", "mine"}, `-impl: unknown value "mine"`},
		{[]string{"-redis", "localhost"}, `-redis "localhost": want host:port`},
		{[]string{"-procs", "four"}, `invalid value "four" for flag -procs`},
		{[]string{"-db-latency", "20"}, `invalid value "20" for flag -db-latency`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"hotkey"}, `unexpected argument "hotkey": herd takes only flags`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tc.args...)
			assert.Equal(t, exitUsage, code, "exit code %d, want %d", code, exitUsage)
			assert.Contains(t, stderr, tc.want, "stderr does not say %q:\n%s", tc.want, stderr)
			assert.Empty(t, stdout, "stdout is not empty after a bad flag:\n%s", stdout)
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runArgs(t, "-h")
	assert.Equal(t, exitOK, code, "exit code %d, want 0", code)
	assert.Empty(t, stdout, "-h: want the usage on stderr only; stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, "Usage: go run ./cmd/herd", "-h: want the usage on stderr only; stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, "-scenario", "-h: want the usage on stderr only; stdout:\n%s\nstderr:\n%s", stdout, stderr)
}

func TestUnreachableRedisFailsTheRun(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback: nothing listens there, and nothing leaves the machine.
	code, stdout, stderr := runArgs(t, "-redis", "127.0.0.1:1", "-scenario", "hotkey")
	assert.Equal(t, exitFailed, code, "exit code %d (want 1); stdout %q; stderr %q", code, stdout, stderr)
	assert.Contains(t, stderr, "cannot reach Redis at 127.0.0.1:1", "exit code %d (want 1); stdout %q; stderr %q", code, stdout, stderr)
	assert.Empty(t, stdout, "exit code %d (want 1); stdout %q; stderr %q", code, stdout, stderr)
}
