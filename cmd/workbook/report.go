package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"day45-thundering-herd/internal/progression"
)

// Report is grade's output: one entry per submission and the class summary.
type Report struct {
	Submissions []Submission `json:"submissions"`
	Summary     Summary      `json:"summary"`
	Protections []string     `json:"protections"` // how the submissions' code was kept in its box (sandbox.go)
}

// Summary describes the class.
type Summary struct {
	Count        int        `json:"count"`
	Max          int        `json:"max"`
	Mean         float64    `json:"mean"`
	Median       float64    `json:"median"`
	FullMarks    int        `json:"full_marks"` // submissions with score == max
	Steps        []PassRate `json:"steps"`
	Capstone     *PassRate  `json:"capstone,omitempty"`
	WithProblems []string   `json:"with_problems"` // names of the submissions that have problems
}

// PassRate says how many submissions earned a step's full points.
type PassRate struct {
	Step   int     `json:"step"`
	Dir    string  `json:"dir"`
	Passed int     `json:"passed"`
	Rate   float64 `json:"rate"` // passed / count, 0..1
}

func summarize(subs []Submission, o gradeOpts) Summary {
	s := Summary{Count: len(subs), WithProblems: []string{}, Steps: []PassRate{}}
	if o.Capstone {
		s.Capstone = &PassRate{Dir: "capstone"}
	}
	for _, n := range o.Steps {
		s.Steps = append(s.Steps, PassRate{Step: n, Dir: fmtStepDir(n)})
	}
	if len(subs) == 0 {
		return s
	}
	scores := make([]int, 0, len(subs))
	total := 0
	for _, sub := range subs {
		s.Max = max(s.Max, sub.Max)
		scores = append(scores, sub.Score)
		total += sub.Score
		if sub.Score == sub.Max {
			s.FullMarks++
		}
		if len(sub.Problems) > 0 {
			s.WithProblems = append(s.WithProblems, sub.Name)
		}
		for i, e := range sub.Steps {
			if i < len(s.Steps) && e.Score == e.Max {
				s.Steps[i].Passed++
			}
		}
		if s.Capstone != nil && sub.Capstone != nil && sub.Capstone.Score == sub.Capstone.Max {
			s.Capstone.Passed++
		}
	}
	s.Mean = round1(float64(total) / float64(len(subs)))
	slices.Sort(scores)
	if n := len(scores); n%2 == 1 {
		s.Median = float64(scores[n/2])
	} else {
		s.Median = float64(scores[n/2-1]+scores[n/2]) / 2
	}
	for i := range s.Steps {
		s.Steps[i].Rate = round2(float64(s.Steps[i].Passed) / float64(len(subs)))
	}
	if s.Capstone != nil {
		s.Capstone.Rate = round2(float64(s.Capstone.Passed) / float64(len(subs)))
	}
	return s
}

func fmtStepDir(n int) string {
	if fileOf(n) == "" {
		return "capstone"
	}
	return progression.Steps()[n-1].Dir
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func writeJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// writeMarkdown writes a table per submission and, for more than one, the class summary.
func writeMarkdown(w io.Writer, rep Report) error {
	var b strings.Builder
	b.WriteString("# Day 45 grades\n")
	if len(rep.Protections) > 0 {
		fmt.Fprintf(&b, "\nThe submissions' code ran with: %s.\n", strings.Join(rep.Protections, "; "))
	}
	for _, sub := range rep.Submissions {
		fmt.Fprintf(&b, "\n## %s: %s\n\n", mdText(sub.Name), sub.scoreText())
		fmt.Fprintf(&b, "`%s`, graded in %.0fs\n\n", sub.Dir, sub.Seconds)
		b.WriteString("| step | title | tests | score | outcome | reasons |\n")
		b.WriteString("| --- | --- | --- | ---: | --- | --- |\n")
		for _, e := range sub.all() {
			tests := "-"
			if e.Tests > 0 {
				tests = fmt.Sprintf("%d/%d", e.Passed, e.Tests)
			}
			dir := e.Dir
			if e.Bonus {
				dir += " (bonus)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d/%d | %s | %s |\n", dir, mdText(e.Title), tests, e.Score, e.Max, e.Outcome,
				mdText(strings.Join(e.Reasons, "; ")))
		}
		if len(sub.Problems) > 0 {
			b.WriteString("\nProblems:\n\n")
			for _, p := range sub.Problems {
				fmt.Fprintf(&b, "- %s\n", mdText(p))
			}
		}
		if len(sub.Notes) > 0 {
			b.WriteString("\nNotes (no points lost):\n\n")
			for _, n := range sub.Notes {
				fmt.Fprintf(&b, "- %s\n", mdText(n))
			}
		}
	}
	if len(rep.Submissions) > 1 {
		s := rep.Summary
		fmt.Fprintf(&b, "\n## Class summary\n\n")
		fmt.Fprintf(&b, "%d submissions, mean %.1f/%d, median %g/%d, %d with full marks.\n\n", s.Count, s.Mean, s.Max, s.Median, s.Max, s.FullMarks)
		b.WriteString("| step | full marks | rate |\n| --- | ---: | ---: |\n")
		rates := slices.Clone(s.Steps)
		if s.Capstone != nil {
			rates = append(rates, *s.Capstone)
		}
		for _, r := range rates {
			fmt.Fprintf(&b, "| %s | %d/%d | %.0f%% |\n", r.Dir, r.Passed, s.Count, r.Rate*100)
		}
		if len(s.WithProblems) > 0 {
			b.WriteString("\nSubmissions with problems:\n\n")
			for _, sub := range rep.Submissions {
				if len(sub.Problems) > 0 {
					fmt.Fprintf(&b, "- %s: %s\n", mdText(sub.Name), mdText(strings.Join(sub.Problems, "; ")))
				}
			}
		} else {
			b.WriteString("\nNo submission has problems.\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdText makes text safe for one Markdown table cell or list item.
func mdText(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "<br>")
	return s
}
