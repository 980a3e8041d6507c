package infer

import (
	"math"
	"slices"
)

// refIndex is the coarse-to-fine retrieval index over a bank's global
// vectors (eq. 2, squared Euclidean). A plain scan reads every reference's
// full vector (31 KB at 224 px): 3 ms a frame for 400 references on one
// core and 35 ms for 5,000. The index keeps, per reference and in
// contiguous matrices, two small keys: the global vector summed over
// blocks of 7x7 and of 2x2 cells, divided by sqrt(block size), so that
// the squared distance of two keys is a lower bound of the full one (per
// block of m values, m * mean(d)^2 <= sum(d^2)) and close to it for
// smooth differences.
//
// A query ranks all references by the 7x7 key, the best levelBudgets[0]
// of them by the 2x2 key, and computes the full distance of the best
// exactBudget. The answer is the k nearest of those: exactly the plain
// scan's answer when the bank has at most exactBudget references, and an
// approximation beyond (README "Performance" gives its recall).
type refIndex struct {
	n      int
	full   [][]float32 // the references' global vectors (not copied)
	levels []coarseLevel
}

// coarseLevel holds one key per reference for one block size.
type coarseLevel struct {
	dim    int
	groups []int32   // key coordinate of each global-vector coordinate
	scale  []float32 // 1 / sqrt(block size), per key coordinate
	keys   []float32 // n x dim
}

// levelBlocks are the block sides of the levels, coarsest first; at 224 px
// they turn 40 x 14 x 14 values into 40 x 2 x 2 = 160 and 40 x 7 x 7 =
// 1960. The first level reads every reference, so its key is the smallest
// that keeps recall on the 400 real vectors of BenchmarkRetrieval; a 4x4
// first level (640 values) reads 4x the memory and gains recall only on
// its synthetic near-duplicates, and a middle 4x4 level cost more in
// scattered reads than it saved.
var levelBlocks = []int{7, 2}

// levelBudgets are how many references each level passes on to the next
// (the last: to the full distance).
var levelBudgets = []int{384, exactBudget}

// exactBudget is how many references get the full distance: banks up to
// this size are searched exactly.
const exactBudget = 48

// newRefIndex indexes refs' global vectors, laid out channels x gh x gw.
func newRefIndex(refs []Reference, channels, gh, gw int) *refIndex {
	ix := &refIndex{n: len(refs), full: make([][]float32, len(refs))}
	for i := range refs {
		ix.full[i] = refs[i].Global
	}
	for _, blk := range levelBlocks {
		ch, cw := (gh+blk-1)/blk, (gw+blk-1)/blk
		l := coarseLevel{dim: channels * ch * cw, groups: make([]int32, channels*gh*gw)}
		count := make([]int, l.dim)
		for c := 0; c < channels; c++ {
			for y := 0; y < gh; y++ {
				for x := 0; x < gw; x++ {
					g := (c*ch+y/blk)*cw + x/blk
					l.groups[(c*gh+y)*gw+x] = int32(g)
					count[g]++
				}
			}
		}
		l.scale = make([]float32, l.dim)
		for g, m := range count {
			l.scale[g] = float32(1 / math.Sqrt(float64(max(m, 1))))
		}
		l.keys = make([]float32, ix.n*l.dim)
		for i := range refs {
			l.key(refs[i].Global, l.keys[i*l.dim:(i+1)*l.dim])
		}
		ix.levels = append(ix.levels, l)
	}
	return ix
}

// key writes v's key into dst.
func (l *coarseLevel) key(v, dst []float32) {
	clear(dst)
	for i, g := range l.groups {
		dst[g] += v[i]
	}
	for g := range dst {
		dst[g] *= l.scale[g]
	}
}

// cand is a reference and a distance.
type cand struct {
	i int
	d float32
}

// before orders by distance, then index, as nearestRefs does.
func (a cand) before(b cand) bool { return a.d < b.d || (a.d == b.d && a.i < b.i) }

// retrievalScratch is a query's reusable working memory.
type retrievalScratch struct {
	qkey []float32
	ids  []int
	heap []cand
	best []cand
	out  []int
}

// nearest returns the k references nearest to q, nearest first. The
// returned slice lives in s until the next call.
func (ix *refIndex) nearest(q []float32, k int, s *retrievalScratch) []int {
	k = min(k, ix.n)
	if k <= 0 {
		return nil
	}
	// Survivors of the previous level; nil = every reference.
	var ids []int
	for li := range ix.levels {
		l := &ix.levels[li]
		budget := max(levelBudgets[li], k)
		if n := ix.n; ids != nil {
			n = len(ids)
		} else if n <= budget {
			continue // everything survives this level
		}
		if cap(s.qkey) < l.dim {
			s.qkey = make([]float32, l.dim)
		}
		qk := s.qkey[:l.dim]
		l.key(q, qk)
		h := s.heap[:0]
		visit := func(i int) {
			c := cand{i, sqDist(l.keys[i*l.dim:(i+1)*l.dim], qk)}
			if len(h) < budget {
				h = append(h, c)
				siftUp(h, len(h)-1)
			} else if c.before(h[0]) {
				h[0] = c
				siftDown(h, 0)
			}
		}
		if ids == nil {
			for i := 0; i < ix.n; i++ {
				visit(i)
			}
		} else {
			for _, i := range ids {
				visit(i)
			}
		}
		s.heap = h
		ids = s.ids[:0]
		for _, c := range h {
			ids = append(ids, c.i)
		}
		s.ids = ids
	}

	best := s.best[:0]
	try := func(i int) {
		bound := float32(math.Inf(1))
		if len(best) == k {
			bound = best[k-1].d
		}
		d, done := sqDistBounded(ix.full[i], q, bound)
		if !done {
			return
		}
		f := cand{i, d}
		if len(best) < k {
			best = append(best, f)
		} else if f.before(best[k-1]) {
			best[k-1] = f
		} else {
			return
		}
		for j := len(best) - 1; j > 0 && best[j].before(best[j-1]); j-- {
			best[j], best[j-1] = best[j-1], best[j]
		}
	}
	if ids == nil {
		for i := 0; i < ix.n; i++ {
			try(i)
		}
	} else {
		// Most promising first, so the bound tightens early.
		slices.SortFunc(s.heap, func(a, b cand) int {
			if a.before(b) {
				return -1
			}
			return 1
		})
		for _, c := range s.heap {
			try(c.i)
		}
	}
	s.best = best
	s.out = s.out[:0]
	for _, b := range best {
		s.out = append(s.out, b.i)
	}
	return s.out
}

// siftUp and siftDown keep h a max-heap on before (worst at the root).
func siftUp(h []cand, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[p].before(h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []cand, i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && h[m].before(h[l]) {
			m = l
		}
		if r := l + 1; r < len(h) && h[m].before(h[r]) {
			m = r
		}
		if m == i {
			return
		}
		h[m], h[i] = h[i], h[m]
		i = m
	}
}
