package onnx

import (
	"math"
	"testing"
)

// TestPoolValid: SAM's embeddings of a non-square frame have padding cells
// below (or right of) the frame; pooling must read only the frame's cells.
// A 2-channel 8 x 8 map whose valid top-left 8 x 5 cells hold the channel
// value plus 0.1 x + 0.01 y and whose padding holds 100, pooled to 4 x 4:
// each output is the mean of its footprint in the valid part.
func TestPoolValid(t *testing.T) {
	const c, e, g = 2, 8, 4
	const vw, vh = 8.0, 5.0
	src := make([]float32, c*e*e)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < e; y++ {
			for x := 0; x < e; x++ {
				v := float32(100)
				if y < 5 {
					v = float32(ch) + 0.1*float32(x) + 0.01*float32(y)
				}
				src[ch*e*e+y*e+x] = v
			}
		}
	}
	dst := make([]float32, c*g*g)
	poolValid(dst, src, c, e, e, g, g, vw, vh)
	for ch := 0; ch < c; ch++ {
		for gy := 0; gy < g; gy++ {
			for gx := 0; gx < g; gx++ {
				// x footprint [2gx, 2gx+2): mean x = 2gx+0.5; y footprint
				// [1.25gy, 1.25gy+1.25) in cells, weighted
				y0, y1 := 1.25*float64(gy), 1.25*float64(gy+1)
				var sy, wy float64
				for y := int(y0); float64(y) < y1; y++ {
					w := math.Min(y1, float64(y+1)) - math.Max(y0, float64(y))
					sy += w * float64(y)
					wy += w
				}
				want := float64(ch) + 0.1*(2*float64(gx)+0.5) + 0.01*sy/wy
				got := float64(dst[ch*g*g+gy*g+gx])
				if math.Abs(got-want) > 1e-4 {
					t.Fatalf("channel %d cell (%d,%d) = %.4f, want %.4f (padding read, or x and y swapped)", ch, gx, gy, got, want)
				}
			}
		}
	}
}
