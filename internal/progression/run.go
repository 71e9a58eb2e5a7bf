package progression

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options says how to run go test.
type Options struct {
	Overlay map[string]string // file replacements, passed with -overlay
	Race    bool              // -race
	Tags    string            // -tags
	Timeout time.Duration     // go test -timeout per test binary; 0 means 2m
	Count   int               // go test -count; 0 means 1
	Env     []string          // extra environment, e.g. GOFLAGS
	Wrap    []string          // a command that runs go test, e.g. a sandbox: Wrap[0] Wrap[1:]... go test ...
	NoVet   bool              // -vet=off: for runs that judge only the tests' verdict
}

// Outcome classifies how a package's tests ended.
type Outcome string

const (
	Passed      Outcome = "pass"
	Failed      Outcome = "fail"        // by assertion: the honest way to fail
	BuildFailed Outcome = "build-error" // the package or its tests do not compile
	Panicked    Outcome = "panic"
	TimedOut    Outcome = "timeout"
	Raced       Outcome = "race" // the race detector reported a data race
	Leaked      Outcome = "leak" // goleak found goroutines left running
	NoTests     Outcome = "no-tests"
)

// PackageResult is the outcome of one package's tests.
type PackageResult struct {
	Package      string
	Outcome      Outcome
	Tests        int      // top-level tests that ran
	PassedTests  int      // of which passed
	FailedTests  []string // names of the top-level tests that failed
	FirstFailure string   // the first failure's message lines, for the learner
	Output       string   // everything the package printed
}

type event struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Output      string
	FailedBuild string
}

// Run runs go test -json on pkgs in dir (the module root) and returns one result per package, in pkgs' order.
// An error means go test itself could not run; test failures are results.
func Run(ctx context.Context, dir string, pkgs []string, o Options) ([]PackageResult, error) {
	args := []string{"test", "-json", fmt.Sprintf("-count=%d", max(o.Count, 1))}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	args = append(args, "-timeout", timeout.String())
	if o.NoVet {
		args = append(args, "-vet=off")
	}
	if o.Race {
		args = append(args, "-race")
	}
	if o.Tags != "" {
		args = append(args, "-tags", o.Tags)
	}
	if len(o.Overlay) > 0 {
		f, err := WriteOverlay(o.Overlay)
		if err != nil {
			return nil, err
		}
		defer os.Remove(f)
		args = append(args, "-overlay", f)
	}
	args = append(args, pkgs...)
	argv := append(append(slices.Clone(o.Wrap), "go"), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	results := parse(bytes.NewReader(out), dir, pkgs)
	if err != nil && len(out) == 0 {
		// go test printed no JSON at all: a setup problem (no module, bad pattern), not a test failure.
		return nil, fmt.Errorf("go test: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	// Packages that go test rejected before testing (e.g. a directory with no Go files) report on stderr only.
	for i := range results {
		if results[i].Outcome == "" {
			results[i].Outcome = BuildFailed
			results[i].Output += stderr.String()
			results[i].FirstFailure = FirstLines(stderr.String(), 8)
		}
	}
	return results, nil
}

func WriteOverlay(m map[string]string) (string, error) {
	b, err := json.Marshal(struct{ Replace map[string]string }{m})
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "day45-overlay-*.json")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// parse folds go test -json events into per-package results.
func parse(r io.Reader, dir string, pkgs []string) []PackageResult {
	return parseWithModule(r, ModulePathOf(filepath.Join(dir, "go.mod")), pkgs)
}

func parseWithModule(r io.Reader, modPath string, pkgs []string) []PackageResult {
	byPath := map[string]*PackageResult{}
	results := make([]PackageResult, len(pkgs))
	for i, p := range pkgs {
		results[i].Package = p
		byPath[importPath(modPath, p)] = &results[i]
	}
	testOut := map[string]*strings.Builder{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		pkg := e.Package
		if pkg == "" {
			pkg = e.ImportPath
		}
		res := byPath[pkg]
		if res == nil {
			// Build output names the test variant, e.g. "m/steps/x [m/steps/x.test]", or the external test package,
			// "m/steps/x_test [m/steps/x.test]".
			if i := strings.IndexByte(pkg, ' '); i > 0 {
				res = byPath[pkg[:i]]
				if res == nil {
					res = byPath[strings.TrimSuffix(pkg[:i], "_test")]
				}
			}
			if res == nil {
				continue
			}
		}
		switch {
		case e.Action == "output" || e.Action == "build-output":
			res.Output += e.Output
			if e.Test != "" {
				b := testOut[pkg+"\x00"+e.Test]
				if b == nil {
					b = &strings.Builder{}
					testOut[pkg+"\x00"+e.Test] = b
				}
				b.WriteString(e.Output)
			}
		case e.Action == "build-fail":
			res.Outcome = BuildFailed
		case e.Test != "" && !strings.Contains(e.Test, "/") && (e.Action == "pass" || e.Action == "fail"):
			res.Tests++
			if e.Action == "pass" {
				res.PassedTests++
				continue
			}
			res.FailedTests = append(res.FailedTests, e.Test)
			if res.FirstFailure == "" {
				if b := testOut[pkg+"\x00"+e.Test]; b != nil {
					res.FirstFailure = failureLines(b.String())
				}
			}
		case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			if res.Outcome == BuildFailed {
				continue
			}
			switch {
			case e.FailedBuild != "":
				res.Outcome = BuildFailed
			case e.Action == "pass" && res.Tests == 0:
				res.Outcome = NoTests
			case e.Action == "skip":
				res.Outcome = NoTests
			case e.Action == "pass":
				res.Outcome = Passed
			default:
				res.Outcome = classifyFailure(res.Output)
			}
		}
	}
	for i := range results {
		if results[i].Outcome == BuildFailed && results[i].FirstFailure == "" {
			results[i].FirstFailure = FirstLines(results[i].Output, 8)
		}
		if results[i].FirstFailure == "" && results[i].Outcome != Passed && results[i].Outcome != "" {
			results[i].FirstFailure = FirstLines(results[i].Output, 12)
		}
	}
	return results
}

// classifyFailure tells an honest assertion failure from the ways a test run can break.
func classifyFailure(out string) Outcome {
	switch {
	case strings.Contains(out, "panic: test timed out"):
		return TimedOut
	case strings.Contains(out, "WARNING: DATA RACE"):
		return Raced
	case strings.Contains(out, "found unexpected goroutines"):
		return Leaked
	case strings.Contains(out, "\npanic: ") || strings.HasPrefix(out, "panic: "):
		return Panicked
	}
	return Failed
}

// failureLines keeps the assertion messages of a failed test's output: the lines after its "=== RUN".
func failureLines(out string) string {
	var keep []string
	messages := ""
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- "):
			continue
		case strings.HasPrefix(t, "Error Trace:") || strings.HasPrefix(t, "Test:") || strings.HasPrefix(t, "/"):
			continue // testify's trace and absolute paths: noise for a learner
		case messages == "" && strings.HasPrefix(t, "Messages:"):
			messages = t
		}
		if len(keep) < 6 {
			keep = append(keep, t)
		}
	}
	// testify prints the message that names the lesson last: never cut it off.
	if messages != "" && !slices.Contains(keep, messages) {
		keep = append(keep, messages)
	}
	return strings.Join(keep, "\n")
}

// FirstLines returns the first n lines of s, trimmed.
func FirstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// ModulePathOf returns the module path declared by the go.mod file at path, or "" if there is none.
func ModulePathOf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		line, _, _ := strings.Cut(l, "//")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

func importPath(mod, rel string) string {
	rel = strings.TrimPrefix(strings.TrimPrefix(rel, "./"), ".")
	if rel == "" {
		return mod
	}
	return mod + "/" + rel
}
