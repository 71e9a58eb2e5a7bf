package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Exercism's test-runner interface, version 3 (exercism.org/docs/building/tooling/test-runners/interface): one
// results.json per submission, a test entry per step with the step's number as its task_id.

type exercismResults struct {
	Version int            `json:"version"`
	Status  string         `json:"status"` // pass, fail, error
	Message string         `json:"message,omitempty"`
	Tests   []exercismTest `json:"tests"`
}

type exercismTest struct {
	Name     string `json:"name"`
	TestCode string `json:"test_code"`
	Status   string `json:"status"`            // pass, fail, error
	Message  string `json:"message,omitempty"` // why it failed: the first failure, or what cost the points
	TaskID   int    `json:"task_id"`
}

// writeExercism writes the grade of one submission as Exercism's results.json.
func writeExercism(w io.Writer, sub Submission) error {
	res := exercismResults{Version: 3, Status: "pass"}
	for i, e := range sub.all() {
		t := exercismTest{Name: testName(*e), TestCode: "go test -race -count=1 " + pkgOf(*e), Status: "pass", TaskID: i + 1}
		switch {
		case e.Outcome == "pass" && e.Score == e.Max:
		case e.Outcome == "build-error" || e.Outcome == "not-run" || e.Outcome == "timeout":
			t.Status, t.Message = "error", failureText(*e)
		default:
			t.Status, t.Message = "fail", failureText(*e)
		}
		if t.Status != "pass" && res.Status == "pass" && !e.Bonus { // an advanced step is optional
			res.Status = "fail"
		}
		res.Tests = append(res.Tests, t)
	}
	if len(sub.Problems) > 0 && allErrored(res.Tests) {
		res.Status, res.Message = "error", strings.Join(sub.Problems, "; ")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func testName(e StepGrade) string {
	if e.Dir == "capstone" {
		return "capstone: day45/capstone_test.go"
	}
	return fmt.Sprintf("step %s: %s", e.Dir, e.Title)
}

func pkgOf(e StepGrade) string {
	if e.Dir == "capstone" {
		return "./day45/"
	}
	return "./steps/" + e.Dir + "/"
}

func failureText(e StepGrade) string {
	parts := append([]string{}, e.Reasons...)
	if e.FirstFailure != "" {
		parts = append(parts, e.FirstFailure)
	}
	if len(parts) == 0 {
		return e.Outcome
	}
	return strings.Join(parts, "\n")
}

func allErrored(ts []exercismTest) bool {
	for _, t := range ts {
		if t.Status != "error" {
			return false
		}
	}
	return len(ts) > 0
}
