package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile submissions: each is graded 0 with its reason, and leaves nothing behind.

func TestGrade_HostileDeletesFiles(t *testing.T) {
	t.Parallel()
	canary := filepath.Join(t.TempDir(), "instructor-file")
	require.NoError(t, os.WriteFile(canary, []byte("keep me"), 0o644))
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `import \(`, "import (\n\t\"os\"")
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`,
		fmt.Sprintf("$1\n\t_ = os.RemoveAll(%q)", canary))
	got := gradeOne(t, sub, "1", 2*time.Minute)
	assert.Zero(t, got.Score, "a submission that imports os: score")
	assert.True(t, containsAny(got.Problems, `imports "os"`), "problems %q; want the import named", got.Problems)
	assert.FileExists(t, canary, "the grader ran code that deletes the instructor's files")
}

// listen returns the address of a listener on the instructor's loopback and a count of the connections it got.
func listen(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // outside the tests' network namespace
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var dialed atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dialed.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), &dialed
}

func TestGrade_HostileDialsOut(t *testing.T) {
	t.Parallel()
	addr, dialed := listen(t)
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `import \(`, "import (\n\t\"net\"")
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`,
		fmt.Sprintf("$1\n\tif c, err := net.Dial(\"tcp\", %q); err == nil {\n\t\tc.Close()\n\t}", addr))
	got := gradeOne(t, sub, "1", 2*time.Minute)
	assert.Zero(t, got.Score, "a submission that imports net: score")
	assert.True(t, containsAny(got.Problems, `imports "net"`), "problems %q; want the import named", got.Problems)
	assert.Zero(t, dialed.Load(), "the grader ran code that connected out")
}

// TestGrade_SandboxKeepsTheNetworkOut: go-redis is allowed (the steps need it), so the import check lets this dial
// through; where unshare works, the tests' own network namespace stops it.
func TestGrade_SandboxKeepsTheNetworkOut(t *testing.T) {
	t.Parallel()
	if !netnsWorks(context.Background()) {
		assert.Contains(t, strings.Join(protections(false), "; "), "network: NOT isolated", "the report must say so")
		return
	}
	addr, dialed := listen(t)
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`,
		fmt.Sprintf("$1\n\texfiltrate(%q)", addr))
	writeFile(t, filepath.Join(sub, "day45", "exfiltrate.go"), `package day45

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

var once sync.Once

func exfiltrate(addr string) { once.Do(func() { dial(addr) }) }

func dial(addr string) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = c.Ping(ctx).Err()
}
`)
	gradeOne(t, sub, "1", 2*time.Minute)
	assert.Zero(t, dialed.Load(), "a submission's test reached the instructor's network from inside the sandbox")
}

func TestGrade_HostileLoopsForever(t *testing.T) {
	t.Parallel()
	sub := copyTree(t)
	solve(t, sub, allStepFiles...)
	edit(t, sub, "day45/jitter.go", `(func AddJitter\(base time.Duration, percent float64\) time.Duration \{)`, "$1\n\tfor {\n\t}")
	got := gradeOne(t, sub, "1", 2*time.Second) // the loop burns a core until then
	e := entry(t, got, "01-jitter")
	assert.Zero(t, e.Score, "an endless loop: score")
	assert.Equal(t, "timeout", e.Outcome, "an endless loop: outcome (reasons %q)", e.Reasons)
}

func TestCheckImports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
		return p
	}
	ok := write("ok.go", "package day45\n\nimport (\n\t\"context\"\n\t\"github.com/redis/go-redis/v9\"\n)\n")
	bad := write("bad.go", "package day45\n\nimport (\n\t\"os/exec\"\n\t_ \"unsafe\"\n)\n\n//go:linkname x runtime.x\n")
	assert.Empty(t, checkImports(map[string]string{"a": ok, "gone": ""}), "allowed imports")
	got := strings.Join(checkImports(map[string]string{"b": bad}), "\n")
	for _, want := range []string{`imports "os/exec"`, `imports "unsafe"`, "//go:linkname"} {
		assert.Contains(t, got, want)
	}
}
