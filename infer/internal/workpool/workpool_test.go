package workpool

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// Each and EachTask run every index exactly once, on at most workers
// goroutines at a time.
func TestEachRunsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 16} {
		for _, n := range []int{0, 1, 2, 7, 100} {
			hits := make([]atomic.Int32, n)
			var live, peak atomic.Int32
			Each(n, workers, func(i int) {
				if l := live.Add(1); l > peak.Load() {
					peak.Store(l)
				}
				hits[i].Add(1)
				live.Add(-1)
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("workers %d, n %d: index %d ran %d times", workers, n, i, h)
				}
			}
			if p := peak.Load(); int(p) > max(workers, 1) {
				t.Errorf("workers %d, n %d: %d at once", workers, n, p)
			}
			var task countTask
			task.hits = make([]atomic.Int32, n)
			EachTask(n, workers, &task)
			for i := range task.hits {
				if h := task.hits[i].Load(); h != 1 {
					t.Fatalf("task, workers %d, n %d: index %d ran %d times", workers, n, i, h)
				}
			}
		}
	}
}

type countTask struct{ hits []atomic.Int32 }

func (c *countTask) Do(i int) { c.hits[i].Add(1) }

// Range and Parts cut [0,n) into disjoint contiguous chunks that cover it,
// the same chunks whatever the timing, each with its own part number.
func TestRangeCoversDisjointChunks(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 5, 64, 101} {
			var mu sync.Mutex
			var chunks [][2]int
			parts := map[int]bool{}
			Parts(workers, n, func(part, lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				if parts[part] || part < 0 || part >= max(1, min(workers, n)) {
					t.Errorf("workers %d, n %d: part %d repeated or out of range", workers, n, part)
				}
				parts[part] = true
				chunks = append(chunks, [2]int{lo, hi})
			})
			slices.SortFunc(chunks, func(a, b [2]int) int { return a[0] - b[0] })
			next := 0
			for _, c := range chunks {
				if c[0] != next || c[1] <= c[0] {
					t.Fatalf("workers %d, n %d: chunks %v do not tile [0,%d)", workers, n, chunks, n)
				}
				next = c[1]
			}
			if next != n {
				t.Fatalf("workers %d, n %d: chunks %v end at %d", workers, n, chunks, next)
			}
			seen := make([]atomic.Int32, n)
			Range(workers, n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if s := seen[i].Load(); s != 1 {
					t.Fatalf("range, workers %d, n %d: index %d seen %d times", workers, n, i, s)
				}
			}
		}
	}
}

// Calls made from inside a call, and calls from many goroutines at once,
// finish: a call never waits for a helper that is busy.
func TestNestedAndConcurrentCallsFinish(t *testing.T) {
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Each(6, 4, func(int) {
				Range(4, 10, func(lo, hi int) {
					Each(3, 3, func(int) { total.Add(int64(hi - lo)) })
				})
			})
		}()
	}
	wg.Wait()
	if want := int64(8 * 6 * 10 * 3); total.Load() != want {
		t.Fatalf("total %d, want %d", total.Load(), want)
	}
}

// A call with a task or a function bound once allocates nothing, which is
// why the per-frame loops use this pool and not errgroup.
func TestNoAllocationsPerCall(t *testing.T) {
	var task countTask
	task.hits = make([]atomic.Int32, 64)
	sum := make([]int64, 4)
	rangeFn := func(part, lo, hi int) { sum[part] += int64(hi - lo) }
	if a := testing.AllocsPerRun(50, func() { EachTask(64, 4, &task) }); a != 0 {
		t.Errorf("EachTask: %v allocations per call, want 0", a)
	}
	if a := testing.AllocsPerRun(50, func() { Parts(4, 64, rangeFn) }); a != 0 {
		t.Errorf("Parts: %v allocations per call, want 0", a)
	}
}

func TestWorkers(t *testing.T) {
	if Workers(3) != 3 {
		t.Errorf("Workers(3) = %d", Workers(3))
	}
	if Workers(0) < 1 || Workers(-1) != Workers(0) {
		t.Errorf("Workers(0) = %d, Workers(-1) = %d: want one per CPU", Workers(0), Workers(-1))
	}
}
