package builtin

import (
	"math"
	"testing"

	"github.com/samlad/samlad/infer"
)

func upsamplers() map[string]infer.Upsampler {
	return map[string]infer.Upsampler{"jbu": NewJBU(0), "bilinear": NewBilinear(0)}
}

func TestUpsampleShapesAndIdentity(t *testing.T) {
	img, _, _ := partsScene(224, 1)
	fm, err := NewFeatures(0).Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	for name, up := range upsamplers() {
		for _, factor := range []int{1, 2, 4, 8} {
			out, err := up.Upsample(img, fm, factor)
			if err != nil {
				t.Fatalf("%s x%d: %v", name, factor, err)
			}
			if out.C != fm.C || out.H != 28*factor || out.W != 28*factor || len(out.Data) != fm.C*out.H*out.W {
				t.Fatalf("%s x%d: shape %dx%dx%d, want %dx%dx%d", name, factor, out.C, out.H, out.W, fm.C, 28*factor, 28*factor)
			}
			if factor == 1 {
				for i := range fm.Data {
					if out.Data[i] != fm.Data[i] {
						t.Fatalf("%s x1 changes value %d", name, i)
					}
				}
				if &out.Data[0] == &fm.Data[0] {
					t.Fatalf("%s x1 returns the input's storage", name)
				}
			}
		}
	}
}

func TestUpsampleKeepsConstantsAndRange(t *testing.T) {
	img, _, _ := partsScene(224, 4)
	fm := &infer.FeatureMap{C: 2, H: 28, W: 28, Data: make([]float32, 2*28*28)}
	for i := range 28 * 28 {
		fm.Data[i] = 0.7                          // constant channel
		fm.Data[28*28+i] = float32(i%28)/27*2 - 1 // ramp in [-1,1]
	}
	for name, up := range upsamplers() {
		for _, factor := range []int{2, 4, 8} {
			out, err := up.Upsample(img, fm, factor)
			if err != nil {
				t.Fatal(err)
			}
			plane := out.H * out.W
			for i := range plane {
				if math.Abs(float64(out.Data[i])-0.7) > 1e-5 {
					t.Fatalf("%s x%d: constant 0.7 becomes %v", name, factor, out.Data[i])
				}
				if v := out.Data[plane+i]; v < -1-1e-5 || v > 1+1e-5 {
					t.Fatalf("%s x%d: ramp value %v leaves [-1,1]", name, factor, v)
				}
			}
		}
	}
}

// edgeScene is a disc (and a bar) over a grainy background with the matching
// high-resolution feature: 1 inside the objects, 0 outside.
func edgeScene(size int) (*infer.Image, []float32) {
	img, gt := texturedScene(size, size, 11, []shape{
		{kind: "disc", cx: 0.41 * float64(size), cy: 0.45 * float64(size), r: 0.23 * float64(size), col: rgb{0.25, 0.3, 0.75}},
		{kind: "rect", cx: 0.75 * float64(size), cy: 0.7 * float64(size), r: 0.2 * float64(size), angle: 1.0, col: rgb{0.9, 0.85, 0.8}},
	})
	truth := make([]float32, size*size)
	for _, g := range gt {
		for i, v := range g {
			truth[i] = max(truth[i], float32(v))
		}
	}
	return img, truth
}

// areaDown averages a size x size plane over s x s blocks.
func areaDown(p []float32, size, s int) []float32 {
	n := size / s
	out := make([]float32, n*n)
	for y := range size {
		for x := range size {
			out[(y/s)*n+x/s] += p[y*size+x] / float32(s*s)
		}
	}
	return out
}

func TestJBUPreservesEdgesBetterThanBilinear(t *testing.T) {
	const size = 224
	img, truth := edgeScene(size)
	low := &infer.FeatureMap{C: 1, H: size / 8, W: size / 8, Data: areaDown(truth, size, 8)}
	for _, factor := range []int{2, 4, 8} {
		want := areaDown(truth, size, 8/factor)
		rmse := func(up infer.Upsampler) float64 {
			out, err := up.Upsample(img, low, factor)
			if err != nil {
				t.Fatal(err)
			}
			var s float64
			for i, v := range out.Data {
				s += float64(v-want[i]) * float64(v-want[i])
			}
			return math.Sqrt(s / float64(len(want)))
		}
		j, b := rmse(NewJBU(0)), rmse(NewBilinear(0))
		t.Logf("x%d: RMSE against the true mask: JBU %.4f, bilinear %.4f (ratio %.2f)", factor, j, b, j/b)
		if j > 0.6*b {
			t.Errorf("x%d: JBU RMSE %.4f is not below 0.6 x bilinear %.4f", factor, j, b)
		}
	}
}

func TestJBUDeterministicAcrossWorkers(t *testing.T) {
	img, _, _ := partsScene(224, 2)
	fm, _ := NewFeatures(0).Extract(img)
	a, err := NewJBU(1).Upsample(img, fm, 8)
	if err != nil {
		t.Fatal(err)
	}
	up := NewJBU(3)
	for range 2 { // the second call reuses scratch buffers
		b, err := up.Upsample(img, fm, 8)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				t.Fatalf("value %d: %v with 1 worker, %v with 3", i, a.Data[i], b.Data[i])
			}
		}
	}
}

func TestUpsampleGuidanceNotMultiple(t *testing.T) {
	// A 230x236 image guiding a 28x28 map (cells of 8 px, the rest unused),
	// and a 14 px grid as an ONNX backbone would give.
	img, _ := texturedScene(230, 236, 5, []shape{{kind: "disc", cx: 100, cy: 100, r: 40, col: rgb{1, 0, 0}}})
	for _, grid := range []int{28, 16} {
		fm := &infer.FeatureMap{C: 3, H: grid, W: grid, Data: make([]float32, 3*grid*grid)}
		for name, up := range upsamplers() {
			out, err := up.Upsample(img, fm, 8)
			if err != nil || out.H != grid*8 || out.W != grid*8 {
				t.Fatalf("%s grid %d: %v", name, grid, err)
			}
		}
	}
}

func TestUpsampleBadInput(t *testing.T) {
	img, _, _ := partsScene(64, 1)
	fm, _ := NewFeatures(0).Extract(img)
	for name, up := range upsamplers() {
		for _, factor := range []int{0, 3, -2, 16} {
			if _, err := up.Upsample(img, fm, factor); err == nil {
				t.Errorf("%s factor %d: no error", name, factor)
			} else {
				t.Logf("%s: %v", name, err)
			}
		}
		cases := map[string]struct {
			img *infer.Image
			fm  *infer.FeatureMap
		}{
			"nil image":      {nil, fm},
			"empty image":    {&infer.Image{}, fm},
			"nil features":   {img, nil},
			"empty features": {img, &infer.FeatureMap{}},
			"short features": {img, &infer.FeatureMap{C: 2, H: 8, W: 8, Data: make([]float32, 10)}},
			"image smaller":  {newImage(4, 4, func(x, y int) rgb { return rgb{} }), fm},
		}
		for cname, c := range cases {
			if _, err := up.Upsample(c.img, c.fm, 2); err == nil {
				t.Errorf("%s %s: no error", name, cname)
			}
		}
	}
}

// hwcUpsampler is the pixel-major entry point both upsamplers offer.
type hwcUpsampler interface {
	UpsampleHWC(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int) ([]float32, error)
}

func TestUpsampleHWCMatchesPlanar(t *testing.T) {
	img, _, _ := partsScene(224, 3)
	fm, _ := NewFeatures(0).Extract(img)
	for name, up := range upsamplers() {
		hwc := up.(hwcUpsampler)
		var buf []float32
		for _, factor := range []int{1, 2, 4, 8} {
			planar, err := up.Upsample(img, fm, factor)
			if err != nil {
				t.Fatal(err)
			}
			if buf, err = hwc.UpsampleHWC(buf, img, fm, factor); err != nil {
				t.Fatal(err)
			}
			n := planar.H * planar.W
			for c := range planar.C {
				for i := range n {
					a, b := planar.Data[c*n+i], buf[i*planar.C+c]
					if math.Abs(float64(a-b)) > 1e-5 {
						t.Fatalf("%s x%d channel %d pixel %d: planar %v, pixel-major %v", name, factor, c, i, a, b)
					}
				}
			}
		}
		if _, err := hwc.UpsampleHWC(nil, img, fm, 3); err == nil {
			t.Errorf("%s: factor 3 accepted", name)
		}
	}
}

// maskedUpsampler is the masked pixel-major entry point both upsamplers offer.
type maskedUpsampler interface {
	UpsampleHWCMasked(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int, mask []uint8) ([]float32, error)
}

// objectMask is the union of a scene's ground-truth object masks.
func objectMask(gt [][]uint8) []uint8 {
	m := make([]uint8, len(gt[0]))
	for _, g := range gt {
		for i, v := range g {
			m[i] |= v
		}
	}
	return m
}

func TestUpsampleHWCMaskedMatchesInsideZeroOutside(t *testing.T) {
	img, gt, _ := partsScene(224, 6)
	fm, _ := NewFeatures(0).Extract(img)
	full := objectMask(gt)
	for name, up := range upsamplers() {
		mu := up.(maskedUpsampler)
		for _, factor := range []int{1, 2, 4, 8} {
			side := 28 * factor
			mask := areaDownMask(full, 224, 224/side)
			want, err := mu.UpsampleHWCMasked(nil, img, fm, factor, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Pre-fill dst with garbage: the masked call must overwrite all of it.
			dst := make([]float32, len(want))
			for i := range dst {
				dst[i] = 42
			}
			got, err := mu.UpsampleHWCMasked(dst, img, fm, factor, mask)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				if w := want[i]; (mask[i/fm.C] != 0 && v != w) || (mask[i/fm.C] == 0 && v != 0) {
					t.Fatalf("%s x%d pixel %d (mask %d): got %v, want %v", name, factor, i/fm.C, mask[i/fm.C], v, w)
				}
			}
			if _, err := mu.UpsampleHWCMasked(nil, img, fm, factor, mask[:len(mask)-1]); err == nil {
				t.Errorf("%s x%d: short mask accepted", name, factor)
			}
		}
	}
}

// areaDownMask marks an s x s block when any of its pixels is set.
func areaDownMask(m []uint8, size, s int) []uint8 {
	n := size / s
	out := make([]uint8, n*n)
	for i, v := range m {
		if v != 0 {
			out[(i/size/s)*n+(i%size)/s] = 1
		}
	}
	return out
}
