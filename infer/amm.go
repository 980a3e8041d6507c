package infer

import (
	"image"
	"math"
	"sync"
)

// Alignment modes (config.Pipeline.Align) of a query object over its
// reference object before the per-position comparison.
const (
	AlignNone     = "none"     // same grid position (paper)
	AlignCentroid = "centroid" // shift so the centroids coincide
	AlignBox      = "box"      // map the query box onto the reference box
	// AlignNN takes, per query position and reference, the partner
	// object's position with the nearest feature vector (searched on a
	// grid of step nnRefStep; query positions on a grid of step
	// nnQueryStep, each filling its block). It makes the comparison
	// independent of the part's pose (rotation, flips), which the rigid
	// alignments cannot follow.
	AlignNN = "nn"
)

const (
	nnQueryStep = 3
	nnRefStep   = 4
)

// mahalanobis returns the Mahalanobis distance (eq. 12) of x from the
// Gaussian fitted to the k rows of refs (eq. 11): mean mu, covariance
// Sigma = D D^T + eps I with D = (refs - mu)^T / sqrt(k-1), a C x k matrix.
//
// Woodbury: Sigma^-1 = (I - D (eps I_k + D^T D)^-1 D^T) / eps, so with
// d = x - mu, b = D^T d and G = D^T D:
//
//	M^2 = (d.d - b^T (G + eps I)^-1 b) / eps
//
// which needs one k x k Cholesky solve per position, never a C x C inverse.
// sc must hold at least k*C + C + 2k^2 + 2k floats. k = 1 degenerates to
// Sigma = eps I (Euclidean distance / sqrt(eps)).
func mahalanobis(x []float32, refs [][]float32, eps float64, sc []float64) float64 {
	c, k := len(x), len(refs)
	mu := sc[:c]
	d := sc[c : c+k*c] // rows of D^T
	g := sc[c+k*c : c+k*c+k*k]
	b := sc[c+k*c+k*k : c+k*c+k*k+k]
	for i := range mu {
		mu[i] = 0
	}
	for _, r := range refs {
		for i, v := range r {
			mu[i] += float64(v)
		}
	}
	for i := range mu {
		mu[i] /= float64(k)
	}
	var dd float64
	for i, v := range x {
		e := float64(v) - mu[i]
		dd += e * e
	}
	if k < 2 {
		return math.Sqrt(dd / eps)
	}
	s := 1 / math.Sqrt(float64(k-1))
	for a, r := range refs {
		row := d[a*c : (a+1)*c]
		var ba float64
		for i, v := range r {
			row[i] = (float64(v) - mu[i]) * s
			ba += row[i] * (float64(x[i]) - mu[i])
		}
		b[a] = ba
	}
	for a := 0; a < k; a++ {
		for bb := 0; bb <= a; bb++ {
			var v float64
			ra, rb := d[a*c:(a+1)*c], d[bb*c:(bb+1)*c]
			for i := range ra {
				v += ra[i] * rb[i]
			}
			g[a*k+bb], g[bb*k+a] = v, v
		}
		g[a*k+a] += eps
	}
	q := quadInv(g, b, k, sc[c+k*c+k*k+k:])
	return math.Sqrt(max(dd-q, 0) / eps)
}

// quadInv returns b^T A^-1 b for a k x k symmetric positive definite A
// (overwritten by its Cholesky factor). tmp holds at least k floats.
func quadInv(a, b []float64, k int, tmp []float64) float64 {
	for j := 0; j < k; j++ {
		s := a[j*k+j]
		for t := 0; t < j; t++ {
			s -= a[j*k+t] * a[j*k+t]
		}
		if s <= 0 {
			s = 1e-300
		}
		a[j*k+j] = math.Sqrt(s)
		for i := j + 1; i < k; i++ {
			v := a[i*k+j]
			for t := 0; t < j; t++ {
				v -= a[i*k+t] * a[j*k+t]
			}
			a[i*k+j] = v / a[j*k+j]
		}
	}
	// Forward solve L y = b; b^T A^-1 b = |y|^2.
	y := tmp[:k]
	var q float64
	for i := 0; i < k; i++ {
		v := b[i]
		for t := 0; t < i; t++ {
			v -= a[i*k+t] * y[t]
		}
		y[i] = v / a[i*k+i]
		q += y[i] * y[i]
	}
	return q
}

// scratchSize is the scratch length mahalanobis needs.
func scratchSize(k, c int) int { return k*c + c + 2*k*k + 2*k }

// objectMap writes the Mahalanobis distance of every pixel of query object
// qi against its partner objects (partners[r] in refs[r], -1 = none) into
// out (the map grid), multiplied by weight (1 / the partners' scale), and
// returns the object's maximum. The reference
// features outside the partner's mask are zero (mask x features, 3.4.3).
func objectMap(q *view, qi int, refs []*view, partners []int, align string, eps float64, weight float32, out []float32) float32 {
	o := q.Objects[qi]
	k := len(refs)
	s := ammScratches.Get().(*ammScratch)
	defer ammScratches.Put(s)
	s.size(k, q.C)
	zero, sc, rv, xf := s.zero, s.sc, s.rv, s.xf
	for r, ref := range refs {
		xf[r] = xform{sx: 1, sy: 1}
		if partners[r] < 0 {
			continue
		}
		p := ref.Objects[partners[r]]
		switch align {
		case AlignCentroid:
			xf[r].ox, xf[r].oy = float64(p.CX-o.CX), float64(p.CY-o.CY)
		case AlignBox:
			xf[r].sx = float64(p.Box.Dx()) / float64(o.Box.Dx())
			xf[r].sy = float64(p.Box.Dy()) / float64(o.Box.Dy())
			xf[r].ox = float64(p.Box.Min.X) - float64(o.Box.Min.X)*xf[r].sx
			xf[r].oy = float64(p.Box.Min.Y) - float64(o.Box.Min.Y)*xf[r].sy
		}
	}
	if align == AlignNN {
		return objectMapNN(q, qi, refs, partners, eps, weight, out, s)
	}
	var mx float32
	lab := uint16(qi + 1)
	for y := o.Box.Min.Y; y < o.Box.Max.Y; y++ {
		for x := o.Box.Min.X; x < o.Box.Max.X; x++ {
			if q.Labels[y*q.W+x] != lab {
				continue
			}
			for r, ref := range refs {
				rv[r] = zero
				if partners[r] < 0 {
					continue
				}
				rx := int(math.Round((float64(x)+0.5)*xf[r].sx + xf[r].ox - 0.5))
				ry := int(math.Round((float64(y)+0.5)*xf[r].sy + xf[r].oy - 0.5))
				if (image.Point{rx, ry}).In(image.Rect(0, 0, ref.W, ref.H)) && ref.Labels[ry*ref.W+rx] == uint16(partners[r]+1) {
					rv[r] = ref.at(rx, ry)
				}
			}
			m := weight * float32(mahalanobis(q.at(x, y), rv, eps, sc))
			out[y*q.W+x] = m
			mx = max(mx, m)
		}
	}
	return mx
}

// objectMapNN is objectMap with AlignNN.
func objectMapNN(q *view, qi int, refs []*view, partners []int, eps float64, weight float32, out []float32, s *ammScratch) float32 {
	o := q.Objects[qi]
	lab := uint16(qi + 1)
	zero, sc, rv := s.zero, s.sc, s.rv
	// Candidate feature vectors of each partner object.
	cands := s.cands
	for r, ref := range refs {
		if partners[r] < 0 {
			continue
		}
		p := ref.Objects[partners[r]]
		pl := uint16(partners[r] + 1)
		for y := p.Box.Min.Y; y < p.Box.Max.Y; y += nnRefStep {
			for x := p.Box.Min.X; x < p.Box.Max.X; x += nnRefStep {
				if ref.Labels[y*ref.W+x] == pl {
					cands[r] = append(cands[r], ref.at(x, y))
				}
			}
		}
	}
	var mx float32
	for y := o.Box.Min.Y; y < o.Box.Max.Y; y += nnQueryStep {
		for x := o.Box.Min.X; x < o.Box.Max.X; x += nnQueryStep {
			// The block's representative: its first pixel inside the object.
			px, py := -1, -1
			for dy := 0; dy < nnQueryStep && py < 0; dy++ {
				for dx := 0; dx < nnQueryStep; dx++ {
					if yy, xx := y+dy, x+dx; yy < o.Box.Max.Y && xx < o.Box.Max.X && q.Labels[yy*q.W+xx] == lab {
						px, py = xx, yy
						break
					}
				}
			}
			if px < 0 {
				continue
			}
			f := q.at(px, py)
			for r := range refs {
				rv[r] = zero
				best := float32(math.Inf(1))
				for _, c := range cands[r] {
					if d := sqDistBelow(f, c, best); d < best {
						best, rv[r] = d, c
					}
				}
			}
			m := weight * float32(mahalanobis(f, rv, eps, sc))
			mx = max(mx, m)
			for dy := 0; dy < nnQueryStep; dy++ {
				for dx := 0; dx < nnQueryStep; dx++ {
					if yy, xx := y+dy, x+dx; yy < o.Box.Max.Y && xx < o.Box.Max.X && q.Labels[yy*q.W+xx] == lab {
						out[yy*q.W+xx] = m
					}
				}
			}
		}
	}
	return mx
}

// xform maps query grid positions onto a reference object (rigid alignments).
type xform struct{ ox, oy, sx, sy float64 }

// ammScratch is objectMap's working memory, reused across objects and
// frames so the structural maps allocate nothing in the steady state.
type ammScratch struct {
	zero  []float32 // stays all zero: the feature outside a partner
	sc    []float64
	rv    [][]float32
	xf    []xform
	cands [][][]float32 // per reference; emptied, capacity kept
}

var ammScratches = sync.Pool{New: func() any { return new(ammScratch) }}

// size prepares s for k references of c channels.
func (s *ammScratch) size(k, c int) {
	if cap(s.zero) < c {
		s.zero = make([]float32, c)
	}
	s.zero = s.zero[:c]
	if n := scratchSize(k, c); cap(s.sc) < n {
		s.sc = make([]float64, n)
	}
	s.sc = s.sc[:scratchSize(k, c)]
	if cap(s.rv) < k {
		s.rv, s.xf = make([][]float32, k), make([]xform, k)
	}
	s.rv, s.xf = s.rv[:k], s.xf[:k]
	clear(s.xf)
	for len(s.cands) < k {
		s.cands = append(s.cands, nil)
	}
	s.cands = s.cands[:k]
	for r := range s.cands {
		s.cands[r] = s.cands[r][:0]
	}
}

// sqDistBelow is the squared distance of a and b, or any value >= bound
// once the partial sum exceeds it (early exit of the nearest-neighbour
// search).
func sqDistBelow(a, b []float32, bound float32) float32 {
	var s float32
	for i := 0; i < len(a); i += 8 {
		end := min(i+8, len(a))
		for j := i; j < end; j++ {
			d := a[j] - b[j]
			s += d * d
		}
		if s >= bound {
			return s
		}
	}
	return s
}
