package infer

import "golang.org/x/sync/errgroup"

// The per-frame loops share one helper pool with the built-in backend
// (infer/internal/workpool); enrolment, which runs once per product, uses
// errgroup here.

// firstError runs fn over [0,n) on at most workers goroutines (enrolment,
// not per frame) and returns the error of the lowest index, whichever
// finished first, so that the message does not depend on timing.
func firstError(n, workers int, fn func(i int) error) error {
	errs := make([]error, n)
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for i := range n {
		g.Go(func() error { errs[i] = fn(i); return nil })
	}
	g.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
