// Package progression runs the workbook's tests the way learners, instructors and maintainers need them: one step,
// all steps of a submission, or every stage of the course with the first N defense files taken from the reference
// (the progression invariant of SPEC section 2). cmd/workbook and the solution-mode progression test share it.
package progression

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"day45-thundering-herd/steps"
)

// Step is one defense of the course: its tests live in Dir, its work in day45/File.
type Step struct {
	N          int    `json:"n"`
	Dir        string `json:"id"`   // under steps/
	File       string `json:"file"` // under day45/ and solutions/day45/
	Title      string `json:"title_en"`
	JA         string `json:"title_ja"` // the title in the learner's language
	Minutes    int    `json:"minutes"`  // expected time
	Difficulty int    `json:"difficulty"`
	Advanced   bool   `json:"advanced"` // after the capstone: optional, graded as a bonus
}

// Package returns the step's import path relative to the module root, for go test.
func (s Step) Package() string { return "./steps/" + s.Dir }

// Steps returns the steps in course order, from the manifest steps/steps.json: the core day, then the advanced
// track.
func Steps() []Step {
	return slices.Clone(manifest)
}

// CoreSteps returns how many steps make the core day: the capstone passes once they are done.
func CoreSteps() int {
	n := 0
	for _, s := range manifest {
		if !s.Advanced {
			n++
		}
	}
	return n
}

// manifest is steps/steps.json, read once; a manifest that does not parse is a broken build, so it panics.
var manifest = func() []Step {
	var s []Step
	if err := json.Unmarshal(steps.Manifest, &s); err != nil {
		panic("steps/steps.json: " + err.Error())
	}
	for i, st := range s {
		if st.N != i+1 || st.Dir == "" || st.File == "" {
			panic(fmt.Sprintf("steps/steps.json: entry %d is %+v, want step %d with an id and a file", i, st, i+1))
		}
		if i > 0 && s[i-1].Advanced && !st.Advanced {
			panic(fmt.Sprintf("steps/steps.json: core step %d comes after an advanced one", st.N))
		}
	}
	return s
}()

// CapstonePackage is where the lesson's four expected-output tests live.
const CapstonePackage = "./day45"

// GivenFiles are the plumbing files of day45/ that are not a step's work; they must equal solutions/day45's.
func GivenFiles() []string {
	return []string{"doc.go", "types.go", "config.go", "envelope.go", "protector.go", "cache.go"}
}

// Overlay maps the day45/ files of steps 1..n to their reference versions under root, for go test -overlay.
func Overlay(root string, n int) map[string]string {
	m := make(map[string]string, n)
	for _, s := range Steps()[:n] {
		m[filepath.Join(root, "day45", s.File)] = filepath.Join(root, "solutions", "day45", s.File)
	}
	return m
}

// CheckGivenFiles reports every given file whose copies under root differ or are missing.
func CheckGivenFiles(root string) []string {
	var problems []string
	for _, f := range GivenFiles() {
		a, errA := os.ReadFile(filepath.Join(root, "day45", f))
		b, errB := os.ReadFile(filepath.Join(root, "solutions", "day45", f))
		switch {
		case errA != nil || errB != nil:
			problems = append(problems, fmt.Sprintf("given file %s: %v %v", f, errA, errB))
		case !bytes.Equal(a, b):
			problems = append(problems, fmt.Sprintf("given file %s differs between day45/ and solutions/day45/", f))
		}
	}
	return problems
}
