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

// scratchPool keeps scratch buffers between calls. Unlike sync.Pool it is
// not emptied by the garbage collector, so the steady state allocates
// nothing; it holds at most as many buffers as there were concurrent calls.
type scratchPool[T any] struct {
	mu   sync.Mutex
	free []*T
}

func (p *scratchPool[T]) get() *T {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		return s
	}
	return new(T)
}

func (p *scratchPool[T]) put(s *T) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}
