package infer

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// refIndex is the retrieval index over a bank's global vectors (eq. 2,
// squared Euclidean). A plain scan reads every reference's full vector
// (31 KB at 224 px): 1 ms a frame for 400 references on one core and 18 ms
// for 5,000. The index ranks references by a cheap estimate of the
// distance and computes the full distance only for the best exactBudget.
//
// The estimate comes from a principal-component projection, derived when
// the index is built (nothing is stored in the bank): the global vector
// pooled over 2x2 cells (1960 values at 224 px, an orthonormal projection)
// and projected onto the top pcaDims principal axes of the bank's pooled
// vectors. The squared distance of two such keys is a lower bound of the
// full one. To it the estimate adds each reference's residual energy, the
// squared norm of its centred vector outside the key's subspace, which
// the full distance contains and the key cannot see: without it, a
// reference that differs from a close one by fine detail everywhere
// ranks as close as that one.
//
// A query ranks all references by the estimate on the first headDims
// axes, the best headBudget of those on all pcaDims axes, and computes the
// full distance of the best exactBudget, most promising first. Banks up to
// exactBudget references are scanned exactly; beyond, the answer is an
// approximation (docs/performance.md gives its recall).
type refIndex struct {
	n    int
	full [][]float32 // the references' global vectors (not copied)
	// Everything below is unset when n <= exactBudget.
	pool  pooling
	basis []float32 // dims x pool.dim, orthonormal rows
	dims  int       // min(pcaDims, rank of the sample)
	head  []float32 // n x hd: each reference's key on the first hd axes
	tail  []float32 // n x (dims - hd): the rest of its key
	hd    int       // min(headDims, dims)
	resid []float32 // n: residual energy of each reference
}

const (
	// pcaDims is the key length: fewer axes lose recall of the exact
	// neighbours, more add projection work without gaining recall
	// (BenchmarkRetrieval).
	pcaDims = 128
	// headDims are the axes of the first pass over every reference.
	headDims = 32
	// headBudget is how many references the first pass keeps; larger
	// budgets gain no recall (BenchmarkRetrieval).
	headBudget = 384
	// exactBudget is how many references get the full distance, and the
	// bank size up to which the search is exact.
	exactBudget = 64
	// pcaSample is how many references (evenly spaced) the principal axes
	// are computed from: a 512 x 512 eigenproblem, ~0.3 s at load.
	pcaSample = 512
)

// pooling sums a global vector (channels x gh x gw) over 2x2 cells, scaled
// by 1 / sqrt(cell size) so that it is an orthonormal projection.
type pooling struct {
	dim    int
	groups []int32   // pooled coordinate of each global-vector coordinate
	scale  []float32 // 1 / sqrt(cell size), per pooled coordinate
}

func newPooling(channels, gh, gw int) pooling {
	ch, cw := (gh+1)/2, (gw+1)/2
	p := pooling{dim: channels * ch * cw, groups: make([]int32, channels*gh*gw)}
	count := make([]int, p.dim)
	for c := 0; c < channels; c++ {
		for y := 0; y < gh; y++ {
			for x := 0; x < gw; x++ {
				g := (c*ch+y/2)*cw + x/2
				p.groups[(c*gh+y)*gw+x] = int32(g)
				count[g]++
			}
		}
	}
	p.scale = make([]float32, p.dim)
	for g, m := range count {
		p.scale[g] = float32(1 / math.Sqrt(float64(max(m, 1))))
	}
	return p
}

// apply writes v's pooled vector into dst.
func (p *pooling) apply(v, dst []float32) {
	clear(dst)
	for i, g := range p.groups {
		dst[g] += v[i]
	}
	for g := range dst {
		dst[g] *= p.scale[g]
	}
}

// scanIndex indexes refs for exact lookups: every query scans all their
// global vectors.
func scanIndex(refs []Reference) *refIndex {
	ix := &refIndex{n: len(refs), full: make([][]float32, len(refs))}
	for i := range refs {
		ix.full[i] = refs[i].Global
	}
	return ix
}

// newRefIndex indexes refs' global vectors, laid out channels x gh x gw.
func newRefIndex(refs []Reference, channels, gh, gw int) *refIndex {
	ix := scanIndex(refs)
	if ix.n <= exactBudget {
		return ix
	}
	ix.pool = newPooling(channels, gh, gw)
	pd := ix.pool.dim
	sample := make([]int, min(pcaSample, ix.n))
	pooled := make([]float32, len(sample)*pd) // of the sample
	for j := range sample {
		sample[j] = j * ix.n / len(sample)
		ix.pool.apply(ix.full[sample[j]], pooled[j*pd:(j+1)*pd])
	}
	mean := meanOf(ix.full, sample)
	ix.basis, ix.dims = principalAxes(pooled, pd, pcaDims)
	if ix.dims == 0 {
		ix.pool = pooling{} // all references alike: scan
		return ix
	}
	ix.hd = min(headDims, ix.dims)
	tl := ix.dims - ix.hd
	ix.head = make([]float32, ix.n*ix.hd)
	ix.tail = make([]float32, ix.n*tl)
	ix.resid = make([]float32, ix.n)
	pmean := make([]float32, pd)
	ix.pool.apply(mean, pmean)
	kmean := make([]float32, ix.dims)
	ix.project(pmean, kmean)
	key, pv := make([]float32, ix.dims), make([]float32, pd)
	for i, v := range ix.full {
		ix.pool.apply(v, pv)
		ix.project(pv, key)
		copy(ix.head[i*ix.hd:], key[:ix.hd])
		copy(ix.tail[i*tl:], key[ix.hd:])
		var all, inKey float64
		for j, x := range v {
			d := float64(x - mean[j])
			all += d * d
		}
		for t, x := range key {
			d := float64(x - kmean[t])
			inKey += d * d
		}
		ix.resid[i] = float32(max(all-inKey, 0))
	}
	return ix
}

// meanOf is the mean of the vectors vs[i], i in idx.
func meanOf(vs [][]float32, idx []int) []float32 {
	sum := make([]float64, len(vs[idx[0]]))
	for _, i := range idx {
		for j, x := range vs[i] {
			sum[j] += float64(x)
		}
	}
	out := make([]float32, len(sum))
	for j, s := range sum {
		out[j] = float32(s / float64(len(idx)))
	}
	return out
}

// principalAxes returns up to want orthonormal rows (dims x dim) spanning
// the largest principal components of rows (m x dim, flat), largest
// first. It solves the small m x m eigenproblem of the centred Gram matrix
// instead of the dim x dim covariance, and drops axes whose variance is
// negligible (rows of rank below want).
func principalAxes(rows []float32, dim, want int) ([]float32, int) {
	m := len(rows) / dim
	x := make([]float64, m*dim)
	mean := make([]float64, dim)
	for i, v := range rows {
		mean[i%dim] += float64(v)
	}
	for j := range mean {
		mean[j] /= float64(m)
	}
	for i, v := range rows {
		x[i] = float64(v) - mean[i%dim]
	}
	xm := mat.NewDense(m, dim, x)
	var gram mat.SymDense
	gram.SymOuterK(1, xm)
	vals, vecs := topEigen(&gram, want)
	if len(vals) == 0 {
		return nil, 0
	}
	basis := make([]float32, 0, want*dim)
	axis := make([]float64, dim)
	for c := 0; c < len(vals) && len(basis) < want*dim; c++ {
		if !(vals[c] > 1e-9*vals[0]) {
			break
		}
		// Axis = X^T u, normalised.
		clear(axis)
		for a := 0; a < m; a++ {
			u := vecs.At(c, a)
			for j, v := range x[a*dim : (a+1)*dim] {
				axis[j] += u * v
			}
		}
		var norm float64
		for _, v := range axis {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for _, v := range axis {
			basis = append(basis, float32(v/norm))
		}
	}
	return basis, len(basis) / dim
}

// topEigen returns the want largest eigenvalues of the symmetric matrix g,
// largest first, and their eigenvectors as rows, by randomized subspace
// iteration (Halko, Martinsson, Tropp 2011, algorithm 4.4) from a fixed
// seed, so that the result is the same on every run: a full decomposition
// of the 512 x 512 Gram matrix takes seconds, most of it accumulating
// eigenvectors that are then dropped.
func topEigen(g *mat.SymDense, want int) ([]float64, *mat.Dense) {
	m, _ := g.Dims()
	l := min(m, want+16) // oversampling
	rng := rand.New(rand.NewPCG(1, 2))
	start := make([]float64, l*m)
	for i := range start {
		start[i] = rng.NormFloat64()
	}
	qt := mat.NewDense(l, m, start) // rows: the subspace's basis
	for it := 0; it < 4; it++ {
		orthonormalizeRows(qt)
		var next mat.Dense
		next.Mul(qt, g)
		qt = &next
	}
	orthonormalizeRows(qt)
	var qg, small mat.Dense
	qg.Mul(qt, g)
	small.Mul(&qg, qt.T())
	sym := mat.NewSymDense(l, nil)
	for i := 0; i < l; i++ {
		for j := i; j < l; j++ {
			sym.SetSym(i, j, (small.At(i, j)+small.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, nil
	}
	vals := eig.Values(nil) // ascending
	var u mat.Dense
	eig.VectorsTo(&u)
	n := min(want, l)
	top := mat.NewDense(n, l, nil)
	out := make([]float64, n)
	for c := 0; c < n; c++ {
		out[c] = vals[l-1-c]
		for r := 0; r < l; r++ {
			top.Set(c, r, u.At(r, l-1-c))
		}
	}
	var vecs mat.Dense
	vecs.Mul(top, qt)
	return out, &vecs
}

// orthonormalizeRows makes a's rows orthonormal (modified Gram-Schmidt,
// twice for accuracy); a row that depends on the earlier ones becomes zero.
func orthonormalizeRows(a *mat.Dense) {
	r, c := a.Dims()
	raw := a.RawMatrix()
	row := func(i int) []float64 { return raw.Data[i*raw.Stride : i*raw.Stride+c] }
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < r; i++ {
			v := row(i)
			for j := 0; j < i; j++ {
				w := row(j)
				var p float64
				for k := range v {
					p += v[k] * w[k]
				}
				for k := range v {
					v[k] -= p * w[k]
				}
			}
			var n float64
			for _, x := range v {
				n += x * x
			}
			n = math.Sqrt(n)
			for k := range v {
				if n > 1e-12 {
					v[k] /= n
				} else {
					v[k] = 0
				}
			}
		}
	}
}

// project writes the key of pooled vector p (its coordinates on the axes).
func (ix *refIndex) project(p, dst []float32) {
	pd := ix.pool.dim
	for t := range dst {
		dst[t] = dot4(ix.basis[t*pd:(t+1)*pd], p)
	}
}

// dot4 is the inner product of a and b (len(b) >= len(a)), in four
// partial sums so that the CPU can overlap the additions.
func dot4(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// keyDist is the squared distance of two keys (len(b) >= len(a)): sqDist
// without its bound checks, which keys too short for them (32 values)
// would take in its one-sum tail.
func keyDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// cand is a reference and a distance.
type cand struct {
	i int
	d float32
}

// before orders by distance, then index.
func (a cand) before(b cand) bool { return a.d < b.d || (a.d == b.d && a.i < b.i) }

// retrievalScratch is a query's reusable working memory.
type retrievalScratch struct {
	pooled []float32
	key    []float32
	heap   []cand
	next   []cand
	best   []cand
	out    []int
}

// nearest returns the k references nearest to q, nearest first. The
// returned slice lives in s until the next call.
func (ix *refIndex) nearest(q []float32, k int, s *retrievalScratch) []int {
	k = min(k, ix.n)
	if k <= 0 {
		return nil
	}
	if ix.dims == 0 {
		s.best = s.best[:0]
		for i := 0; i < ix.n; i++ {
			ix.tryExact(q, i, k, s)
		}
		return s.answer()
	}
	pd := ix.pool.dim
	if cap(s.pooled) < pd {
		s.pooled = make([]float32, pd)
	}
	if cap(s.key) < ix.dims {
		s.key = make([]float32, ix.dims)
	}
	pooled, key := s.pooled[:pd], s.key[:ix.dims]
	ix.pool.apply(q, pooled)
	ix.project(pooled, key)

	// First pass: every reference, estimate on the head axes.
	hd, tl := ix.hd, ix.dims-ix.hd
	qh, qt := key[:hd], key[hd:]
	h := s.heap[:0]
	budget := max(headBudget, k)
	for i := 0; i < ix.n; i++ {
		h = pushBounded(h, budget, cand{i, keyDist(ix.head[i*hd:(i+1)*hd], qh) + ix.resid[i]})
	}
	// Second pass: the survivors, the rest of the key added.
	next := s.next[:0]
	budget = max(exactBudget, k)
	for _, c := range h {
		c.d += keyDist(ix.tail[c.i*tl:(c.i+1)*tl], qt)
		next = pushBounded(next, budget, c)
	}
	s.heap, s.next = h, next
	// Full distances, most promising first so that the bound tightens
	// early.
	slices.SortFunc(next, func(a, b cand) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	s.best = s.best[:0]
	for _, c := range next {
		ix.tryExact(q, c.i, k, s)
	}
	return s.answer()
}

// pushBounded adds c to h, a max-heap of at most budget candidates (the
// worst at the root), and returns h.
func pushBounded(h []cand, budget int, c cand) []cand {
	if len(h) < budget {
		h = append(h, c)
		siftUp(h, len(h)-1)
	} else if c.before(h[0]) {
		h[0] = c
		siftDown(h, 0)
	}
	return h
}

// tryExact computes reference i's full distance to q and keeps it in
// s.best, the k nearest so far in order, if it belongs there.
func (ix *refIndex) tryExact(q []float32, i, k int, s *retrievalScratch) {
	best := s.best
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
	s.best = best
}

// answer returns the indices of s.best.
func (s *retrievalScratch) answer() []int {
	s.out = s.out[:0]
	for _, b := range s.best {
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
