package progression

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMistakeHeader(t *testing.T) {
	what, want, outcome, err := ParseMistakeHeader([]byte("// mistake: Release GETs, then DELs\n// want: GET で自分のトークンを確かめた直後\n\npackage day45\n// want: not the header\n"))
	require.NoError(t, err, "a valid header")
	assert.Equal(t, "Release GETs, then DELs", what, "mistake")
	assert.Equal(t, "GET で自分のトークンを確かめた直後", want, "want")
	assert.Equal(t, Failed, outcome, "no outcome line: by assertion")

	_, want, outcome, err = ParseMistakeHeader([]byte("// mistake: ++ on a plain int64\n// want: DATA RACE: x\n// outcome: race\npackage day45\n"))
	require.NoError(t, err, "a header with an outcome")
	assert.Equal(t, "DATA RACE: x", want, "want keeps everything after the first colon")
	assert.Equal(t, Raced, outcome, "outcome: race")

	for name, src := range map[string]string{
		"no mistake line":     "// want: x\npackage day45\n",
		"no want line":        "// mistake: x\npackage day45\n",
		"empty want":          "// mistake: x\n// want:\npackage day45\n",
		"want after the code": "// mistake: x\npackage day45\n// want: y\n",
		"unknown outcome":     "// mistake: x\n// want: y\n// outcome: panic\npackage day45\n",
	} {
		_, _, _, err := ParseMistakeHeader([]byte(src))
		assert.Error(t, err, "%s: want an error", name)
	}
}

func TestLoadMistakes(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	}
	write("steps/03-lock/testdata/mistakes/b.go.txt", "// mistake: b\n// want: wb\npackage day45\n")
	write("steps/03-lock/testdata/mistakes/a.go.txt", "// mistake: a\n// want: wa\npackage day45\n")
	write("steps/03-lock/testdata/mistakes/notes.md", "not a mistake")
	write("steps/01-jitter/testdata/mistakes/c.go.txt", "// mistake: c\n// want: wc\n// outcome: race\npackage day45\n")
	got, err := LoadMistakes(root)
	require.NoError(t, err, "LoadMistakes")
	require.Len(t, got, 3, "one per .go.txt file")
	for i, w := range []struct {
		step    int
		name    string
		outcome Outcome
	}{{1, "c", Raced}, {3, "a", Failed}, {3, "b", Failed}} {
		assert.Equal(t, w.step, got[i].Step.N, "%d: step", i)
		assert.Equal(t, w.name, got[i].Name, "%d: name", i)
		assert.Equal(t, w.outcome, got[i].Outcome, "%d: outcome", i)
	}
	assert.Equal(t, "wa", got[1].Want, "want of a")

	write("steps/02-singleflight/testdata/mistakes/bad.go.txt", "package day45\n")
	_, err = LoadMistakes(root)
	assert.ErrorContains(t, err, "bad.go.txt", "a file without a header: the error names it")
}

// TestJudgeMistake: a mistake is caught only by the failure its header asks for, with its want text.
func TestJudgeMistake(t *testing.T) {
	m := Mistake{Step: Steps()[2], Name: "get-then-del", What: "GET then DEL", Want: "直後", Outcome: Failed}
	caught := PackageResult{Outcome: Failed, FailedTests: []string{"TestX"}, Output: "... GET で確かめた直後に ..."}
	assert.Empty(t, judgeMistake(m, caught), "failed by assertion with the want text")
	for name, r := range map[string]PackageResult{
		"passed":        {Outcome: Passed},
		"build failure": {Outcome: BuildFailed, Output: "直後"},
		"panic":         {Outcome: Panicked, Output: "直後"},
		"timeout":       {Outcome: TimedOut, Output: "直後"},
		"no want text":  {Outcome: Failed, FailedTests: []string{"TestY"}, Output: "something else"},
	} {
		v := judgeMistake(m, r)
		assert.Contains(t, v, "03-lock/get-then-del", "%s: want a violation naming the mistake", name)
	}
	race := m
	race.Outcome, race.Want = Raced, "DATA RACE"
	assert.Empty(t, judgeMistake(race, PackageResult{Outcome: Raced, Output: "WARNING: DATA RACE"}), "outcome: race, raced")
	assert.NotEmpty(t, judgeMistake(race, PackageResult{Outcome: Failed, Output: "DATA RACE"}), "outcome: race, failed by assertion")
}
