package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"day45-thundering-herd/internal/progression"
)

// What a submission is, and what it changed of the course's tests and given files.

// checkSubmission returns why dir is not a submission, or "".
func checkSubmission(dir string) string {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return "not a submission: " + err.Error()
	case !fi.IsDir():
		return "not a submission: not a directory"
	}
	mod := filepath.Join(dir, "go.mod")
	if !fileExists(mod) {
		return "not a submission: no go.mod (expected a checkout of the workbook)"
	}
	if m := progression.ModulePathOf(mod); m != ModulePath {
		return fmt.Sprintf("not a submission: go.mod declares module %q, want %q", m, ModulePath)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "day45", "*.go"))
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return ""
		}
	}
	return "not a submission: no Go files in day45/"
}

// tamper is a pristine test file that a submission deleted or changed.
type tamper struct {
	path    string // slash-separated, relative to the module root
	deleted bool
}

func (t tamper) reason() string {
	if t.deleted {
		return "test file deleted: " + t.path
	}
	return "test file modified: " + t.path
}

// affects reports whether the tampered file belongs to step n (0: the capstone). A testutil file affects all.
func (t tamper) affects(n int) bool {
	switch {
	case strings.HasPrefix(t.path, "testutil/"):
		return true
	case t.path == "day45/capstone_test.go":
		return n == 0
	case n >= 1 && n <= len(progression.Steps()):
		return strings.HasPrefix(t.path, "steps/"+progression.Steps()[n-1].Dir+"/")
	}
	return false
}

// pristineTests lists the test files that grading runs, relative to root: every steps/*/*_test.go, the capstone's
// day45/capstone_test.go and testutil's non-test .go files (the helpers every test uses).
func pristineTests(root string) []string {
	var files []string
	for _, s := range progression.Steps() {
		m, _ := filepath.Glob(filepath.Join(root, "steps", s.Dir, "*_test.go"))
		files = append(files, m...)
	}
	files = append(files, filepath.Join(root, "day45", "capstone_test.go"))
	m, _ := filepath.Glob(filepath.Join(root, "testutil", "*.go"))
	for _, f := range m {
		if !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	rel := make([]string, 0, len(files))
	for _, f := range files {
		if r, err := filepath.Rel(root, f); err == nil {
			rel = append(rel, filepath.ToSlash(r))
		}
	}
	return rel
}

// compareTests compares the submission's copies of the pristine test files with the grader's. It also notes the
// test files the submission added, which grading ignores.
func compareTests(root, dir string) ([]tamper, []string) {
	var tampered []tamper
	pristine := pristineTests(root)
	for _, rel := range pristine {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		switch {
		case err != nil:
			tampered = append(tampered, tamper{path: rel, deleted: true})
		case !bytes.Equal(normalize(got), normalize(want)):
			tampered = append(tampered, tamper{path: rel})
		}
	}
	var notes []string
	var extra []string
	for _, s := range progression.Steps() {
		m, _ := filepath.Glob(filepath.Join(dir, "steps", s.Dir, "*.go"))
		extra = append(extra, m...)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "day45", "*_test.go"))
	extra = append(extra, m...)
	for _, f := range extra {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if !slices.Contains(pristine, rel) {
			notes = append(notes, "ignored (not one of the course's test files): "+rel)
		}
	}
	return tampered, notes
}

// compareGiven notes the given files of day45/ that the submission changed. Grading uses them as they are.
func compareGiven(root, dir string) []string {
	var notes []string
	for _, f := range progression.GivenFiles() {
		want, err := os.ReadFile(filepath.Join(root, "day45", f))
		if err != nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, "day45", f))
		switch {
		case err != nil:
			notes = append(notes, "given file missing: day45/"+f)
		case !bytes.Equal(normalize(got), normalize(want)):
			notes = append(notes, "given file changed (graded as it is): day45/"+f)
		}
	}
	return notes
}

// normalize makes a file's bytes comparable across operating systems: CRLF line ends become LF.
func normalize(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// sameFile reports whether two files exist with the same content (line ends aside).
func sameFile(a, b string) bool {
	x, errA := os.ReadFile(a)
	y, errB := os.ReadFile(b)
	return errA == nil && errB == nil && bytes.Equal(normalize(x), normalize(y))
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
