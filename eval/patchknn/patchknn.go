// Package patchknn is the PatchCore-style baseline of samlad eval: a memory
// of the good images' patch features and, per query patch, the distance to
// its nearest neighbour in that memory (Roth et al., CVPR 2022). It works on
// the same backend feature maps as the SAM-LAD engine, so a side-by-side
// table compares the methods, not the features.
//
// As in PatchCore, each patch feature is first averaged over its 3x3
// neighbourhood (local context), and the memory can be thinned by greedy
// k-center coreset selection. Departures: channels are standardised by the
// good images' mean and spread (the built-in features mix colour, gradient
// and texture channels of very different scales, and the engine standardises
// them the same way), and the image score is the plain maximum of the patch
// scores, without PatchCore's neighbourhood reweighting.
package patchknn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/samlad/samlad/infer"
)

// Options configures Fit.
type Options struct {
	// Coreset is the fraction of patches kept by greedy k-center selection;
	// 0 or 1 keeps every patch.
	Coreset float64
	// Workers bounds the goroutines of the search; 0 = number of CPUs.
	Workers int
}

// Model is the fitted patch memory.
type Model struct {
	c, h, w      int
	mean, inv    []float32
	mem          []float32 // n x c, row-major
	memSq        []float32 // squared norms of mem rows
	n            int
	workers      int
	totalPatches int
}

// Fit builds the memory from the good images' feature maps (all of one shape).
func Fit(feats []*infer.FeatureMap, o Options) (*Model, error) {
	if len(feats) == 0 {
		return nil, errors.New("patch knn: no good images to fit")
	}
	if o.Coreset < 0 || o.Coreset > 1 {
		return nil, fmt.Errorf("patch knn: coreset fraction %g must be in [0,1]", o.Coreset)
	}
	f0 := feats[0]
	m := &Model{c: f0.C, h: f0.H, w: f0.W, workers: o.Workers}
	if m.workers <= 0 {
		m.workers = runtime.NumCPU()
	}
	for i, f := range feats {
		if f == nil || f.C != m.c || f.H != m.h || f.W != m.w || len(f.Data) != f.C*f.H*f.W {
			return nil, fmt.Errorf("patch knn: good image %d: feature map does not match %dx%dx%d", i, m.c, m.h, m.w)
		}
	}
	m.mean, m.inv = channelStats(feats)
	hw := m.h * m.w
	all := make([]float32, 0, len(feats)*hw*m.c)
	for _, f := range feats {
		all = append(all, m.patches(f)...)
	}
	m.totalPatches = len(all) / m.c
	if o.Coreset > 0 && o.Coreset < 1 {
		keep := max(1, int(math.Round(o.Coreset*float64(m.totalPatches))))
		all = m.coreset(all, keep)
	}
	m.mem = all
	m.n = len(all) / m.c
	m.memSq = make([]float32, m.n)
	for i := range m.n {
		m.memSq[i] = dot(all[i*m.c:(i+1)*m.c], all[i*m.c:(i+1)*m.c])
	}
	return m, nil
}

// Size returns the number of patches kept in memory and before the coreset.
func (m *Model) Size() (kept, total int) { return m.n, m.totalPatches }

// channelStats is the per-channel mean and inverse standard deviation.
func channelStats(feats []*infer.FeatureMap) (mean, inv []float32) {
	c, hw := feats[0].C, feats[0].H*feats[0].W
	mean, inv = make([]float32, c), make([]float32, c)
	for ch := range c {
		var s, sq float64
		for _, f := range feats {
			for _, v := range f.Data[ch*hw : (ch+1)*hw] {
				s += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		n := float64(len(feats) * hw)
		mu := s / n
		mean[ch] = float32(mu)
		inv[ch] = float32(1 / max(math.Sqrt(max(sq/n-mu*mu, 0)), 1e-4))
	}
	return mean, inv
}

// patches returns the standardised, 3x3-averaged patch features of f as
// H*W rows of C values.
func (m *Model) patches(f *infer.FeatureMap) []float32 {
	c, h, w := m.c, m.h, m.w
	hw := h * w
	out := make([]float32, hw*c)
	for ch := range c {
		plane := f.Data[ch*hw : (ch+1)*hw]
		mu, s := m.mean[ch], m.inv[ch]
		for y := range h {
			for x := range w {
				var sum float32
				var n int
				for dy := -1; dy <= 1; dy++ {
					yy := y + dy
					if yy < 0 || yy >= h {
						continue
					}
					for dx := -1; dx <= 1; dx++ {
						xx := x + dx
						if xx < 0 || xx >= w {
							continue
						}
						sum += plane[yy*w+xx]
						n++
					}
				}
				out[(y*w+x)*c+ch] = (sum/float32(n) - mu) * s
			}
		}
	}
	return out
}

// coreset keeps n rows by greedy k-center (farthest point first), starting
// from row 0, as PatchCore's coreset subsampling does.
func (m *Model) coreset(rows []float32, n int) []float32 {
	c := m.c
	total := len(rows) / c
	dist := make([]float32, total)
	for i := range dist {
		dist[i] = float32(math.Inf(1))
	}
	out := make([]float32, 0, n*c)
	last := 0
	for len(out)/c < n {
		out = append(out, rows[last*c:(last+1)*c]...)
		lr := rows[last*c : (last+1)*c]
		best := m.parallelArgmax(total, func(i int) float32 {
			d := min(dist[i], sqDist(rows[i*c:(i+1)*c], lr))
			dist[i] = d
			return d
		})
		if dist[best] == 0 {
			break // every patch is already in the coreset
		}
		last = best
	}
	return out
}

// parallelArgmax evaluates f(i) for i < n on the workers and returns the
// index of the largest value (the lowest index among equals).
func (m *Model) parallelArgmax(n int, f func(i int) float32) int {
	chunks := min(m.workers, n)
	bestI := make([]int, chunks)
	bestV := make([]float32, chunks)
	var wg sync.WaitGroup
	for w := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := w*n/chunks, (w+1)*n/chunks
			bestI[w], bestV[w] = lo, -1
			for i := lo; i < hi; i++ {
				if v := f(i); v > bestV[w] {
					bestI[w], bestV[w] = i, v
				}
			}
		}()
	}
	wg.Wait()
	best := 0
	for w := range chunks {
		if bestV[w] > bestV[best] {
			best = w
		}
	}
	return bestI[best]
}

// Score returns the patch-level anomaly map (H x W, distance to the nearest
// memory patch) and the image score (its maximum).
func (m *Model) Score(f *infer.FeatureMap) ([]float32, float64, error) {
	if f == nil || f.C != m.c || f.H != m.h || f.W != m.w || len(f.Data) != f.C*f.H*f.W {
		return nil, 0, fmt.Errorf("patch knn: query feature map does not match the fitted %dx%dx%d", m.c, m.h, m.w)
	}
	q := m.patches(f)
	hw := m.h * m.w
	out := make([]float32, hw)
	var wg sync.WaitGroup
	chunks := min(m.workers, hw)
	for w := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := w * hw / chunks; p < (w+1)*hw/chunks; p++ {
				out[p] = m.nearest(q[p*m.c : (p+1)*m.c])
			}
		}()
	}
	wg.Wait()
	var best float32
	for _, v := range out {
		best = max(best, v)
	}
	return out, float64(best), nil
}

// nearest is the Euclidean distance from v to its nearest memory row.
func (m *Model) nearest(v []float32) float32 {
	vq := dot(v, v)
	best := float32(math.Inf(1))
	c := m.c
	for i := range m.n {
		d := vq + m.memSq[i] - 2*dot(v, m.mem[i*c:(i+1)*c])
		if d < best {
			best = d
		}
	}
	return float32(math.Sqrt(float64(max(best, 0))))
}

func dot(a, b []float32) float32 {
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
	return s0 + s1 + s2 + s3
}

func sqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, v := range a {
		d := v - b[i]
		s += d * d
	}
	return s
}
