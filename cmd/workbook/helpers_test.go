package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
	"day45-thundering-herd/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }

// repoRoot is this repository's root: the grader's pristine tests.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := findRoot(".")
	require.NoError(t, err, "the repository's root")
	return root
}

// copyTree copies the Go sources, go.mod, go.sum, READMEs and the steps' data of the repository's learner checkout
// (day45, steps, testutil, internal, solutions) to a new temporary directory: a fresh submission.
func copyTree(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dst := fixtureDir(t)
	for _, f := range []string{"go.mod", "go.sum"} {
		mustCopy(t, filepath.Join(root, f), filepath.Join(dst, f))
	}
	for _, dir := range []string{"day45", "steps", "testutil", "internal", "solutions"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(path) {
			case ".go", ".md", ".json", ".txt":
			default:
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			mustCopy(t, path, filepath.Join(dst, rel))
			return nil
		})
		require.NoError(t, err, "copying %s", dir)
	}
	return dst
}

// fixtureDir returns an empty directory for a copy of the repository, removed when t ends. Its path is the same at
// every run of t: the go tool's build cache keys a package by its directory as well as its content, so that a copy
// at a new random path would recompile everything (with -race) at every run. If the path is taken (a concurrent or
// a crashed run), it falls back to a fresh temporary directory: slower, never shared.
func fixtureDir(t *testing.T) string {
	t.Helper()
	base := filepath.Join(os.TempDir(), "day45-workbook-tests", strings.NewReplacer("/", "_", `\`, "_").Replace(t.Name()))
	require.NoError(t, os.MkdirAll(filepath.Dir(base), 0o755))
	for i := range 4 {
		dir := fmt.Sprintf("%s-%d", base, i)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			if info, serr := os.Stat(dir); serr == nil && time.Since(info.ModTime()) > time.Hour {
				_ = os.RemoveAll(dir) // left by a run that crashed
				err = os.Mkdir(dir, 0o755)
			}
		}
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// solve copies the reference version of the given day45 files (e.g. "jitter.go") into the submission.
func solve(t *testing.T, sub string, files ...string) {
	t.Helper()
	for _, f := range files {
		mustCopy(t, filepath.Join(sub, "solutions", "day45", f), filepath.Join(sub, "day45", f))
	}
}

// allStepFiles are the day45 files of every step, from the manifest.
var allStepFiles = func() []string {
	var files []string
	for _, s := range progression.Steps() {
		files = append(files, s.File)
	}
	return files
}()

// edit rewrites the file rel of sub with the regular expression re → repl, and fails the test unless it matched: a
// prepared submission must really be broken the way the test says.
func edit(t *testing.T, sub, rel, re, repl string) {
	t.Helper()
	path := filepath.Join(sub, filepath.FromSlash(rel))
	b, err := os.ReadFile(path)
	require.NoError(t, err, "preparing the submission")
	rx := regexp.MustCompile(re)
	require.Regexp(t, rx, string(b), "preparing the submission: %s does not match %q", rel, re)
	require.NoError(t, os.WriteFile(path, rx.ReplaceAll(b, []byte(repl)), 0o644), "preparing the submission")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func mustCopy(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, copyFile(from, to))
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
