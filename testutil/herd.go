package testutil

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
)

// HerdResult holds the error of each goroutine of a Herd, by index.
type HerdResult struct {
	Errs []error
}

// Herd runs fn(0) .. fn(n-1) on n goroutines that all wait on one start signal, so they hit the code under test at
// the same instant: a thundering herd. It returns when every goroutine has returned; none outlives it. A panic in fn
// is not recovered: it must not pass for an error that the code under test returned.
func Herd(n int, fn func(i int) error) HerdResult {
	errs := make([]error, max(n, 0))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return HerdResult{Errs: errs}
}

// OK returns how many calls succeeded.
func (r HerdResult) OK() int { return len(r.Errs) - r.Failed() }

// Failed returns how many calls returned an error.
func (r HerdResult) Failed() int {
	n := 0
	for _, err := range r.Errs {
		if err != nil {
			n++
		}
	}
	return n
}

// FirstErr returns the error of the lowest-numbered failed call, or nil.
func (r HerdResult) FirstErr() error {
	for _, err := range r.Errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many calls failed with an error matching target (errors.Is).
func (r HerdResult) Count(target error) int {
	n := 0
	for _, err := range r.Errs {
		if err != nil && errors.Is(err, target) {
			n++
		}
	}
	return n
}

// Parked counts the goroutines that are blocked (in a select, a channel operation, a lock or a sleep) with every
// one of frames somewhere on their stack, for example "(*ThunderingHerdProtector).fill": a caller blocked there
// waits for a shared load. It lets a test hold a load until the whole herd waits on it, which no metric can tell,
// and fail at once when a caller is stuck where no correct solution puts it (see InTheDB).
func Parked(frames ...string) int {
	return countParked(func(g string) bool { return containsAll(g, frames) })
}

// countParked counts the blocked goroutines whose stack (as runtime.Stack prints it) satisfies match.
func countParked(match func(stack string) bool) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if !strings.Contains(header, "[running]") && !strings.Contains(header, "[runnable]") && match(g) {
			count++
		}
	}
	return count
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// InTheDB is the frame of a goroutine inside the test database's Load, for Parked. While the database is held
// (Repo.Hold), a caller parked there cannot answer before Release: a test that waits for callers to answer can
// stop waiting as soon as the others have answered and these are parked in the database.
const InTheDB = "testutil.(*Repo).Load("

// WaitsForTheDB counts the goroutines with frame on their stack that wait for the held database: inside its Load,
// or for a shared load (WaitingCaller) that is. Either way, none can answer before Release.
func WaitsForTheDB(frame string) int {
	return countParked(func(g string) bool {
		return strings.Contains(g, frame) && (strings.Contains(g, InTheDB) || strings.Contains(g, WaitingCaller))
	})
}

// WaitingCaller is the frame of a caller of Get or GetStaleWhileRevalidate that waits for a shared load, for Parked.
const WaitingCaller = "(*ThunderingHerdProtector).fill("

// SeededRand returns a uniform source in [0, 1), seeded and safe for concurrent use, for Config.Rand: a test that
// draws random numbers draws the same ones at every run.
func SeededRand(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}
