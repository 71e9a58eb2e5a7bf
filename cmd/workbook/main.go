// Command workbook is the workbook's one tool for each of its users:
//
//	go run ./cmd/workbook                      learner: progress table, the current step's first failure, what to read
//	go run ./cmd/workbook hint N [reset]       learner: the next hint of step N, one at a time
//	go run ./cmd/workbook watch                learner: rerun the current step whenever day45/ changes
//	go run ./cmd/workbook check N -count K     learner: stress step N as grading does
//	go run ./cmd/workbook grade [flags] DIR... instructor: score submissions by the CHECKLIST.md rubric
//	go run ./cmd/workbook verify               maintainer: the progression invariant of the course
//
// See README.md beside this file for every flag and the JSON schema of grade.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"day45-thundering-herd/internal/progression"
)

// ModulePath is the module whose root the workbook works in.
const ModulePath = "day45-thundering-herd"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: its name ("" for the progress view), its line of the usage text, and what it runs.
type command struct {
	name, usage string
	run         func(ctx context.Context, root string, args []string, stdout, stderr io.Writer) error
}

// commands is the one table of the workbook's subcommands: the usage text and the dispatch both read it.
var commands = []command{
	{"", `(none)            learner: your progress (each step's tests against day45/, with -race and goleak as in
                    grading), the current step's first failure, what to read next
                    [-fast] [-timeout 2m] [-ascii]`, progressCmd},
	{"hint", `hint N [reset]    learner: the next hint of step N from its README, one at a time`,
		func(_ context.Context, root string, args []string, stdout, _ io.Writer) error {
			return hintCmd(root, args, stdout)
		}},
	{"watch", `watch             learner: rerun the current step whenever a file in day45/ changes; Ctrl-C to leave
                    [-fast] [-interval 500ms] [-timeout 2m] [-ascii]`, watchCmd},
	{"check", `check N           learner: stress step N as grading does, K times in a row
                    [-count 10] [-timeout 5m]`, checkCmd},
	{"reset", `reset N           learner: restore step N's file in day45/ as handed out, and show what was dropped`, resetCmd},
	{"solution", `solution N        learner: once step N passes, the reference's file and how yours differs`, solutionCmd},
	{"grade", `grade DIR...      instructor: grade submissions (a learner's checkout, or a folder of them)
                    [-json | -md] [-timeout 2m] [-steps 1,2,...,capstone] [-o FILE]`, gradeCmd},
	{"verify", `verify            maintainer: check the progression invariant (go test once per stage, N = 0 to
                    the last step) and that every wrong solution in steps/*/testdata/mistakes fails its step (takes minutes) [-mistakes: only those]`, verifyCmd},
}

// usage is the help text, built from commands.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: go run ./cmd/workbook [-C DIR] [COMMAND] [ARGS]\n\nCommands:\n")
	for _, c := range commands {
		b.WriteString("  " + c.usage + "\n")
	}
	b.WriteString("  help              show this text\n\n" +
		"-C DIR runs as if started in DIR (the repository root is found by walking up to the go.mod of\n" +
		"module day45-thundering-herd). -fast skips the race detector: quicker, but a data race that grading\n" +
		"scores 0 goes unseen.\n")
	return b.String()
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// errUsage marks an error that deserves the usage text and exit code 2.
var errUsage = errors.New("usage")

// run is the whole program: it returns the exit code. 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	start := "."
	if len(args) >= 2 && args[0] == "-C" {
		start, args = args[1], args[2:]
	} else if len(args) >= 1 && strings.HasPrefix(args[0], "-C=") {
		start, args = strings.TrimPrefix(args[0], "-C="), args[1:]
	}
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || (cmd == "" && len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help")) {
		fmt.Fprint(stdout, usage())
		return 0
	}
	c, ok := lookup(cmd)
	if !ok {
		fmt.Fprintf(stderr, "workbook: unknown command %q\n\n%s", cmd, usage())
		return 2
	}
	root, err := findRoot(start)
	if err != nil {
		fmt.Fprintf(stderr, "workbook: %v\n", err)
		return 1
	}
	err = c.run(ctx, root, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		if msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), errUsage.Error()+": ")); msg != "" && msg != errUsage.Error() {
			fmt.Fprintf(stderr, "workbook: %s\n\n", msg)
		}
		fmt.Fprint(stderr, usage())
		return 2
	case errors.Is(err, errFailed):
		return 1 // already reported
	default:
		fmt.Fprintf(stderr, "workbook: %v\n", err)
		return 1
	}
}

// errFailed is returned by a command that has already reported why it failed.
var errFailed = errors.New("failed")

// usageError wraps a message so that run prints it with the usage text and exits 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlags returns a flag set that reports errors as usage errors instead of printing or exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs, allowing flags after positional arguments (grade DIR -json). It returns the
// positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageError("%s: help requested", fs.Name())
			}
			return nil, usageError("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// findRoot walks up from start to the directory whose go.mod declares ModulePath.
func findRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if progression.ModulePathOf(filepath.Join(d, "go.mod")) == ModulePath {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod of module %s in %s or above it: run the workbook inside the repository", ModulePath, dir)
		}
		d = parent
	}
}
