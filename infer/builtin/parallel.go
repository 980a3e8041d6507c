package builtin

import (
	"runtime"
	"sync"
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
	parallelParts(workers, n, func(_, lo, hi int) { fn(lo, hi) })
}

// parallelParts is parallelRange that also passes the chunk number
// (0 <= part < workers), so each chunk can use its own scratch buffers.
func parallelParts(workers, n int, fn func(part, lo, hi int)) {
	if n <= 0 {
		return
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	fn(0, 0, n/workers)
	wg.Wait()
}
