// Package steps holds the course's manifest: the one list of its steps, which cmd/workbook, the progression check
// and the tests read. Each step's tests live in a directory of their own beside this file.
package steps

import _ "embed"

// Manifest is steps.json: for each step its number, directory, the day45/ file it edits, its titles, the expected
// time in minutes and a difficulty from 1 to 3.
//
//go:embed steps.json
var Manifest []byte
