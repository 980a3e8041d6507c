package infer

import "math"

// The place term: each feature cell of the frame, averaged with its 3x3
// neighbours, against the retrieved references' averaged cells around the
// same place (within patchWindow). The patch memory searches every good
// cell, so it forgives a part of the wrong kind in a fixed place (two
// parts swapped, a flipped or substituted part): it holds that kind
// elsewhere. The place term does not. Averaging over the neighbourhood
// compares what surrounds a place rather than one cell, so a part that
// sits a few pixels off between good images still finds itself.

// placeScore returns the raw term (the largest distance over the frame's
// averaged cells q, HWC on pr's grid, to the references near at their
// place) and leaves the per-cell distances in s.local.
func placeScore(pr *patchRefs, q []float32, near []int, s *patchScratch) float64 {
	c, h, w := pr.c, pr.h, pr.w
	s.local = grown(s.local, h*w)
	var top float32
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			s.local[i] = float32(math.Sqrt(float64(pr.nearestAround(pr.near, q[i*c:(i+1)*c], x, y, near))))
			top = max(top, s.local[i])
		}
	}
	return float64(top)
}

// neighbourhoods returns the c-channel cells of an h x w HWC grid, each
// averaged with its 3x3 neighbours inside the grid, in dst.
func neighbourhoods(cells []float32, c, h, w int, dst []float32) []float32 {
	dst = grown(dst, len(cells))
	clear(dst)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out := dst[(y*w+x)*c : (y*w+x+1)*c]
			n := 0
			for yy := max(0, y-1); yy <= min(h-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(w-1, x+1); xx++ {
					for k, v := range cells[(yy*w+xx)*c : (yy*w+xx+1)*c] {
						out[k] += v
					}
					n++
				}
			}
			inv := 1 / float32(n)
			for k := range out {
				out[k] *= inv
			}
		}
	}
	return dst
}
