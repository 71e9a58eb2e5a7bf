package main

import (
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Grading runs code nobody reviewed with the instructor's rights. Three layers keep it in its box:
//
//  1. Before anything runs, the submission's Go files may import only what the steps need (allowedImports), and
//     carry no //go:linkname, cgo or go:embed: that rules out files, processes, the network and unsafe tricks.
//  2. Its tests run with GOPROXY=off and -mod=readonly (nothing is downloaded), and a scratch HOME and TMPDIR that
//     are removed afterwards; the build and module caches stay the instructor's, so grading stays fast.
//  3. Where unshare(1) can create a network namespace (Linux, as root or with user namespaces), the tests run in
//     one with only a loopback of their own: miniredis works, nothing else is reachable.
//
// A loop that never ends is the test timeout's business (go test -timeout and the grader's backstop).

// allowedImports are the packages the reference and any sensible solution of the six steps use.
var allowedImports = map[string]bool{
	"bytes": true, "context": true, "crypto/rand": true, "encoding/hex": true, "encoding/json": true, "errors": true,
	"fmt": true, "maps": true, "math": true, "math/rand/v2": true, "runtime/debug": true, "slices": true, "sort": true,
	"strconv": true, "strings": true, "sync": true, "sync/atomic": true, "time": true,
	"github.com/redis/go-redis/v9":                    true,
	"golang.org/x/sync/singleflight":                  true,
	"golang.org/x/sync/errgroup":                      true,
	"golang.org/x/sync/semaphore":                     true,
	"github.com/redis/go-redis/v9/maintnotifications": true,
}

// forbiddenDirectives are compiler directives that reach past the language's safety.
var forbiddenDirectives = []string{"//go:linkname", "//go:cgo_", "//go:embed", "//export"}

// checkImports returns why the submission's files (the overlay's sources) may not run, or nothing.
func checkImports(overlay map[string]string) []string {
	var problems []string
	for _, src := range overlay {
		if src == "" {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		name := "day45/" + filepath.Base(src)
		for _, d := range forbiddenDirectives {
			if bytes.Contains(b, []byte(d)) {
				problems = append(problems, fmt.Sprintf("%s uses %s", name, d))
			}
		}
		f, err := parser.ParseFile(token.NewFileSet(), src, b, parser.ImportsOnly)
		if err != nil {
			continue // the build reports it
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowedImports[path] && !strings.HasPrefix(path, ModulePath+"/day45/") {
				problems = append(problems, fmt.Sprintf("%s imports %q, which no step needs", name, path))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// sandbox is the environment of one submission's tests (layers 2 and 3 above). close removes its scratch HOME.
type sandbox struct {
	home string
	env  []string
	wrap []string
}

// newSandbox prepares a scratch HOME; netns says whether to wrap the tests in a network namespace (netnsWorks).
func newSandbox(ctx context.Context, netns bool) (*sandbox, error) {
	home, err := os.MkdirTemp("", "workbook-grade-home-*")
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(home, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	s := &sandbox{home: home, env: []string{"HOME=" + home, "TMPDIR=" + tmp, "GOPROXY=off", "GOFLAGS=-mod=readonly"}}
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} { // the instructor's caches, not the scratch HOME's
		out, err := exec.CommandContext(ctx, "go", "env", v).Output()
		if err == nil && strings.TrimSpace(string(out)) != "" {
			s.env = append(s.env, v+"="+strings.TrimSpace(string(out)))
		}
	}
	if netns {
		s.wrap = netnsWrap
	}
	return s, nil
}

// netnsWrap runs a command in a new network namespace whose loopback is up.
var netnsWrap = []string{"unshare", "--net", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}

func netnsWorks(ctx context.Context) bool {
	if _, err := exec.LookPath("unshare"); err != nil {
		return false
	}
	return exec.CommandContext(ctx, netnsWrap[0], append(netnsWrap[1:], "true")...).Run() == nil
}

// protections says which layers apply, for the report.
func protections(netns bool) []string {
	p := []string{"imports: allowlist", "go: GOPROXY=off, -mod=readonly", "scratch HOME and TMPDIR"}
	if netns {
		p = append(p, "network: own namespace, loopback only (unshare)")
	} else {
		p = append(p, "network: NOT isolated (unshare unavailable)")
	}
	return p
}

func (s *sandbox) close() { os.RemoveAll(s.home) }
