package testutil

import (
	"errors"
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
