package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// texturedScene is a scene with smooth shading, sharp parts and pixel noise,
// so every channel family (colour, gradients, texture) is exercised.
func texturedScene(w, h int, seed int64) *infer.Image {
	rng := rand.New(rand.NewSource(seed))
	img := scene(w, h, testParts...)
	n := w * h
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			shade := 0.1 * float32(math.Sin(float64(x)/9)*math.Cos(float64(y)/13))
			for c := 0; c < 3; c++ {
				v := img.Pix[c*n+i] + shade + 0.05*float32(rng.NormFloat64())
				img.Pix[c*n+i] = min(max(v, 0), 1)
			}
		}
	}
	return img
}

func TestBuiltinFeaturesAsONNXMatchGo(t *testing.T) {
	rt := config.DefaultRuntime()
	rt.Library = ortLibrary(t)
	rt.Threads = 1
	for _, size := range []int{224, 232} {
		stage, err := NewFeatureStage(rt, builtinManifest, size)
		if err != nil {
			t.Fatal(err)
		}
		img := texturedScene(size, size, int64(size))
		got, err := stage.Extract(img)
		stage.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, err := builtin.NewFeatures(1).Extract(img)
		if err != nil {
			t.Fatal(err)
		}
		if got.C != want.C || got.H != want.H || got.W != want.W || stage.Stride() != builtin.FeatureStride {
			t.Fatalf("size %d: ONNX %dx%dx%d, Go %dx%dx%d", size, got.C, got.H, got.W, want.C, want.H, want.W)
		}
		plane := got.H * got.W
		worst, worstC := 0.0, 0
		for i := range got.Data {
			d := math.Abs(float64(got.Data[i] - want.Data[i]))
			if d > worst {
				worst, worstC = d, i/plane
			}
		}
		t.Logf("size %d: max |ONNX - Go| = %.2g (channel %d)", size, worst, worstC)
		if worst > 1e-4 {
			t.Errorf("size %d: features differ by %.3g at channel %d (tolerance 1e-4)", size, worst, worstC)
		}
	}
}
