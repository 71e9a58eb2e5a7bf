package observability_test

import (
	"testing"

	"day45-thundering-herd/testutil"
)

// Every test of this step runs under goleak: a goroutine left running fails the package.
func TestMain(m *testing.M) { testutil.VerifyNone(m) }
