package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/internal/progression"
)

// TestWriteExercism checks the results.json of a solved and an unsolved submission against the required fields of
// Exercism's test-runner interface, version 3: version and status at the top, message when the status is error;
// per test name, status, test_code and task_id, and a message when it did not pass.
func TestWriteExercism(t *testing.T) {
	solved, unsolved := fakeSubmission(true), fakeSubmission(false)
	for _, tc := range []struct {
		name   string
		sub    Submission
		status string
	}{{"solved", solved, "pass"}, {"unsolved", unsolved, "fail"}} {
		var buf bytes.Buffer
		require.NoError(t, writeExercism(&buf, tc.sub))
		var doc map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "%s: results.json is not JSON:\n%s", tc.name, buf.String())
		assert.Equal(t, float64(3), doc["version"], "%s: version", tc.name)
		assert.Equal(t, tc.status, doc["status"], "%s: status", tc.name)
		tests, ok := doc["tests"].([]any)
		require.True(t, ok, "%s: tests is %T", tc.name, doc["tests"])
		require.Len(t, tests, len(progression.Steps())+1, "%s: one test per step and the capstone", tc.name)
		for i, x := range tests {
			test := x.(map[string]any)
			for _, field := range []string{"name", "status", "test_code", "task_id"} {
				assert.Contains(t, test, field, "%s: test %d lacks %s", tc.name, i, field)
			}
			assert.Equal(t, float64(i+1), test["task_id"], "%s: test %d: task_id", tc.name, i)
			if test["status"] != "pass" {
				assert.NotEmpty(t, test["message"], "%s: test %d failed without a message", tc.name, i)
			}
			assert.Equal(t, tc.status, test["status"], "%s: test %d: status", tc.name, i)
		}
	}
}

func fakeSubmission(solved bool) Submission {
	var sub Submission
	for _, st := range progression.Steps() {
		e := StepGrade{Step: st.N, Dir: st.Dir, Title: st.Title, Max: stepPoints, Outcome: "pass", Score: stepPoints, Reasons: []string{}}
		if !solved {
			e.Outcome, e.Score, e.FirstFailure = "fail", 0, fmt.Sprintf("x_test.go:9: 1000 並行の Get が DB クエリ 1000 回 — steps/%s/README.md を参照", st.Dir)
		}
		sub.Steps = append(sub.Steps, e)
	}
	c := StepGrade{Dir: "capstone", Max: capstonePoints, Outcome: "pass", Score: capstonePoints}
	if !solved {
		c.Outcome, c.Score, c.Reasons = "fail", 0, []string{"capstone tests fail: TestThunderingHerdProtector_SingleFlight"}
	}
	sub.Capstone = &c
	return sub
}

// TestClassroomWorkflow checks .github/workflows/classroom.yml against what GitHub Classroom's command grader and
// reporter require: per graded test an id, a test-name, a command, a timeout and a max-score; the reporter lists
// every id in runners and gets each result as ID_RESULTS. The points follow CHECKLIST.md's rubric.
func TestClassroomWorkflow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", "classroom.yml"))
	require.NoError(t, err)
	doc := string(b)
	graders := strings.Split(doc, "uses: classroom-resources/autograding-command-grader@v1")[1:]
	require.Len(t, graders, len(progression.Steps())+1, "one graded test per step and the capstone")
	ids := regexp.MustCompile(`(?m)^\s+id: (\S+)$`).FindAllStringSubmatch(doc, -1)
	require.Len(t, ids, len(graders), "every graded test has an id")
	total := 0
	for i, g := range graders {
		block, _, _ := strings.Cut(g, "\n      - ")
		for _, key := range []string{"test-name:", "command:", "timeout:", "max-score:"} {
			assert.Contains(t, block, key, "graded test %d lacks %s", i+1, key)
		}
		m := regexp.MustCompile(`max-score: (\d+)`).FindStringSubmatch(block)
		require.NotNil(t, m, "graded test %d: max-score", i+1)
		pts, _ := strconv.Atoi(m[1])
		// The core steps, the capstone, then the advanced steps.
		want := stepPoints
		switch core := progression.CoreSteps(); {
		case i == core:
			want = capstonePoints
		case i > core:
			want = bonusPoints
		}
		assert.Equal(t, want, pts, "graded test %d: points", i+1)
		total += pts
	}
	bonus := bonusPoints * (len(progression.Steps()) - progression.CoreSteps())
	assert.Equal(t, 100+bonus, total, "the points of the workflow: 100 for the day and the bonus")
	var runners []string
	for _, id := range ids {
		runners = append(runners, id[1])
		assert.Contains(t, doc, strings.ToUpper(id[1])+"_RESULTS: \"${{ steps."+id[1]+".outputs.result }}\"", "the reporter lacks %s's result", id[1])
	}
	assert.Contains(t, doc, "runners: "+strings.Join(runners, ","), "the reporter's runners")
}

// TestGrade_FormatExercism grades a fresh copy and one with step 01 solved, through the command line, as an
// Exercism runner would call it: the first fails with the step's message, the second passes.
func TestGrade_FormatExercism(t *testing.T) {
	t.Parallel()
	fresh, solved := copyTree(t), copyTree(t)
	solve(t, solved, "jitter.go")
	for _, tc := range []struct {
		dir, status string
	}{{fresh, "fail"}, {solved, "pass"}} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"-C", repoRoot(t), "grade", "-format", "exercism", "-steps", "1", tc.dir}, &stdout, &stderr)
		require.Equal(t, 0, code, "grade -format exercism: exit code; stderr %s", stderr.String())
		var res exercismResults
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), "results.json:\n%s", stdout.String())
		assert.Equal(t, 3, res.Version)
		assert.Equal(t, tc.status, res.Status, "results.json:\n%s", stdout.String())
		require.Len(t, res.Tests, 1, "-steps 1 grades one task")
		assert.Equal(t, tc.status, res.Tests[0].Status)
		if tc.status == "fail" {
			assert.Contains(t, res.Tests[0].Message, "steps/01-jitter/README.md", "the failure names the lesson")
		}
	}
}
