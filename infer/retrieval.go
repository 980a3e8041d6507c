package infer

import "sort"

// globalVector is the retrieval key of a feature map: the flattened
// standardised features after 2x2 average pooling. The paper flattens the
// raw map; pooling keeps the Euclidean distance of eq. 2 but makes it
// tolerant to one-cell shifts of the part and halves the bank's key size.
func globalVector(f *FeatureMap) []float32 {
	h2, w2 := (f.H+1)/2, (f.W+1)/2
	out := make([]float32, f.C*h2*w2)
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

func sqDist(a, b []float32) float32 {
	var s float32
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
