// Package workpool shares loops of the per-frame hot path out to one set of
// long-lived helper goroutines, for the engine and its built-in backend.
//
// Not errgroup: it starts a goroutine per item, several allocations each,
// and a frame makes dozens of parallel calls. Here a call takes a job from
// a free list and hands a pointer to it over a channel, which allocates
// nothing.
package workpool

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/samlad/samlad/infer/internal/freelist"
)

// Workers resolves a configured worker count: 0 or less is one per CPU.
func Workers(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// Task is work over indices [0,n). A pointer to a long-lived struct passes
// as one without allocating, where a closure would escape to the heap on
// every call.
type Task interface{ Do(i int) }

// Each runs fn(i) for i in [0,n) on at most workers goroutines, the
// caller's included, handing out indices one at a time (items that differ
// in cost balance themselves).
func Each(n, workers int, fn func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	j := jobs.Get()
	j.each = fn
	j.run(n, workers)
}

// EachTask is Each calling t.Do(i).
func EachTask(n, workers int, t Task) {
	if workers <= 1 || n <= 1 {
		for i := range n {
			t.Do(i)
		}
		return
	}
	j := jobs.Get()
	j.task = t
	j.run(n, workers)
}

// Range splits [0,n) into at most workers contiguous chunks and runs
// fn(lo, hi) on each. The chunks do not depend on the timing, so neither
// do results that are a function of the chunks.
func Range(workers, n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if workers = min(workers, n); workers <= 1 {
		fn(0, n)
		return
	}
	j := jobs.Get()
	j.rng, j.span = fn, n
	j.run(workers, workers)
}

// Parts is Range that also passes the chunk number (0 <= part < workers),
// so that each chunk can use its own scratch buffers.
func Parts(workers, n int, fn func(part, lo, hi int)) {
	if n <= 0 {
		return
	}
	if workers = min(workers, n); workers <= 1 {
		fn(0, 0, n)
		return
	}
	j := jobs.Get()
	j.parts, j.span = fn, n
	j.run(workers, workers)
}

// job is one call: the caller and the helpers take indices from next until
// count; an index is an item (Each, EachTask) or a chunk (Range, Parts).
type job struct {
	next     atomic.Int64
	count    int
	span     int // the chunked length (Range, Parts)
	each     func(i int)
	task     Task
	rng      func(lo, hi int)
	parts    func(part, lo, hi int)
	finished sync.WaitGroup
}

var (
	startHelpers sync.Once
	handoff      chan *job
	jobs         freelist.List[job] // kept across GCs, unlike sync.Pool
)

func helper() {
	for j := range handoff {
		j.drain()
		j.finished.Done()
	}
}

// run shares count indices out to at most workers goroutines and returns
// the job to the free list when all are done.
func (j *job) run(count, workers int) {
	startHelpers.Do(func() {
		handoff = make(chan *job)
		for range runtime.NumCPU() {
			go helper()
		}
	})
	j.next.Store(0)
	j.count = count
	for w := 1; w < min(workers, count); w++ {
		j.finished.Add(1)
		// Without an idle helper the caller does the work itself: nested
		// or concurrent calls never wait for each other, so they cannot
		// deadlock.
		select {
		case handoff <- j:
		default:
			j.finished.Done()
		}
	}
	j.drain()
	j.finished.Wait()
	j.each, j.task, j.rng, j.parts = nil, nil, nil, nil
	jobs.Put(j)
}

func (j *job) drain() {
	for i := int(j.next.Add(1) - 1); i < j.count; i = int(j.next.Add(1) - 1) {
		switch {
		case j.each != nil:
			j.each(i)
		case j.task != nil:
			j.task.Do(i)
		case j.rng != nil:
			j.rng(i*j.span/j.count, (i+1)*j.span/j.count)
		default:
			j.parts(i, i*j.span/j.count, (i+1)*j.span/j.count)
		}
	}
}
