package infer

import (
	"math"
	"slices"
)

// globalVector is the retrieval key of a feature map: the flattened
// standardised features after 2x2 average pooling. The paper flattens the
// raw map; pooling keeps the Euclidean distance of eq. 2 but makes it
// tolerant to one-cell shifts of the part and halves the bank's key size.
func globalVector(f *FeatureMap) []float32 { return globalVectorInto(f, nil) }

// globalVectorInto is globalVector reusing dst's storage.
func globalVectorInto(f *FeatureMap, dst []float32) []float32 {
	h2, w2 := (f.H+1)/2, (f.W+1)/2
	n := f.C * h2 * w2
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	out := dst[:n]
	for c := 0; c < f.C; c++ {
		plane := f.Data[c*f.H*f.W : (c+1)*f.H*f.W]
		for y := 0; y < h2; y++ {
			for x := 0; x < w2; x++ {
				var s float32
				var n int
				for dy := 0; dy < 2; dy++ {
					for dx := 0; dx < 2; dx++ {
						yy, xx := 2*y+dy, 2*x+dx
						if yy < f.H && xx < f.W {
							s += plane[yy*f.W+xx]
							n++
						}
					}
				}
				out[(c*h2+y)*w2+x] = s / float32(n)
			}
		}
	}
	return out
}

// nearestExcept returns the k references nearest to q, nearest first,
// without exclude (>= 0: an image scored against the others), in a slice
// of its own. An exact index (scanIndex, or a bank of up to exactBudget
// references) gives the exact k nearest.
func (ix *refIndex) nearestExcept(q []float32, k, exclude int, s *retrievalScratch) []int {
	if exclude < 0 {
		return slices.Clone(ix.nearest(q, k, s))
	}
	out := slices.DeleteFunc(slices.Clone(ix.nearest(q, k+1, s)), func(i int) bool { return i == exclude })
	return out[:min(k, len(out))]
}

// others is what enrolment's leave-one-out asks of a scanIndex: reference
// i's k nearest other references.
func (ix *refIndex) others(i, k int) []int {
	var s retrievalScratch
	return ix.nearestExcept(ix.full[i], k, i, &s)
}

// retrieve is step 3, the one search of the frame: the references nearest
// to its features, nearest first, without exclude (>= 0), as many as the
// steps after it ask for (countN, layoutN); the slice lives in b until the
// next call. Each step takes a prefix: a search for n <= exactBudget finds
// the same first k as one for k (TestRefIndexPrefixes); a larger
// layout.refs widens the search on a large bank.
func (e *Engine) retrieve(f *FeatureMap, exclude int, b *buffers) []int {
	b.global = globalVectorInto(f, b.global)
	ln, _ := e.layoutN(exclude)
	n := max(e.countN(), ln)
	if exclude >= 0 {
		return e.index.nearestExcept(b.global, n, exclude, &b.ret)
	}
	return e.index.nearest(b.global, n, &b.ret) // no copy on the hot path
}

// countN is how many nearest references the AMM (the first k) and the
// logical count (all of them) take.
func (e *Engine) countN() int { return max(e.p.K, countRefs) }

// layoutN is how many nearest references the layout step takes from the
// retrieval: layout.refs, or only the nearest when layout.refs covers the
// bank without exclude (every: layoutRefIdx then adds the rest unranked).
func (e *Engine) layoutN(exclude int) (n int, every bool) {
	n, all := layoutRefs(e.p.Layout, len(e.bank.Refs)), len(e.bank.Refs)
	if exclude >= 0 {
		all--
	}
	if n < all {
		return n, false
	}
	return 1, true
}

// layoutRefIdx returns the references the layout step compares a query
// with, from near (the retrieval, nearest first, without exclude): its
// layoutN first, or every reference with the nearest first (it names the
// reference behind a missing finding) and the rest unranked. With every
// reference the step's cost grows with the bank (about n x objects^2
// descriptor products per frame); set layout.refs for a large bank.
func (e *Engine) layoutRefIdx(near []int, exclude int) []int {
	n, every := e.layoutN(exclude)
	first := near[:min(n, len(near))]
	if !every {
		return first
	}
	out := make([]int, 0, len(e.bank.Refs))
	out = append(out, first...)
	for i := range e.bank.Refs {
		if i != exclude && (len(first) == 0 || i != first[0]) {
			out = append(out, i)
		}
	}
	return out
}

// sqDist is the squared Euclidean distance of a and b (len(b) >= len(a)).
func sqDist(a, b []float32) float32 {
	d, _ := sqDistBounded(a, b, float32(math.Inf(1)))
	return d
}

// sqDistBounded is sqDist that gives up, returning false, once the partial
// sum exceeds bound (checked every 64 values). Four partial sums let the
// CPU overlap the additions; both functions add in this same order, so a
// completed distance is bit-identical to sqDist's.
func sqDistBounded(a, b []float32, bound float32) (float32, bool) {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+64 <= len(a); i += 64 {
		x, y := a[i:i+64], b[i:i+64]
		for j := 0; j < 64; j += 4 {
			d0, d1, d2, d3 := x[j]-y[j], x[j+1]-y[j+1], x[j+2]-y[j+2], x[j+3]-y[j+3]
			s0 += d0 * d0
			s1 += d1 * d1
			s2 += d2 * d2
			s3 += d3 * d3
		}
		if s0+s1+s2+s3 > bound {
			return 0, false
		}
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3), true
}
