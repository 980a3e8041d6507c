package onnx

import (
	"image"
	"math"
	"testing"

	"github.com/samlad/samlad/infer"
)

// Contract tests on the fixture models with non-square frames and
// asymmetric inputs: a transposed point (x <-> y) or feature layout
// (HWC for CHW, H <-> W) cannot pass them.

// TestSegmentFrameNonSquarePrompt prompts SAM on a 320 x 200 frame at a point
// of the red part, which lies where its transpose is off the frame: the mask
// on the 224 x 224 grid must be the red part, mapped to the grid.
func TestSegmentFrameNonSquarePrompt(t *testing.T) {
	b := newFixtureBackend(t)
	s := b.Stages().Segmenter.(*sam)
	parts := []rect{
		{210, 20, 300, 80, 0.9, 0.1, 0.1},  // red, top right
		{20, 110, 120, 190, 0.1, 0.2, 0.9}, // blue, bottom left
	}
	frame := scene(320, 200, parts...)
	const grid = 224
	masks, err := s.MasksAt(frame, [][2]float32{{255, 50}, {70, 150}}, grid, grid)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		// the part's pixels on the grid: grid pixel centres inside the part
		want := make([]uint8, grid*grid)
		for y := 0; y < grid; y++ {
			fy := (float64(y) + 0.5) * 200 / grid
			for x := 0; x < grid; x++ {
				fx := (float64(x) + 0.5) * 320 / grid
				if fx >= float64(p.x0) && fx < float64(p.x1) && fy >= float64(p.y0) && fy < float64(p.y1) {
					want[y*grid+x] = 1
				}
			}
		}
		if iou := bitsIoU(masks[i].Bits, want); iou < 0.8 {
			t.Errorf("part %d: mask IoU with the part on the grid %.2f, want >= 0.8", i, iou)
		}
	}
	// The automatic path on the same frame finds both parts too.
	all, err := s.SegmentFrame(frame, grid, grid)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		r := image.Rect(p.x0*grid/320, p.y0*grid/200, p.x1*grid/320, p.y1*grid/200)
		best := 0.0
		for _, m := range all {
			best = math.Max(best, maskIoU(m, r))
		}
		if best < 0.8 {
			t.Errorf("automatic masks: part %d best IoU %.2f, want >= 0.8 (%d masks)", i, best, len(all))
		}
	}
}

// TestUpsamplerFeatureLayout feeds the fixture FeatUp an asymmetric C x H x W
// map, f[c,y,x] = c + 0.1 x + 0.37 y, on a uniform image: the upsampled map
// minus the one of a zero map (the image-guided term) must be the bilinear
// 2x of f, which keeps a linear function exactly away from the border.
func TestUpsamplerFeatureLayout(t *testing.T) {
	b := newFixtureBackend(t)
	up := b.Stages().Upsampler
	img := scene(224, 224)
	const c, n = 16, 16
	f := &infer.FeatureMap{C: c, H: n, W: n, Data: make([]float32, c*n*n)}
	zero := &infer.FeatureMap{C: c, H: n, W: n, Data: make([]float32, c*n*n)}
	for ch := 0; ch < c; ch++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				f.Data[ch*n*n+y*n+x] = float32(ch) + 0.1*float32(x) + 0.37*float32(y)
			}
		}
	}
	a, err := up.Upsample(img, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	z, err := up.Upsample(img, zero, 2)
	if err != nil {
		t.Fatal(err)
	}
	const m = 2 * n
	for ch := 0; ch < c; ch++ {
		for y := 2; y < m-2; y++ {
			for x := 2; x < m-2; x++ {
				i := ch*m*m + y*m + x
				got := a.Data[i] - z.Data[i]
				// output pixel centre (x+0.5)/2-0.5 in input cells
				want := float32(ch) + 0.1*(float32(x)/2-0.25) + 0.37*(float32(y)/2-0.25)
				if math.Abs(float64(got-want)) > 1e-3 {
					t.Fatalf("channel %d at (%d,%d): %.4f, want %.4f (feature layout is C x H x W, row-major)", ch, x, y, got, want)
				}
			}
		}
	}
}
