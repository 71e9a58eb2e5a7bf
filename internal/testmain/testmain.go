// Package testmain is the TestMain of the test packages that run go test themselves (internal/progression and
// cmd/workbook): goleak, and a larger heap target for the toolchain they start.
package testmain

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// childGOGC is the GOGC of the go commands these tests start, and so of their compilers, linkers and test binaries.
// The tests build a few hundred test binaries; at the default of 100 the linker spends a large share of its time
// collecting garbage. 400 took the README's test command from 114 s to 101 s on two cores, for a few hundred MB more
// per concurrent link.
const childGOGC = "400"

// Run sets GOGC for the children unless the caller chose one, runs the tests, and fails on leaked goroutines.
func Run(m *testing.M) {
	if _, set := os.LookupEnv("GOGC"); !set {
		os.Setenv("GOGC", childGOGC) // read by children only: this process's runtime has read GOGC already
	}
	goleak.VerifyTestMain(m)
}
