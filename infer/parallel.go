package infer

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/samlad/samlad/infer/internal/freelist"
)

// workerCount resolves config.Pipeline.Workers (0 = number of CPUs).
func workerCount(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// forJob is one parallelFor call: helpers take indices from next.
type forJob struct {
	next     atomic.Int64
	n        int64
	fn       func(i int)
	task     indexedTask // instead of fn (parallelTask)
	finished sync.WaitGroup
}

// indexedTask is work over indices [0,n). A pointer to a long-lived struct
// passes as one without allocating, where a closure would escape to the heap
// on every call.
type indexedTask interface{ do(i int) }

func (j *forJob) drain() {
	for i := j.next.Add(1) - 1; i < j.n; i = j.next.Add(1) - 1 {
		if j.fn != nil {
			j.fn(int(i))
		} else {
			j.task.do(int(i))
		}
	}
}

// Long-lived helpers take jobs from a channel: starting goroutines per
// call cost several allocations each, in every frame.
var (
	startHelpers sync.Once
	jobs         chan *forJob
	forJobs      freelist.List[forJob]
)

func helper() {
	for j := range jobs {
		j.drain()
		j.finished.Done()
	}
}

// parallelFor runs fn(i) for i in [0,n) on at most workers goroutines, the
// caller's included, handing out indices one at a time (objects differ in
// cost). It runs inline when there is nothing to share out.
// Not errgroup: it starts a goroutine per item, allocations in every frame.
func parallelFor(n, workers int, fn func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	shareOut(n, workers, fn, nil)
}

// parallelTask is parallelFor calling t.do(i).
func parallelTask(n, workers int, t indexedTask) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			t.do(i)
		}
		return
	}
	shareOut(n, workers, nil, t)
}

// shareOut shares out [0,n) to the helpers: fn(i), or t.do(i) when fn is nil.
func shareOut(n, workers int, fn func(i int), t indexedTask) {
	startHelpers.Do(func() {
		jobs = make(chan *forJob)
		for range runtime.NumCPU() {
			go helper()
		}
	})
	j := forJobs.Get()
	j.next.Store(0)
	j.n, j.fn, j.task = int64(n), fn, t
	for w := 1; w < min(workers, n); w++ {
		j.finished.Add(1)
		// Without an idle helper the caller does the work itself: nested
		// or concurrent calls never wait for each other.
		select {
		case jobs <- j:
		default:
			j.finished.Done()
		}
	}
	j.drain()
	j.finished.Wait()
	j.fn, j.task = nil, nil
	forJobs.Put(j)
}

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
