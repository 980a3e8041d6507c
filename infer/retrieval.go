package infer

import (
	"math"
	"sort"
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

// nearestRefs returns the indices of the k references whose global vectors
// are closest to q (squared Euclidean, eq. 2), nearest first. skip (>= 0)
// excludes one reference, for leave-one-out.
func nearestRefs(refs []Reference, q []float32, k, skip int) []int {
	type cand struct {
		i int
		d float32
	}
	cs := make([]cand, 0, len(refs))
	for i := range refs {
		if i == skip {
			continue
		}
		cs = append(cs, cand{i, sqDist(refs[i].Global, q)})
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].d < cs[b].d || (cs[a].d == cs[b].d && cs[a].i < cs[b].i) })
	k = min(k, len(cs))
	out := make([]int, k)
	for j := 0; j < k; j++ {
		out[j] = cs[j].i
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
