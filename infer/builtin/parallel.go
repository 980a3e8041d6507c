package builtin

import (
	"runtime"
	"sync"

	"github.com/samlad/samlad/infer/internal/freelist"
)

// workerCount resolves a configured worker count: 0 or less means one per CPU.
func workerCount(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return n
}

// parallelRange splits [0,n) into at most workers contiguous chunks and runs
// fn(lo, hi) on each, in the caller's goroutine when one worker suffices. The
// chunks are disjoint, so results do not depend on the worker count.
func parallelRange(workers, n int, fn func(lo, hi int)) {
	split(workers, n, chunk{fn2: fn})
}

// parallelParts is parallelRange that also passes the chunk number
// (0 <= part < workers), so each chunk can use its own scratch buffers.
func parallelParts(workers, n int, fn func(part, lo, hi int)) {
	split(workers, n, chunk{fn3: fn})
}

// chunk is one piece of a parallel call: fn2 or fn3 over [lo, hi).
type chunk struct {
	fn2      func(lo, hi int)
	fn3      func(part, lo, hi int)
	part     int
	lo, hi   int
	finished *sync.WaitGroup
}

func (c chunk) run() {
	if c.fn2 != nil {
		c.fn2(c.lo, c.hi)
	} else {
		c.fn3(c.part, c.lo, c.hi)
	}
}

// Long-lived workers take chunks from a channel: starting goroutines per
// call cost several allocations each, and a frame makes dozens of calls
// (so not errgroup, which starts one per Go call).
var (
	startPool  sync.Once
	chunks     chan chunk
	waitGroups freelist.List[sync.WaitGroup] // kept across GCs, unlike sync.Pool
)

func worker() {
	for c := range chunks {
		c.run()
		c.finished.Done()
	}
}

func split(workers, n int, c chunk) {
	if n <= 0 {
		return
	}
	workers = min(workers, n)
	if workers <= 1 {
		c.lo, c.hi = 0, n
		c.run()
		return
	}
	startPool.Do(func() {
		chunks = make(chan chunk)
		for range runtime.NumCPU() {
			go worker()
		}
	})
	wg := waitGroups.Get()
	for w := 1; w < workers; w++ {
		d := c
		d.part, d.lo, d.hi, d.finished = w, w*n/workers, (w+1)*n/workers, wg
		wg.Add(1)
		// A chunk no idle worker takes runs here: nested or concurrent calls
		// never wait for each other, so they cannot deadlock.
		select {
		case chunks <- d:
		default:
			wg.Done()
			d.run()
		}
	}
	c.part, c.lo, c.hi = 0, 0, n/workers
	c.run()
	wg.Wait()
	waitGroups.Put(wg)
}
