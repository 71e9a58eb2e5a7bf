// Package steps holds the course's manifest: the one list of its steps, which cmd/workbook, the progression check
// and the tests read. Each step's tests live in a directory of their own beside this file.
package steps

import (
	"embed"
	"path"
)

// Manifest is steps.json: for each step its number, directory, the day45/ file it edits, its titles, the expected
// time in minutes and a difficulty from 1 to 3.
//
//go:embed steps.json
var Manifest []byte

// starters are the day45/ files of every step as the course hands them out, so that a learner can start a step
// over (workbook reset) whatever happened to their day45/.
//
//go:embed */starter.go.txt
var starters embed.FS

// Starter returns the starter of the step whose directory is id.
func Starter(id string) ([]byte, error) { return starters.ReadFile(path.Join(id, "starter.go.txt")) }
