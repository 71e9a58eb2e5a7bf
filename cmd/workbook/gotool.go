package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"day45-thundering-herd/internal/progression"
)

// Running the go tool on a submission: the overlay, the environment, build and vet.

// buildOverlay maps the files of root/day45 to the submission's, for go -overlay: every non-test file of the
// submission's day45/ (and its subdirectories) replaces or adds to root's, every non-test file of root/day45 that the
// submission lacks is deleted. The test files stay root's: the pristine tests run against the submission's code,
// with root's go.mod, steps/ and testutil/.
func buildOverlay(root, dir string) (map[string]string, error) {
	overlay := map[string]string{}
	src := filepath.Join(dir, "day45")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		// Only the submission's own Go code: no symlinks (they could point anywhere), no tests (the course's run).
		if d.Type().IsRegular() && strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			overlay[filepath.Join(root, "day45", rel)] = path
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	mine, _ := filepath.Glob(filepath.Join(root, "day45", "*.go"))
	for _, f := range mine {
		if _, ok := overlay[f]; !ok && !strings.HasSuffix(f, "_test.go") {
			overlay[f] = "" // the submission deleted it
		}
	}
	return overlay, nil
}

// gradeEnv makes every grading run the same whatever the instructor's environment says: learner mode (no GOFLAGS,
// so no -tags solution), no toolchain download, no go.work, and the embedded miniredis rather than a shared
// REDIS_ADDR.
func gradeEnv() []string {
	return []string{"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "REDIS_ADDR="}
}

// goCmd runs the go command in dir and returns its combined output and whether it succeeded.
func goCmd(ctx context.Context, dir string, timeout time.Duration, args ...string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gradeEnv()...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Sprintf("go %s: timed out after %s", strings.Join(args, " "), timeout), false
	}
	return string(out), err == nil
}

// vetLine matches a go vet finding in a day45 file: "day45/jitter.go:12:2: message". Through the overlay, vet
// names the submission's file, so any directory may come before day45/.
var vetLine = regexp.MustCompile(`^(?:vet: )?(?:.*[/\\])?day45[/\\]([^/\\:\s]+\.go):(\d+)(?::\d+)?: (.+)$`)

// runVet runs go vet on the submission's day45 package and returns its findings by file ("jitter.go:12: message");
// findings in other files are notes.
func runVet(ctx context.Context, root, overlay string, timeout time.Duration) (map[string][]string, []string) {
	out, ok := goCmd(ctx, root, timeout, "vet", "-overlay", overlay, "./day45")
	findings := map[string][]string{}
	if ok {
		return findings, nil
	}
	var notes []string
	stepFile := map[string]bool{}
	for _, s := range progression.Steps() {
		stepFile[s.File] = true
	}
	matched := false
	for _, l := range strings.Split(out, "\n") {
		m := vetLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		matched = true
		f := m[1] + ":" + m[2] + ": " + m[3]
		if stepFile[m[1]] {
			findings[m[1]] = append(findings[m[1]], f)
		} else {
			notes = append(notes, "vet (no step's file, no points lost): day45/"+f)
		}
	}
	if !matched {
		notes = append(notes, "go vet failed: "+progression.FirstLines(out, 4))
	}
	return findings, notes
}

// compilerLines drops go build's "# package" headers, keeping the compiler's messages.
func compilerLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "# ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
